//! Functional block C: authorization (Authorize) against the stored id tokens.

use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType;
use rust_ocpp::v2_0_1::messages::authorize::AuthorizeRequest;
use serde_json::{json, Value};
use sqlx::PgExecutor;

use super::{wire, HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::id_tokens;

/// A stored token answers as stored. A central token the CSMS itself handed to this station
/// for an app start (`SESSION-<n>`, `BOOKING-<reservation id>`) is accepted while its session
/// or booking is live: stations that authorize remote starts (AuthorizeRemoteStart) ask.
pub async fn authorize(
    ctx: &OcppContext,
    session: &StationSession,
    req: AuthorizeRequest,
) -> HandlerResult {
    let mut info = id_token_info(&ctx.pool, &req.id_token).await?;
    if info["status"] != "Accepted"
        && wire(&req.id_token.kind) == "Central"
        && id_tokens::issued_central_token(&ctx.pool, &session.station_id, &req.id_token.id_token)
            .await?
    {
        info = json!({ "status": "Accepted" });
    } else if info["status"] == "Accepted" {
        // a driver's own card on a listed charger charges only with money for it
        if let Some(status) =
            super::transactions::sessions::driver_credit(ctx, &session.station_id, &req.id_token)
                .await
        {
            info["status"] = json!(status);
        }
    }
    Ok(json!({ "idTokenInfo": info }))
}

/// The IdTokenInfoType for a token, as Authorize and TransactionEvent answer it.
pub(crate) async fn id_token_info<'e>(
    db: impl PgExecutor<'e>,
    token: &IdTokenType,
) -> Result<Value, sqlx::Error> {
    let kind = wire(&token.kind);
    let (status, group) = id_tokens::authorization_status(db, &token.id_token, &kind).await?;
    Ok(info_json(status, group))
}

/// The IdTokenInfoType for a token's status and group.
pub(crate) fn info_json(status: String, group: Option<String>) -> Value {
    let mut info = json!({ "status": status });
    if let Some(group) = group {
        info["groupIdToken"] = json!({ "idToken": group, "type": "Central" });
    }
    info
}
