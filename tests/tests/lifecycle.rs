//! Shutdown and restart as stations see them.

use e2e_tests::server::bin;
use e2e_tests::{OcppClient, Received, Server, ServerOptions};
use serde_json::{json, Value};

#[tokio::test]
async fn sigterm_closes_station_sockets_with_a_close_frame_and_exits_0() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-DOWN"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let closed = tokio::spawn(async move { cs.recv().await.unwrap() });
    let status = server.terminate().await.unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(closed.await.unwrap(), Received::Closed(Some(1001)));
}

#[tokio::test]
async fn heartbeats_written_behind_are_flushed_at_shutdown() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let db_url = server.database_url.clone();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-FLUSH"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    cs.call("Heartbeat", json!({})).await.unwrap();
    assert!(server.terminate().await.unwrap().success());
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();
    let hb: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_heartbeat_at FROM stations WHERE id = 'CS-FLUSH'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(hb.is_some());
}

#[tokio::test]
async fn stations_reconnect_after_a_server_restart() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let addr = server.listen_addr();
    let db_url = server.database_url.clone();
    let options = server.options();
    let mut sim = tokio::process::Command::new(bin("evsim"))
        .args(["station", "--url", &server.ocpp_url("SIM-RESTART")])
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let token = server.token_for("operator").await.unwrap();
    let connected = |v: &Value| v["connected"] == true;
    let seen = server
        .eventually(&token, "/api/stations/SIM-RESTART", connected)
        .await;
    assert!(connected(&seen), "{seen}");
    assert!(server.terminate().await.unwrap().success());
    let server = Server::start_on(db_url, options, &addr).await.unwrap();
    let seen = server
        .eventually(&token, "/api/stations/SIM-RESTART", connected)
        .await;
    assert!(connected(&seen), "the simulator did not come back: {seen}");
    let _ = sim.start_kill();
}
