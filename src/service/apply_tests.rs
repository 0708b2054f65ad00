//! Staged runs at the service: the scheduled run stages and proposes
//! nothing; applying proposes the staged assignments; a run past the
//! configured age is refused whole.

use std::sync::Arc;
use std::time::Duration;

use super::{Service, ServiceError};
use crate::batch::{ApplyMode, BatchSettings};
use crate::domain::placement::PlacementStatus;
use crate::domain::run::RunStatus;
use crate::domain::Lang;
use crate::testing::{self, admin};

fn service(dir: &std::path::Path, batch: BatchSettings) -> Arc<Service> {
    testing::service_with(dir, 0xcd, Some(&testing::demo(0.02, 5)), batch)
}

fn wait(service: &Service, id: u64) -> crate::domain::run::Run {
    for _ in 0..600 {
        let run = service.store().run(id).unwrap().unwrap();
        if run.status() != RunStatus::Running {
            return run;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("run {id} did not end");
}

fn proposed(service: &Service) -> usize {
    service
        .store()
        .placements_in(PlacementStatus::Proposed)
        .count()
}

#[test]
fn the_scheduled_run_stages_and_applying_proposes_it() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(dir.path(), BatchSettings::default());
    assert_eq!(service.batch_settings().nightly_apply, ApplyMode::Manual);
    let id = service.start_scheduled_run().unwrap();
    let run = wait(&service, id);
    assert_eq!(run.status(), RunStatus::Succeeded, "{}", run.error);
    assert_eq!(run.trigger, "schedule");
    assert!(run.staged());
    let assigned = run.summary.as_ref().unwrap().workers_assigned;
    assert!(assigned > 0);
    // Staged: stored, nothing proposed.
    assert_eq!(service.store().assignments(id).count() as u64, assigned);
    assert_eq!(proposed(&service), 0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let applied = rt
        .block_on(service.apply_run(&admin(), id, None, "test".into(), Lang::En))
        .unwrap();
    assert_eq!(applied.proposed, assigned);
    assert!(applied.refused.is_empty(), "{:?}", applied.refused);
    assert_eq!(proposed(&service) as u64, assigned);
    assert!(!applied.run.staged());
    // Every proposal is the run's assignment.
    for p in service.store().placements_in(PlacementStatus::Proposed) {
        let p = p.unwrap();
        assert_eq!(p.run_id, id);
        let a = service
            .store()
            .assignment(id, &p.worker_id)
            .unwrap()
            .unwrap();
        assert_eq!(a.opening_id, p.opening_id);
    }
    // Applying again is refused whole, in the caller's language.
    for (lang, word) in [(Lang::En, "already applied"), (Lang::Zh, "已应用")] {
        match rt.block_on(service.apply_run(&admin(), id, None, "test".into(), lang)) {
            Err(ServiceError::Precondition(why)) => assert!(why.contains(word), "{why}"),
            other => panic!("applied twice: {other:?}"),
        }
    }
}

#[test]
fn a_run_past_the_configured_age_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let batch = BatchSettings {
        max_staged_age_hours: 0,
        nightly_apply: ApplyMode::Auto,
        ..BatchSettings::default()
    };
    let service = service(dir.path(), batch);
    // Auto: the scheduled run proposes at once, and is not staged.
    let auto = wait(&service, service.start_scheduled_run().unwrap());
    assert!(!auto.dry_run && !auto.staged());
    let before = proposed(&service);
    assert_eq!(before as u64, auto.proposals_created);
    let id = service
        .start_run(crate::domain::run::Policy::Optimal, true, "test")
        .unwrap();
    wait(&service, id);
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(service.apply_run(&admin(), id, None, "test".into(), Lang::En)) {
        Err(ServiceError::Precondition(why)) => {
            assert!(why.contains("--batch-max-age-hours"), "{why}")
        }
        other => panic!("an old run was applied: {other:?}"),
    }
    assert_eq!(proposed(&service), before);
    // A run that proposed at once has nothing staged.
    match rt.block_on(service.apply_run(&admin(), auto.id, None, "test".into(), Lang::En)) {
        Err(ServiceError::Precondition(why)) => assert!(why.contains("staged"), "{why}"),
        other => panic!("{other:?}"),
    }
}
