//! The transactional outbox: messages are written with the change that causes them and
//! delivered later by the notifications capability (e-mail and SMS providers), which sets
//! `sent_at`. Writing in the caller's transaction means a rolled-back request sends nothing.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

pub(in crate::accounts) async fn insert_outbox_message(
    conn: &mut PgConnection,
    channel: &str,
    recipient: &str,
    subject: Option<&str>,
    body: &str,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO outbox_messages (id, channel, recipient, subject, body) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(channel)
    .bind(recipient)
    .bind(subject)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(id)
}
