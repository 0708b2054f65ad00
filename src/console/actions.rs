//! What the console does, each as the one RPC it equals. The console has
//! no permission table of its own: an action is allowed, refused and
//! audited as its RPC by `service::access`, and the service checks the
//! scope as it does for that RPC.

/// Defines [`Act`] from one list of each action and its RPC, with
/// [`Act::ALL`] and [`Act::method`]: an action cannot be added without its
/// RPC, and the two cannot disagree.
macro_rules! acts {
    ($($(#[$doc:meta])* $act:ident => $rpc:literal,)+) => {
        /// One thing a person can do in the console.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Act {
            $($(#[$doc])* $act,)+
        }

        impl Act {
            /// Every action.
            pub const ALL: &'static [Act] = &[$(Act::$act),+];

            /// The RPC this action equals (its permission and audit entry).
            pub fn method(self) -> &'static str {
                match self {
                    $(Act::$act => $rpc,)+
                }
            }
        }
    };
}

acts! {
    /// The caseload: workers of the officer's counties.
    Caseload => "/jobbridge.v1.Workers/ListWorkers",
    /// A worker's profile.
    ViewWorker => "/jobbridge.v1.Workers/GetWorker",
    /// A worker's household card.
    ViewHousehold => "/jobbridge.v1.Workers/GetHousehold",
    /// The openings recommended for a worker.
    Recommend => "/jobbridge.v1.Matching/MatchOpeningsForWorker",
    /// The candidates ranked for an opening.
    Candidates => "/jobbridge.v1.Matching/MatchWorkersForOpening",
    /// Why a pair is or is not eligible.
    Explain => "/jobbridge.v1.Matching/ExplainMatch",
    /// A worker's placements.
    Placements => "/jobbridge.v1.PlacementService/List",
    /// A placement's timeline.
    History => "/jobbridge.v1.PlacementService/GetHistory",
    /// Propose a worker for an opening.
    Propose => "/jobbridge.v1.PlacementService/Propose",
    /// The worker accepts a proposal.
    Accept => "/jobbridge.v1.PlacementService/Accept",
    /// The worker declines a proposal (with a reason).
    Decline => "/jobbridge.v1.PlacementService/Decline",
    /// The employer hires.
    Hire => "/jobbridge.v1.PlacementService/RecordHire",
    /// A 1/3/6-month check-in.
    CheckIn => "/jobbridge.v1.PlacementService/RecordCheckIn",
    /// The worker left the job.
    Separate => "/jobbridge.v1.PlacementService/RecordSeparation",
    /// An opening's card.
    ViewOpening => "/jobbridge.v1.Openings/GetOpening",
    /// The openings list.
    Openings => "/jobbridge.v1.Openings/ListOpenings",
    /// The nightly runs.
    Runs => "/jobbridge.v1.Batch/ListRuns",
    /// One run.
    ViewRun => "/jobbridge.v1.Batch/GetRun",
    /// A staged run against the last applied one.
    DiffRun => "/jobbridge.v1.Batch/DiffRun",
    /// Apply a staged run (a county).
    ApplyRun => "/jobbridge.v1.Batch/ApplyRun",
    /// The county head's figures.
    Dashboard => "/jobbridge.v1.ReportService/Coverage",
    /// A workers' ledger, checked or imported.
    ImportWorkers => "/jobbridge.v1.Workers/ImportWorkers",
    /// What the nightly optimum would do after some changes.
    WhatIf => "/jobbridge.v1.Batch/WhatIf",
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;
    use crate::service::access::roles_for;

    #[test]
    fn each_action_is_an_rpc_of_the_permission_table() {
        for &act in Act::ALL {
            let method = act.method();
            assert!(
                roles_for(method).is_some(),
                "{act:?} maps to {method}, which is not in the permission table"
            );
        }
    }

    #[test]
    fn the_roles_that_may_act_are_the_rpcs_roles() {
        // Spot checks that read as the permission table of docs/api.md does.
        let may = |act: Act, role: Role| roles_for(act.method()).unwrap().contains(&role);
        assert!(may(Act::Propose, Role::ServiceCompany));
        assert!(!may(Act::Propose, Role::Recruiter));
        assert!(may(Act::Candidates, Role::Recruiter));
        assert!(!may(Act::Caseload, Role::Recruiter));
        assert!(may(Act::Dashboard, Role::Reader));
        assert!(!may(Act::ApplyRun, Role::Reader));
        assert!(may(Act::ApplyRun, Role::ServiceCompany));
        assert!(may(Act::WhatIf, Role::ServiceCompany));
        assert!(!may(Act::WhatIf, Role::Recruiter));
    }
}
