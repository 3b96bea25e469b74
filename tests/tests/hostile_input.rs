//! Input PostgreSQL cannot store, oversized bodies and slow clients, sent over the real
//! sockets: each gets a 4xx (or a CALLERROR, or a closed socket) naming what is wrong, never a
//! 500, and the server serves the next request as before.

use std::time::Duration;

use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let operator = server.token_for("operator").await.unwrap();
    let client = reqwest::Client::new();

    // The fuzzer's find: a NUL in a query parameter used to be a 500.
    let (status, body) = problem(
        client
            .get(server.url("/api/transactions?stationId=CS%00X"))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "stationId");

    let (status, body) = problem(
        client
            .get(server.url("/api/stations/CS%00X"))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("path")));

    let (status, body) = problem(
        client
            .post(server.url("/api/auth/register"))
            .json(
                &json!({"email": "nul@test.local", "password": "correct horse battery",
                          "display_name": "Eve\u{0}"}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "display_name");

    // The server is fine afterwards.
    let ok = client
        .get(server.url("/api/transactions?stationId=CS-1"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_station_sending_nul_gets_a_callerror_and_stays_connected() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("NUL-1"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let answer = cs
        .call_raw(
            "DataTransfer",
            json!({"vendorId": "acme\u{0}", "messageId": "x"}),
        )
        .await
        .unwrap();
    assert_eq!(answer[0], 4, "a CALLERROR: {answer}");
    assert_eq!(answer[2], "PropertyConstraintViolation");
    assert!(
        answer[3].as_str().unwrap().contains("/vendorId"),
        "{answer}"
    );
    let beat = cs.call("Heartbeat", json!({})).await.unwrap();
    assert!(beat["currentTime"].is_string());
}

#[tokio::test]
async fn oversized_bodies_are_413_problems() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let big = "x".repeat(2 * 1024 * 1024);
    let (status, body) = problem(
        reqwest::Client::new()
            .post(server.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(format!(r#"{{"email":"a@b.c","password":"{big}"}}"#))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["code"]), (413, &json!("payload_too_large")));
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_dropped() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut socket = tokio::net::TcpStream::connect(server.listen_addr())
        .await
        .unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the head: the server must hang up (10 s header timeout), not wait forever.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was still open after 30 s");
}
