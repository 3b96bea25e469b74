//! `GET /api/sessions/{id}/live`: server-sent events. A `snapshot` event (the session as
//! `GET /api/sessions/{id}` answers it) every [`LIVE_EVERY`], and a last `end` event once the
//! session is over (completed with its bill, or cancelled); then the stream closes. A
//! completed session whose bill is still waiting for late events ends after a few more
//! snapshots without it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event;
use futures_util::stream::{self, Stream};
use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::plumbing::Clock;
use crate::sessions::model::SessionStatus;
use crate::sessions::service;

pub const LIVE_EVERY: Duration = Duration::from_secs(2);
/// Snapshots of a completed session still waiting for its bill before the stream ends.
const BILL_WAIT_TICKS: u32 = 5;

struct Watch {
    pool: PgPool,
    caller: AuthUser,
    id: Uuid,
    clock: Arc<dyn Clock>,
    first: bool,
    done: bool,
    waited: u32,
}

pub(super) fn events(
    pool: PgPool,
    caller: AuthUser,
    id: Uuid,
    clock: Arc<dyn Clock>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let watch = Watch {
        pool,
        caller,
        id,
        clock,
        first: true,
        done: false,
        waited: 0,
    };
    stream::unfold(watch, |mut w| async move {
        if w.done {
            return None;
        }
        if !w.first {
            tokio::time::sleep(LIVE_EVERY).await;
        }
        w.first = false;
        let now = w.clock.now();
        let view = match service::get(&w.pool, &w.caller, w.id, now).await {
            Ok(v) => v,
            Err(e) => {
                w.done = true;
                let event = Event::default().event("error").data(e.to_string());
                return Some((Ok(event), w));
            }
        };
        let billed = view.cost.as_ref().is_some_and(|c| c.is_final);
        let over = match view.status {
            SessionStatus::Cancelled => true,
            SessionStatus::Completed => {
                w.waited += 1;
                billed || w.waited > BILL_WAIT_TICKS
            }
            _ => false,
        };
        w.done = over;
        let name = if over { "end" } else { "snapshot" };
        let event = match Event::default().event(name).json_data(&view) {
            Ok(e) => e,
            Err(e) => Event::default().event("error").data(e.to_string()),
        };
        Some((Ok(event), w))
    })
}
