//! What the console does, each as the one RPC it equals. The console has
//! no permission table of its own: an action is allowed, refused and
//! audited as its RPC by `service::access`, and the service checks the
//! scope as it does for that RPC.

/// One thing a person can do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// The caseload: workers of the officer's counties.
    Caseload,
    /// A worker's profile.
    ViewWorker,
    /// A worker's household card.
    ViewHousehold,
    /// The openings recommended for a worker.
    Recommend,
    /// The candidates ranked for an opening.
    Candidates,
    /// Why a pair is or is not eligible.
    Explain,
    /// A worker's placements.
    Placements,
    /// A placement's timeline.
    History,
    /// Propose a worker for an opening.
    Propose,
    /// The worker accepts a proposal.
    Accept,
    /// The worker declines a proposal (with a reason).
    Decline,
    /// The employer hires.
    Hire,
    /// A 1/3/6-month check-in.
    CheckIn,
    /// The worker left the job.
    Separate,
    /// An opening's card.
    ViewOpening,
    /// The openings list.
    Openings,
    /// The nightly runs.
    Runs,
    /// One run.
    ViewRun,
    /// A staged run against the last applied one.
    DiffRun,
    /// Apply a staged run (a county).
    ApplyRun,
    /// The county head's figures.
    Dashboard,
    /// A workers' ledger, checked or imported.
    ImportWorkers,
    /// What the nightly optimum would do after some changes.
    WhatIf,
}

/// Every action with its RPC.
pub const ACTIONS: &[(Act, &str)] = &[
    (Act::Caseload, "/jobbridge.v1.Workers/ListWorkers"),
    (Act::ViewWorker, "/jobbridge.v1.Workers/GetWorker"),
    (Act::ViewHousehold, "/jobbridge.v1.Workers/GetHousehold"),
    (
        Act::Recommend,
        "/jobbridge.v1.Matching/MatchOpeningsForWorker",
    ),
    (
        Act::Candidates,
        "/jobbridge.v1.Matching/MatchWorkersForOpening",
    ),
    (Act::Explain, "/jobbridge.v1.Matching/ExplainMatch"),
    (Act::Placements, "/jobbridge.v1.PlacementService/List"),
    (Act::History, "/jobbridge.v1.PlacementService/GetHistory"),
    (Act::Propose, "/jobbridge.v1.PlacementService/Propose"),
    (Act::Accept, "/jobbridge.v1.PlacementService/Accept"),
    (Act::Decline, "/jobbridge.v1.PlacementService/Decline"),
    (Act::Hire, "/jobbridge.v1.PlacementService/RecordHire"),
    (Act::CheckIn, "/jobbridge.v1.PlacementService/RecordCheckIn"),
    (
        Act::Separate,
        "/jobbridge.v1.PlacementService/RecordSeparation",
    ),
    (Act::ViewOpening, "/jobbridge.v1.Openings/GetOpening"),
    (Act::Openings, "/jobbridge.v1.Openings/ListOpenings"),
    (Act::Runs, "/jobbridge.v1.Batch/ListRuns"),
    (Act::ViewRun, "/jobbridge.v1.Batch/GetRun"),
    (Act::DiffRun, "/jobbridge.v1.Batch/DiffRun"),
    (Act::ApplyRun, "/jobbridge.v1.Batch/ApplyRun"),
    (Act::Dashboard, "/jobbridge.v1.ReportService/Coverage"),
    (Act::ImportWorkers, "/jobbridge.v1.Workers/ImportWorkers"),
    (Act::WhatIf, "/jobbridge.v1.Batch/WhatIf"),
];

impl Act {
    /// Every action.
    pub const ALL: [Act; 23] = [
        Act::Caseload,
        Act::ViewWorker,
        Act::ViewHousehold,
        Act::Recommend,
        Act::Candidates,
        Act::Explain,
        Act::Placements,
        Act::History,
        Act::Propose,
        Act::Accept,
        Act::Decline,
        Act::Hire,
        Act::CheckIn,
        Act::Separate,
        Act::ViewOpening,
        Act::Openings,
        Act::Runs,
        Act::ViewRun,
        Act::DiffRun,
        Act::ApplyRun,
        Act::Dashboard,
        Act::ImportWorkers,
        Act::WhatIf,
    ];

    /// The RPC this action equals (its permission and audit entry).
    pub fn method(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, m)| *m)
            .expect("every action is in ACTIONS (tested)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;
    use crate::service::access::roles_for;

    #[test]
    fn each_action_maps_to_exactly_one_rpc_of_the_permission_table() {
        for act in Act::ALL {
            let rows: Vec<_> = ACTIONS.iter().filter(|(a, _)| *a == act).collect();
            assert_eq!(rows.len(), 1, "{act:?} must have exactly one RPC");
            let method = rows[0].1;
            assert!(
                roles_for(method).is_some(),
                "{act:?} maps to {method}, which is not in the permission table"
            );
        }
        assert_eq!(
            ACTIONS.len(),
            Act::ALL.len(),
            "ACTIONS lists an action twice"
        );
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
