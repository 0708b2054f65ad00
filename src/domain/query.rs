//! What a listing or a write asks of the records, as every face states it
//! and the store answers it: the filters of a listing, a page of it, and
//! whether a put may replace a record. Plain data, in the domain so that
//! the faces (gRPC, console, CLI) need nothing from the store's surface.

use super::placement::PlacementStatus;
use super::{EmploymentStatus, OpeningStatus, Source};

/// Filters of a worker listing; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WorkerFilter {
    /// County code.
    pub county_code: Option<String>,
    /// Resettlement site id.
    pub site_id: Option<String>,
    /// Household id.
    pub household_id: Option<String>,
    /// Employment status.
    pub employment_status: Option<EmploymentStatus>,
}

/// Filters of an opening listing; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OpeningFilter {
    /// Region code.
    pub region_code: Option<String>,
    /// Source.
    pub source: Option<Source>,
    /// Status.
    pub status: Option<OpeningStatus>,
    /// Employer id.
    pub employer_id: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records, in id order.
    pub items: Vec<T>,
    /// Set when more records follow: the id to continue after.
    pub next_after: Option<String>,
}

/// How a put treats an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Fail with `AlreadyExists` if the id is taken.
    Create,
    /// Replace any existing record.
    Upsert,
}

/// Filters of a placement listing; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PlacementFilter {
    /// Worker id.
    pub worker_id: Option<String>,
    /// Opening id.
    pub opening_id: Option<String>,
    /// County code.
    pub county_code: Option<String>,
    /// State.
    pub status: Option<PlacementStatus>,
}
