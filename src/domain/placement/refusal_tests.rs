//! Examples of the placement rules: the messages clients read, and where
//! a missing record is a fault. Also the fixtures the model test shares.

use super::model::Op;
use super::model_tests::{ctx, World};
use super::*;
use crate::domain::{EmploymentStatus, Worker};

/// A step needing a record the placement names, and not finding it, is a
/// fault; a check-in needs neither, so a deleted (separated) worker does
/// not block the months still owed.
#[test]
fn missing_records_are_dangling_only_where_needed() {
    let mut world = World::new();
    world.run(&Op::Propose(0, 0)).unwrap();
    let p = world.placements[0].clone();
    let refused = apply_step(&p, None, None, &Action::Accept, &ctx()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "placement P0 names missing worker \"w0\""
    );
    let w = world.workers[0].clone();
    let refused = apply_step(&p, Some(&w), None, &Action::Accept, &ctx()).unwrap_err();
    assert!(matches!(
        refused,
        StepRefused::Dangling {
            kind: "opening",
            ..
        }
    ));
    for op in [Op::Accept(0), Op::Hire(0, 0), Op::Separate(0, 0)] {
        world.run(&op).unwrap();
    }
    let check_in = Action::CheckIn {
        month: 6,
        day: world.hire_day(0),
        still_employed: false,
        note: String::new(),
    };
    let outcome = apply_step(&world.placements[0], None, None, &check_in, &ctx()).unwrap();
    assert_eq!((outcome.worker, outcome.opening), (None, None));
}

/// The messages clients read, word for word (tests/api/placements_api.rs and
/// README and docs/ quote parts of them).
#[test]
fn refusals_read_as_before() {
    let mut world = World::new();
    world.run(&Op::Propose(0, 0)).unwrap();
    world.run(&Op::Accept(0)).unwrap();
    let e = world.run(&Op::Accept(0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "placement P0 is ACCEPTED; accept needs a placement that is PROPOSED"
    );
    let e = world.run(&Op::CheckIn(0, 1, 0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "placement P0 is ACCEPTED; check_in needs a placement that is HIRED or SEPARATED"
    );
    let e = world.run(&Op::Propose(0, 1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "worker \"w0\" already holds active placement P0 (ACCEPTED); a worker holds one \
         active placement at a time"
    );
    world.run(&Op::PutOpening(1, 0, true)).unwrap();
    let e = world.run(&Op::Propose(1, 1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "opening \"o1\" has no free slot: 0 of 0 taken"
    );
    let e = world.run(&Op::Hire(0, -1)).unwrap_err();
    assert!(e.to_string().starts_with("hire_date: "), "{e}");
    assert!(e
        .to_string()
        .contains("is before the proposal of placement P0 on"));
    world.run(&Op::Hire(0, 0)).unwrap();
    let e = world.run(&Op::CheckIn(0, 2, 0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "month: check-ins are 1, 3 or 6 months after hire, got 2"
    );
    world
        .run(&Op::PutWorker(1, EmploymentStatus::Employed))
        .unwrap();
    let e = world.run(&Op::Propose(1, 2)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "worker \"w1\" is EMPLOYED; only a seeking worker can be proposed"
    );
}

pub(super) fn worker(i: usize) -> Worker {
    Worker {
        household_id: format!("h{}", i / 2),
        ..crate::testing::worker(&format!("w{i}"))
    }
}

/// A worker holding an active placement is not deleted; once the
/// placement ends, it may be.
#[test]
fn a_placed_worker_is_not_deleted() {
    let mut world = World::new();
    assert!(may_delete_worker(&world.workers[0]).is_ok());
    world.run(&Op::Propose(0, 0)).unwrap();
    let refused = may_delete_worker(&world.workers[0]).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "worker \"w0\" holds active placement P0 (PROPOSED); decline or separate it first"
    );
}
