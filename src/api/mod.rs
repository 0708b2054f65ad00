//! The gRPC face of jobbridge: generated code, conversions between wire and
//! domain types, and one thin handler file per service.

mod admin;
pub mod auth;
mod batch;
mod convert;
mod import;
pub mod lang;
pub mod layer;
mod matching;
mod openings;
mod page_token;
mod placements;
mod reports;
mod status;
mod workers;

pub use admin::AdminService;
pub use batch::BatchService;
pub(crate) use convert::{
    coverage_from_pb, diff_from_pb, opening_from_pb, policy_to_pb, role_from_pb, role_to_pb,
    row_change_to_pb, run_from_pb, separation_reason_from_pb, source_to_pb, status_from_pb,
    what_if_from_pb, worker_from_pb,
};
pub use matching::MatchingService;
pub use openings::OpeningService;
pub(crate) use placements::due_to_pb;
pub use placements::PlacementService;
pub use reports::ReportService;
pub use status::remap_oversize;
pub use workers::WorkerService;

/// Code generated from `proto/jobbridge/v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("jobbridge.v1");

    /// Encoded descriptor set of the jobbridge API, for reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/jobbridge_descriptor.bin"));
}
