//! The domain model: workers, openings, households and the rules they obey.
//!
//! Nothing here knows about gRPC, sled or rayon; the API converts wire types
//! into these, the store persists them, and matching reads them.

pub mod access;
mod error;
pub mod identity;
mod kinds;
pub mod lang;
mod opening;
pub mod placement;
pub mod policy;
pub mod query;
pub mod regions;
pub mod rules;
pub mod run;
pub mod scoped;
pub mod words;
mod worker;

pub use error::{Reason, Validated, ValidationError};
pub use identity::IdKey;
pub use kinds::{
    Education, EmploymentStatus, Gender, LabourCapacity, Mobility, OpeningStatus, PhysicalDemand,
    Source,
};
pub use lang::Lang;
pub use opening::{Opening, DEFAULT_AGE_RANGE, MAX_HEADCOUNT};
pub use worker::{PlacementLink, Preferences, Worker, MAX_WORKING_AGE, MIN_WORKING_AGE};

/// A WGS-84 point in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

impl GeoPoint {
    /// Checks that the point lies in China's bounding box.
    pub fn validate(&self) -> Validated<()> {
        rules::check_latitude(self.lat).map_err(|r| ValidationError::new("lat", r))?;
        rules::check_longitude(self.lon).map_err(|r| ValidationError::new("lon", r))
    }
}

/// A skill or certificate a worker has, with its level 1-5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    /// Skill code.
    pub code: String,
    /// Level 1-5.
    pub level: u32,
}

/// A skill an opening asks for, with the lowest acceptable level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRequirement {
    /// Skill code.
    pub code: String,
    /// Lowest acceptable level, 1-5.
    pub min_level: u32,
}

/// A household as seen through its registered members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    /// Household id.
    pub id: String,
    /// Member worker ids, in id order.
    pub worker_ids: Vec<String>,
    /// Members in work.
    pub employed: u32,
    /// Members seeking work.
    pub seeking: u32,
    /// Members who accepted an offer and have not started.
    pub placed: u32,
}

impl Household {
    /// Counts one member with employment status `status` (the unavailable
    /// count towards nothing: they are not labour for now).
    pub fn add_member(&mut self, worker_id: String, status: EmploymentStatus) {
        match status {
            EmploymentStatus::Employed => self.employed += 1,
            EmploymentStatus::Seeking => self.seeking += 1,
            EmploymentStatus::Placed => self.placed += 1,
            EmploymentStatus::Unavailable => {}
        }
        self.worker_ids.push(worker_id);
    }

    /// A household with labour where nobody works (零就业家庭): someone
    /// seeks work or waits to start, and nobody is employed.
    pub fn zero_employment(&self) -> bool {
        self.seeking + self.placed > 0 && self.employed == 0
    }
}

/// The current calendar year in China (UTC+8), for age rules.
pub fn current_year() -> i32 {
    use chrono::Datelike;
    (chrono::Utc::now() + chrono::Duration::hours(8)).year()
}
