//! `transfer.reversed` (and `transfer.updated`): a transfer to a host that the provider
//! reversed (the platform took the money back from the host's connected account) leaves
//! the platform owing the host that amount again. The provider's `amount_reversed` is
//! cumulative and only grows, so each growth is posted once (host payable ← provider
//! clearing, keyed by the new cumulative figure) and recorded on the transfer, in the
//! webhook's transaction; a replay or an older event finds nothing new.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::service as ledger;
use crate::payments::store::transfers;
use crate::payments::webhook::TransferObject;

/// `Ok(false)`: not a transfer of ours. A transfer of ours whose payment we have not
/// recorded yet (the run that made it has not committed) is a 409, so the provider delivers
/// the event again later.
pub(super) async fn apply(
    conn: &mut PgConnection,
    tr: &TransferObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(row) = transfers::by_provider_id(conn, &tr.id).await? else {
        let ours = tr
            .metadata
            .get("transfer_id")
            .and_then(|t| t.parse::<Uuid>().ok());
        let Some(id) = ours.filter(|_| tr.amount_reversed > 0) else {
            return Ok(false);
        };
        if transfers::is_pending(conn, id).await? {
            return Err(Error::Conflict {
                code: "transfer_not_settled",
                detail: format!("transfer {id} is not recorded as paid yet"),
            });
        }
        return Ok(false);
    };
    let cumulative = tr.amount_reversed.min(row.amount_minor);
    let amount = cumulative - row.amount_reversed;
    if amount <= 0 {
        return Ok(true);
    }
    ledger::transfer_reversed(conn, (&row).into(), amount, cumulative, now).await?;
    transfers::set_reversed(conn, row.id, cumulative, now).await?;
    Ok(true)
}
