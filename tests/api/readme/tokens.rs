//! The walk-through's tokens for others: what a county company and a
//! recruiter may read.

use jobbridge::api::pb;

use super::walk::q;
use super::{assert_fields, assert_status, Readme};

/// Tokens for a Xupu company and the workshop's recruiter, and what each
/// may read.
pub async fn tokens(server: &crate::common::TestServer, md: &mut Readme) {
    let mut admin = server.admin();
    md.command(r#""counties":["431224"],"label":"Xupu employment service"}'"#);
    let xupu = xupu_token(server).await;
    md.command(r#""employer_id":"workshop-demo","label":"Xupu sewing workshop"}'"#);
    let recruiter = admin
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::Recruiter as i32,
            employer_id: "workshop-demo".into(),
            label: "Xupu sewing workshop".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let xupu = server.clients_with(Some(&xupu));
    let recruiter = server.clients_with(Some(&recruiter));
    let get = |id: &str| pb::GetWorkerRequest { id: id.into() };

    md.command(r#"-H "authorization: Bearer $XUPU" -d '{"id":"w-demo-1"}'"#);
    xupu.workers().get_worker(get("w-demo-1")).await.unwrap();
    md.command(r#"-H "authorization: Bearer $XUPU" -d '{"id":"w-0000004"}'"#);
    let refused = xupu
        .workers()
        .get_worker(get("w-0000004"))
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);

    md.command(
        r#"-H "authorization: Bearer $RECRUITER" -d '{"opening_id":"ws-demo-1","top_k":3}'"#,
    );
    let found = recruiter
        .matching()
        .match_workers_for_opening(pb::MatchWorkersForOpeningRequest {
            opening_id: "ws-demo-1".into(),
            top_k: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let fields: Vec<_> = found
        .matches
        .iter()
        .flat_map(|m| {
            [
                ("name", q(&m.name)),
                ("phone", q(&m.phone)),
                ("masked", m.masked.to_string()),
            ]
        })
        .collect();
    assert_fields(md.quote(), &fields);
    md.command(r#"-H "authorization: Bearer $RECRUITER" -d '{"id":"w-demo-1"}'"#);
    let refused = recruiter
        .workers()
        .get_worker(get("w-demo-1"))
        .await
        .unwrap_err();
    assert_status(md.quote(), &refused);
    md.command("jobbridge.v1.AdminService/ListAuditLog");
}

/// A service company token of Xupu (431224), as README's walk-through
/// makes it.
pub async fn xupu_token(server: &crate::common::TestServer) -> String {
    server
        .admin()
        .create_token(pb::CreateTokenRequest {
            role: pb::Role::ServiceCompany as i32,
            counties: vec!["431224".into()],
            label: "Xupu employment service".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token
}
