//! `ClientKey`: who is asking, for per-client rate limits.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// Used when the server did not attach the peer address (tests, unusual embeddings): all
/// such callers then share one bucket, which errs on the strict side.
pub const UNKNOWN_CLIENT: &str = "unknown";

/// The rate-limit key of the caller: the peer IP from axum's `ConnectInfo<SocketAddr>`.
///
/// IPv6 callers are keyed by their /64, since one subscriber usually gets a whole /64 and
/// could otherwise rotate addresses to escape the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl ClientKey {
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientKey {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| Self::from_ip(addr.ip()))
            .unwrap_or_else(|| Self(UNKNOWN_CLIENT.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_ip_and_ipv6_prefix() {
        assert_eq!(
            ClientKey::from_ip("203.0.113.7".parse().unwrap()).0,
            "203.0.113.7"
        );
        assert_eq!(
            ClientKey::from_ip("::ffff:203.0.113.7".parse().unwrap()).0,
            "203.0.113.7"
        );
        let a = ClientKey::from_ip("2001:db8:1:2::1".parse().unwrap());
        let b = ClientKey::from_ip("2001:db8:1:2:ffff::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a.0, "2001:db8:1:2::/64");
    }

    #[tokio::test]
    async fn falls_back_without_connect_info() {
        let mut parts = axum::http::Request::new(()).into_parts().0;
        let key = ClientKey::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(key.0, UNKNOWN_CLIENT);
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 443))));
        let key = ClientKey::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(key.0, "10.0.0.1");
    }
}
