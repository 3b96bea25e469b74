//! Whether an access token is still good: its user exists, is not disabled, and has not
//! revoked older tokens since (the token's `ver` equals the user's `token_version`).
//!
//! A signed token alone cannot say so, so the extractor asks the database, through a small
//! per-process cache: a user's state is reused for [`STATE_TTL`], which bounds how long
//! another node keeps honouring a revoked token. Changes made on this node (disabling an
//! account) evict the user at once. The cache is a process-wide static rather than part of
//! `ApiContext` because the service functions that change access (`set_disabled`, called by
//! admins and tools) take only a pool, and they must reach the very cache the extractor uses.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use sqlx::PgPool;
use uuid::Uuid;

use super::store;
use crate::error::Error;

/// How long a user's state is trusted without asking the database again.
pub const STATE_TTL: Duration = Duration::from_secs(2);
/// Above this many cached users, stale entries are swept before inserting, so the map cannot
/// grow without bound on a busy node.
const SWEEP_ABOVE: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserState {
    pub token_version: i32,
    pub disabled: bool,
}

impl UserState {
    /// The pure rule: a token is good for exactly the current version of an enabled user.
    pub(crate) fn admits(&self, token_version: i32) -> bool {
        !self.disabled && self.token_version == token_version
    }
}

static STATES: LazyLock<DashMap<Uuid, (UserState, Instant)>> = LazyLock::new(DashMap::new);

/// 401 unless the user exists, is enabled and the token carries their current version.
pub(crate) async fn check(pool: &PgPool, user_id: Uuid, token_version: i32) -> Result<(), Error> {
    let state = match cached(user_id) {
        Some(state) => state,
        None => {
            let Some(state) = load(pool, user_id).await? else {
                return Err(Error::Unauthorized);
            };
            remember(user_id, state);
            state
        }
    };
    if state.admits(token_version) {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

/// Forgets the user, so this node's next request reads their state fresh. Call after the
/// transaction that changed it committed.
pub(crate) fn evict(user_id: Uuid) {
    STATES.remove(&user_id);
}

fn cached(user_id: Uuid) -> Option<UserState> {
    let entry = STATES.get(&user_id)?;
    let (state, at) = *entry;
    (at.elapsed() < STATE_TTL).then_some(state)
}

fn remember(user_id: Uuid, state: UserState) {
    if STATES.len() > SWEEP_ABOVE {
        STATES.retain(|_, (_, at)| at.elapsed() < STATE_TTL);
    }
    STATES.insert(user_id, (state, Instant::now()));
}

async fn load(pool: &PgPool, user_id: Uuid) -> Result<Option<UserState>, Error> {
    let row = store::access_state(&mut *pool.acquire().await?, user_id).await?;
    Ok(row.map(|(token_version, disabled)| UserState {
        token_version,
        disabled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_only_the_current_version_of_an_enabled_user() {
        let state = UserState {
            token_version: 3,
            disabled: false,
        };
        assert!(state.admits(3));
        assert!(!state.admits(2), "a token from before the bump");
        assert!(!state.admits(4));
        let disabled = UserState {
            disabled: true,
            ..state
        };
        assert!(!disabled.admits(3));
    }

    #[test]
    fn evict_forgets_at_once() {
        let id = Uuid::now_v7();
        let state = UserState {
            token_version: 0,
            disabled: false,
        };
        remember(id, state);
        assert_eq!(cached(id), Some(state));
        evict(id);
        assert_eq!(cached(id), None);
    }
}
