//! Telling people things: the [`Notifier`] port, and the transactional outbox behind it.
//!
//! A message is written with the change that causes it, in the caller's transaction, and
//! delivered later by the notifications capability (e-mail and SMS providers), which sets
//! `sent_at`: a rolled-back request sends nothing, and a committed one is never lost.

use std::future::Future;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

/// "Tell this user this, in this transaction."
pub trait Notifier {
    /// E-mails a user at their account's address; nothing when there is no such user.
    fn tell_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        subject: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Sends to an address on a channel (`email`, `sms`), for people who may not be users
    /// yet (one-time codes); answers the message's id.
    fn send_to(
        &self,
        conn: &mut PgConnection,
        channel: &str,
        recipient: &str,
        subject: Option<&str>,
        body: &str,
    ) -> impl Future<Output = Result<Uuid, Error>> + Send;
}

/// The `outbox_messages` table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbox;

impl Notifier for Outbox {
    async fn tell_user(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        subject: &str,
        body: &str,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO outbox_messages (id, channel, recipient, subject, body) \
             SELECT $1, 'email', email::text, $3, $4 FROM users WHERE id = $2",
        )
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(subject)
        .bind(body)
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn send_to(
        &self,
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
}
