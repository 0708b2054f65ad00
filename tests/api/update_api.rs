//! Partial updates (AIP-134) over real gRPC: UpdateWorker and
//! UpdateOpening change only the fields the mask names, refuse unknown and
//! output-only paths by name, and keep the stored national id hash unless
//! the mask names `national_id`.

use crate::common::{assert_invalid, national_id, opening, whole_id, worker, TestServer};
use jobbridge::api::pb;
use prost_types::FieldMask;
use tonic::Code;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn without_times(mut w: pb::Worker) -> pb::Worker {
    w.updated_at = None;
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_worker_changes_only_the_masked_fields() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.workers();
    let sent = worker(1);
    let before = c
        .create_worker(pb::CreateWorkerRequest {
            worker: Some(sent.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    let hash = server
        .store
        .worker(&whole_id(&sent.id, &sent.county_code))
        .unwrap()
        .unwrap()
        .national_id;

    // A new phone; the other fields of the request are ignored.
    let patch = pb::Worker {
        id: sent.id.clone(),
        phone: "13700002222".into(),
        name: "ignored".into(),
        birth_year: 1990,
        ..Default::default()
    };
    let after = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(patch.clone()),
            update_mask: mask(&["phone"]),
        })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    let want = pb::Worker {
        phone: "13700002222".into(),
        ..before.clone()
    };
    assert_eq!(without_times(after.clone()), without_times(want));
    assert_eq!(after.national_id, "");
    assert_eq!(
        server
            .store
            .worker(&whole_id(&sent.id, &sent.county_code))
            .unwrap()
            .unwrap()
            .national_id,
        hash
    );
    // The kept hash still makes the number unique.
    let mut twin = worker(2);
    twin.national_id = national_id(1);
    let err = c
        .create_worker(pb::CreateWorkerRequest { worker: Some(twin) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    // A nested path changes one preference.
    let prefs = pb::WorkerPreferences {
        max_commute_km: 35,
        ..Default::default()
    };
    let after2 = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: sent.id.clone(),
                preferences: Some(prefs),
                ..Default::default()
            }),
            update_mask: mask(&["preferences.max_commute_km"]),
        })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    let mut want_prefs = before.preferences.clone().unwrap();
    want_prefs.max_commute_km = 35;
    assert_eq!(after2.preferences, Some(want_prefs));
    assert_eq!(after2.name, before.name);

    // An empty mask: the fields the request sets.
    let after3 = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: sent.id.clone(),
                site_id: "site-new".into(),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap()
        .into_inner()
        .worker
        .unwrap();
    assert_eq!(after3.site_id, "site-new");
    assert_eq!(after3.phone, "13700002222");
    assert_eq!(
        server
            .store
            .worker(&whole_id(&sent.id, &sent.county_code))
            .unwrap()
            .unwrap()
            .national_id,
        hash
    );

    // Refused by name, nothing stored.
    for (paths, field) in [
        (vec!["phone", "fone"], "update_mask.paths[1]"),
        (vec!["recommendations"], "update_mask.paths[0]"),
        (vec!["id"], "update_mask.paths[0]"),
    ] {
        let err = c
            .update_worker(pb::UpdateWorkerRequest {
                worker: Some(patch.clone()),
                update_mask: mask(&paths),
            })
            .await
            .unwrap_err();
        assert_invalid(&err, field, &format!("{paths:?}"));
    }
    // A bad value of a masked field names the field.
    let err = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: sent.id.clone(),
                phone: "123".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone"]),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "worker.phone", "bad phone");
    // Naming national_id needs a valid number, and changes the hash.
    let err = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: sent.id.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["national_id"]),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "worker.national_id", "empty national id");
    assert_eq!(
        server
            .store
            .worker(&whole_id(&sent.id, &sent.county_code))
            .unwrap()
            .unwrap()
            .national_id,
        hash
    );
    c.update_worker(pb::UpdateWorkerRequest {
        worker: Some(pb::Worker {
            id: sent.id.clone(),
            national_id: national_id(9),
            ..Default::default()
        }),
        update_mask: mask(&["national_id"]),
    })
    .await
    .unwrap();
    assert_ne!(
        server
            .store
            .worker(&whole_id(&sent.id, &sent.county_code))
            .unwrap()
            .unwrap()
            .national_id,
        hash
    );
    // A missing worker.
    let err = c
        .update_worker(pb::UpdateWorkerRequest {
            worker: Some(pb::Worker {
                id: "nobody".into(),
                ..Default::default()
            }),
            update_mask: mask(&["phone"]),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_opening_changes_only_the_masked_fields() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let mut c = server.openings();
    let sent = opening(1);
    let before = c
        .create_opening(pb::CreateOpeningRequest {
            opening: Some(sent.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    let after = c
        .update_opening(pb::UpdateOpeningRequest {
            opening: Some(pb::Opening {
                id: sent.id.clone(),
                monthly_wage: before.monthly_wage + 500,
                title: "ignored".into(),
                ..Default::default()
            }),
            update_mask: mask(&["monthly_wage"]),
        })
        .await
        .unwrap()
        .into_inner()
        .opening
        .unwrap();
    let want = pb::Opening {
        monthly_wage: before.monthly_wage + 500,
        updated_at: after.updated_at,
        ..before.clone()
    };
    assert_eq!(after, want);
    let err = c
        .update_opening(pb::UpdateOpeningRequest {
            opening: Some(pb::Opening {
                id: sent.id.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["filled"]),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "update_mask.paths[0]", "filled is output only");
    server.stop().await;
}
