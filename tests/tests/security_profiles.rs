//! OCPP 2.0.1 security profiles 1-3 over ws:// and wss:// with a generated dev PKI.

use e2e_tests::ocpp_client::ConnectOptions;
use e2e_tests::server::TlsFiles;
use e2e_tests::{OcppClient, Server, ServerOptions};

const PASSWORD: &str = "0123456789abcdef-pw";

fn status(code: Option<reqwest::StatusCode>) -> Option<u16> {
    code.map(|c| c.as_u16())
}

/// Station P1 at profile 1 (Basic auth) with [`PASSWORD`].
async fn provision_p1(server: &Server) {
    server
        .cli(&[
            "station",
            "add",
            "--id",
            "P1",
            "--profile",
            "1",
            "--password",
            PASSWORD,
        ])
        .await
        .unwrap();
}

#[tokio::test]
async fn profile_1_basic_auth_over_plain_ws_only_when_enabled() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    provision_p1(&server).await;
    let url = server.ocpp_url("P1");
    let refused = OcppClient::refusal(
        &url,
        ConnectOptions {
            basic: Some(("P1", PASSWORD)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        status(refused),
        Some(403),
        "plain Basic auth must be opt-in"
    );

    let server = Server::start(ServerOptions {
        extra_args: vec!["--allow-plain-basic".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    provision_p1(&server).await;
    let url = server.ocpp_url("P1");
    assert_eq!(
        status(OcppClient::refusal(&url, ConnectOptions::default()).await),
        Some(401)
    );
    assert_eq!(
        status(
            OcppClient::refusal(
                &url,
                ConnectOptions {
                    basic: Some(("P1", "wrong-password-123")),
                    ..Default::default()
                }
            )
            .await
        ),
        Some(401)
    );
    assert_eq!(
        status(
            OcppClient::refusal(
                &url,
                ConnectOptions {
                    basic: Some(("OTHER", PASSWORD)),
                    ..Default::default()
                }
            )
            .await
        ),
        Some(401)
    );
    let mut cs = OcppClient::connect_with(
        &url,
        ConnectOptions {
            basic: Some(("P1", PASSWORD)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(cs.boot().await.unwrap()["status"], "Accepted");

    // a hijacker with the station's id but not its password replaces nothing: refused before
    // the upgrade, the station's own connection stays registered and answered
    let operator = server.token_for("operator").await.unwrap();
    let before: serde_json::Value = server
        .get_json(&operator, "/api/stations/P1")
        .await
        .unwrap();
    for basic in [None, Some(("P1", "wrong-password-123"))] {
        let refused = OcppClient::refusal(
            &url,
            ConnectOptions {
                basic,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(status(refused), Some(401));
    }
    let beat = cs.call("Heartbeat", serde_json::json!({})).await.unwrap();
    assert!(beat["currentTime"].is_string(), "{beat}");
    let after: serde_json::Value = server
        .get_json(&operator, "/api/stations/P1")
        .await
        .unwrap();
    assert_eq!(after["connected"], true, "{after}");
    assert_eq!(
        after["connection"]["connectedAt"], before["connection"]["connectedAt"],
        "still the station's own connection"
    );
}

/// In production mode, as stations are run for real.
#[tokio::test]
async fn profiles_2_and_3_over_tls() {
    let pki = TlsFiles::generate(&["P3", "OTHER", "NEW-3"]).await.unwrap();
    let server = Server::start(ServerOptions {
        tls: Some(pki.clone()),
        ..ServerOptions::production()
    })
    .await
    .unwrap();
    server
        .cli(&[
            "station",
            "add",
            "--id",
            "P2",
            "--profile",
            "2",
            "--password",
            PASSWORD,
        ])
        .await
        .unwrap();
    server
        .cli(&["station", "add", "--id", "P3", "--profile", "3"])
        .await
        .unwrap();
    let ca = pki.ca();

    // Profile 2: TLS + Basic. Less than that is refused.
    let plain = OcppClient::refusal(
        &server.ocpp_url("P2"),
        ConnectOptions {
            basic: Some(("P2", PASSWORD)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(plain), Some(403));
    let no_pw = OcppClient::refusal(
        &server.wss_url("P2"),
        ConnectOptions {
            ca: Some(&ca),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(no_pw), Some(401));
    let bad_pw = OcppClient::refusal(
        &server.wss_url("P2"),
        ConnectOptions {
            ca: Some(&ca),
            basic: Some(("P2", "not-the-password-x")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(bad_pw), Some(401));
    let mut p2 = OcppClient::connect_with(
        &server.wss_url("P2"),
        ConnectOptions {
            ca: Some(&ca),
            basic: Some(("P2", PASSWORD)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(p2.boot().await.unwrap()["status"], "Accepted");

    // Profile 3: a client certificate whose CN is the station id.
    let (cert, key) = pki.station_cert("P3");
    let mut p3 = OcppClient::connect_with(
        &server.wss_url("P3"),
        ConnectOptions {
            ca: Some(&ca),
            client_cert: Some((&cert, &key)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(p3.boot().await.unwrap()["status"], "Accepted");
    let no_cert = OcppClient::refusal(
        &server.wss_url("P3"),
        ConnectOptions {
            ca: Some(&ca),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(no_cert), Some(403));
    let (other_cert, other_key) = pki.station_cert("OTHER");
    let wrong = OcppClient::refusal(
        &server.wss_url("P3"),
        ConnectOptions {
            ca: Some(&ca),
            client_cert: Some((&other_cert, &other_key)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(wrong), Some(403));
    let plain3 = OcppClient::refusal(&server.ocpp_url("P3"), ConnectOptions::default()).await;
    assert_eq!(status(plain3), Some(403));

    // An unknown station proves who it is with a certificate from our CA: it is recorded at
    // profile 3, and from then on needs that certificate.
    let (new_cert, new_key) = pki.station_cert("NEW-3");
    let mut new3 = OcppClient::connect_with(
        &server.wss_url("NEW-3"),
        ConnectOptions {
            ca: Some(&ca),
            client_cert: Some((&new_cert, &new_key)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    new3.boot().await.unwrap();
    let operator = server.token_for("operator").await.unwrap();
    let recorded = server
        .get_json(&operator, "/api/stations/NEW-3")
        .await
        .unwrap();
    assert_eq!(recorded["securityProfile"], 3, "{recorded}");
    let without = OcppClient::refusal(
        &server.wss_url("NEW-3"),
        ConnectOptions {
            ca: Some(&ca),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status(without), Some(403));

    // A certificate from another CA fails the TLS handshake itself.
    let stranger = TlsFiles::generate(&["P3"]).await.unwrap();
    let (s_cert, s_key) = stranger.station_cert("P3");
    let foreign = OcppClient::refusal(
        &server.wss_url("P3"),
        ConnectOptions {
            ca: Some(&ca),
            client_cert: Some((&s_cert, &s_key)),
            ..Default::default()
        },
    )
    .await;
    assert!(
        foreign.is_some(),
        "a certificate from an unknown CA must not connect"
    );
}

/// Guessing a station's password is throttled before any hashing (429 with Retry-After), and
/// the real station, whose password was verified before, still connects; refused attempts
/// never replace the connected station.
#[tokio::test]
async fn password_guessing_is_throttled_without_locking_out_the_station() {
    let server = Server::start(ServerOptions {
        extra_args: vec!["--allow-plain-basic".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    provision_p1(&server).await;
    let url = server.ocpp_url("P1");
    let real = || ConnectOptions {
        basic: Some(("P1", PASSWORD)),
        ..Default::default()
    };
    let mut connected = OcppClient::connect_with(&url, real()).await.unwrap();
    connected.boot().await.unwrap();
    let guess = || ConnectOptions {
        basic: Some(("P1", "guess-guess-guess-1")),
        ..Default::default()
    };
    for _ in 0..20 {
        assert_eq!(status(OcppClient::refusal(&url, guess()).await), Some(401));
    }
    assert_eq!(
        status(OcppClient::refusal(&url, guess()).await),
        Some(429),
        "past 20 failures from one address"
    );
    // Refused attempts never replaced the connected station: it still works.
    let hb = connected
        .call("Heartbeat", serde_json::json!({}))
        .await
        .unwrap();
    assert!(hb["currentTime"].is_string());
    connected.close().await;
    let mut cs = OcppClient::connect_with(&url, real()).await.unwrap();
    assert_eq!(cs.boot().await.unwrap()["status"], "Accepted");
}
