//! Guessing a station's Basic auth password must cost the guesser, not the server: argon2
//! runs under a few slots that fail fast (503 with Retry-After) instead of queueing a storm,
//! and failed attempts are counted per client address and per station over a sliding window
//! (429 with Retry-After past the limit, before any hashing). A station presenting the
//! password it was already verified with is answered from the cache and never throttled, so
//! an attacker hammering a station's id cannot lock the real station out.
//!
//! Counted in memory: per node is enough here, since each node's argon2 is what it protects.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::Semaphore;

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed handshakes one client address may make per window (many stations share a NAT).
pub const PER_ADDRESS: usize = 20;
/// Failed handshakes for one station id per window, from anywhere.
pub const PER_STATION: usize = 50;
/// How long a handshake waits for a hashing slot before answering 503.
pub const SLOT_WAIT: Duration = Duration::from_secs(1);
/// Above this many tracked keys, expired ones are swept before adding (bounded memory).
const SWEEP_ABOVE: usize = 100_000;

static SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

#[derive(Default)]
pub struct Throttle {
    by_address: DashMap<IpAddr, VecDeque<Instant>>,
    by_station: DashMap<String, VecDeque<Instant>>,
}

impl Throttle {
    /// Seconds to wait when either count is at its limit, else `None`.
    pub fn retry_after(&self, address: Option<IpAddr>, station: &str, now: Instant) -> Option<u64> {
        let address =
            address.and_then(|a| wait(self.by_address.get(&a)?.value(), PER_ADDRESS, now));
        let station = self
            .by_station
            .get(station)
            .and_then(|s| wait(s.value(), PER_STATION, now));
        address.max(station)
    }

    pub fn failed(&self, address: Option<IpAddr>, station: &str, now: Instant) {
        if self.by_address.len() + self.by_station.len() > SWEEP_ABOVE {
            self.by_address.retain(|_, q| prune(q, now));
            self.by_station.retain(|_, q| prune(q, now));
        }
        if let Some(a) = address {
            record(&mut self.by_address.entry(a).or_default(), PER_ADDRESS, now);
        }
        record(
            &mut self.by_station.entry(station.to_owned()).or_default(),
            PER_STATION,
            now,
        );
    }
}

fn prune(q: &mut VecDeque<Instant>, now: Instant) -> bool {
    while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        q.pop_front();
    }
    !q.is_empty()
}

fn record(q: &mut VecDeque<Instant>, max: usize, now: Instant) {
    prune(q, now);
    q.push_back(now);
    while q.len() > max {
        q.pop_front();
    }
}

fn wait(q: &VecDeque<Instant>, max: usize, now: Instant) -> Option<u64> {
    let live: Vec<&Instant> = q
        .iter()
        .filter(|t| now.duration_since(**t) < WINDOW)
        .collect();
    if live.len() < max {
        return None;
    }
    let frees = WINDOW.saturating_sub(now.duration_since(*live[0]));
    Some(frees.as_secs().max(1))
}

/// Runs `work` (argon2) in a hashing slot; `None` when none freed up within [`SLOT_WAIT`].
pub async fn hash_in_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _slot = tokio::time::timeout(SLOT_WAIT, SLOTS.acquire())
        .await
        .ok()?
        .ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_stations_are_limited_apart() {
        let t = Throttle::default();
        let now = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            assert_eq!(t.retry_after(Some(a), "CS-1", now), None);
            t.failed(Some(a), "CS-1", now);
        }
        assert!(
            t.retry_after(Some(a), "CS-2", now).is_some(),
            "the address is spent"
        );
        assert_eq!(
            t.retry_after(Some(b), "CS-2", now),
            None,
            "another address is not"
        );
        // the window slides
        assert_eq!(t.retry_after(Some(a), "CS-1", now + WINDOW), None);
    }

    #[test]
    fn a_station_is_limited_across_addresses() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..PER_STATION {
            let addr = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
            t.failed(Some(addr), "CS-1", now);
        }
        let fresh: IpAddr = "192.0.2.9".parse().unwrap();
        let secs = t.retry_after(Some(fresh), "CS-1", now).unwrap();
        assert!((1..=WINDOW.as_secs()).contains(&secs));
    }
}
