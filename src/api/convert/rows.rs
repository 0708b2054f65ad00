//! What an imported row did, on the wire.

use crate::api::pb;
use crate::service::RowChange;

/// Row `row` (1-based) with whole id `id`, and what it did.
pub(crate) fn row_change_to_pb(row: u64, id: String, change: RowChange) -> pb::RowChange {
    let (kind, fields) = match change {
        RowChange::Created => (pb::row_change::Kind::Created, Vec::new()),
        RowChange::Updated(fields) => (
            pb::row_change::Kind::Updated,
            fields.into_iter().map(str::to_string).collect(),
        ),
        RowChange::Unchanged => (pb::row_change::Kind::Unchanged, Vec::new()),
    };
    pb::RowChange {
        row,
        id,
        kind: kind.into(),
        fields,
    }
}
