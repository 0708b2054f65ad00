//! The closed vocabularies of the domain. Each has a stable one-byte code used
//! by the store's keys and records; codes are never reused.

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored on disk and used in index keys.
            pub fn code(self) -> u8 {
                match self { $($name::$variant => $code),+ }
            }

            /// The value for a stored code, if any.
            pub fn from_code(code: u8) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The value for a code kept in a wider field (a record's
            /// `u32`), if any.
            pub fn from_stored(code: u32) -> Option<Self> {
                u8::try_from(code).ok().and_then(Self::from_code)
            }

            /// Short lower-case name for logs, reports and CSV files.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The value named `label`, if any.
            pub fn from_label(label: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.label() == label)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

coded_enum!(
    /// Where an opening's jobs come from.
    Source {
        /// Aid workshop at or beside a resettlement site.
        AidWorkshop = 1 => "aid_workshop",
        /// Government-paid public-welfare post.
        PublicWelfare = 2 => "public_welfare",
        /// Labour cooperation with companies elsewhere.
        LabourCooperation = 3 => "labour_cooperation",
        /// Work-relief construction project.
        WorkRelief = 4 => "work_relief",
        /// Follow-up industrial park or industry base.
        IndustrialPark = 5 => "industrial_park",
        /// Cooperative or leading agricultural enterprise.
        Enterprise = 6 => "enterprise",
    }
);

coded_enum!(
    /// How much work a worker can do.
    LabourCapacity {
        /// Full labour capacity.
        Full = 1 => "full",
        /// Light work only.
        Partial = 2 => "partial",
    }
);

coded_enum!(
    /// How physically demanding an opening is.
    PhysicalDemand {
        /// Suitable for partial-capacity workers.
        Light = 1 => "light",
        /// Ordinary work.
        Normal = 2 => "normal",
        /// Heavy work.
        Heavy = 3 => "heavy",
    }
);

coded_enum!(
    /// A worker's employment status.
    EmploymentStatus {
        /// Looking for work.
        Seeking = 1 => "seeking",
        /// In work.
        Employed = 2 => "employed",
        /// Not available for now; never matched.
        Unavailable = 3 => "unavailable",
        /// Accepted an offer and not started yet; set by placements only,
        /// never matched.
        Placed = 4 => "placed",
    }
);

coded_enum!(
    /// Gender as registered.
    Gender {
        /// Female.
        Female = 1 => "female",
        /// Male.
        Male = 2 => "male",
    }
);

coded_enum!(
    /// Highest completed education.
    Education {
        /// No schooling.
        None = 1 => "none",
        /// Primary school.
        Primary = 2 => "primary",
        /// Junior secondary school.
        JuniorSecondary = 3 => "junior_secondary",
        /// Senior secondary school.
        SeniorSecondary = 4 => "senior_secondary",
        /// Vocational school.
        Vocational = 5 => "vocational",
        /// College or university.
        Tertiary = 6 => "tertiary",
    }
);

coded_enum!(
    /// Near-home work only, or willing to migrate.
    Mobility {
        /// Near-home work within the commute limit.
        NearHome = 1 => "near_home",
        /// Willing to migrate for work.
        WillingToMigrate = 2 => "willing_to_migrate",
    }
);

coded_enum!(
    /// Whether an opening takes people.
    OpeningStatus {
        /// Taking people.
        Open = 1 => "open",
        /// Closed; kept for history.
        Closed = 2 => "closed",
    }
);

coded_enum!(
    /// What a token may do. The code is stored with a token; the label is
    /// the name on the command line and in the API.
    Role {
        /// Everything: tokens, batch runs, every county.
        Admin = 1 => "admin",
        /// A county employment-service company: workers, openings,
        /// matching and placements in its counties.
        ServiceCompany = 2 => "service_company",
        /// A recruiter of one employer: its own openings, and candidates
        /// for them with personal data masked.
        Recruiter = 3 => "recruiter",
        /// Coverage reports only.
        Reader = 4 => "reader",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(*s));
        }
        assert_eq!(Source::from_code(0), None);
        assert_eq!(Source::from_code(7), None);
        for s in EmploymentStatus::ALL {
            assert_eq!(EmploymentStatus::from_code(s.code()), Some(*s));
            assert_eq!(EmploymentStatus::from_label(s.label()), Some(*s));
        }
        assert_eq!(Source::from_label("Aid_Workshop"), None);
    }
}
