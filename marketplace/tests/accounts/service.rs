use marketplace::accounts::service::{self, Registration};
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL, UNKNOWN_CLIENT};
use marketplace::Error;
use sqlx::PgPool;

fn keys() -> AuthKeys {
    AuthKeys::new(&[42; 32], DEFAULT_ACCESS_TTL)
}

fn registration(email: &str) -> Registration {
    Registration {
        email: email.into(),
        password: "correct horse battery".into(),
        display_name: Some("  Ada  ".into()),
        role: None,
    }
}

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn register_then_login(pool: PgPool) {
    let keys = keys();
    let registered = service::register(&pool, &keys, registration(" Ada@Example.COM "))
        .await
        .unwrap();
    let user = &registered.user;
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(user.role, Role::Driver, "driver is the default role");
    assert_eq!(user.display_name.as_deref(), Some("Ada"));
    assert_eq!(user.id.get_version_num(), 7);
    let claims = keys.verify_access(&registered.tokens.access_token).unwrap();
    assert_eq!((claims.sub, claims.role), (user.id, Role::Driver));
    assert_eq!(registered.tokens.token_type, "Bearer");
    assert_eq!(registered.tokens.expires_in, 900);

    // email matching ignores case and surrounding spaces
    let tokens = service::login(
        &pool,
        &keys,
        "ADA@example.com ",
        "correct horse battery",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap()
    .tokens()
    .expect("no second factor");
    assert_eq!(
        keys.verify_access(&tokens.access_token).unwrap().sub,
        user.id
    );
    assert_ne!(tokens.refresh_token, registered.tokens.refresh_token);
}

#[sqlx::test(migrations = "../migrations")]
async fn register_validates_every_field(pool: PgPool) {
    let input = Registration {
        email: "not-an-email".into(),
        password: "short".into(),
        display_name: None,
        role: Some(Role::Operator),
    };
    let err = service::register(&pool, &keys(), input).await.unwrap_err();
    assert_eq!(fields(err), ["email", "password", "role"]);

    let mut input = registration("op@example.com");
    input.role = Some(Role::Admin);
    let err = service::register(&pool, &keys(), input).await.unwrap_err();
    assert_eq!(fields(err), ["role"]);

    let mut input = registration("host@example.com");
    input.role = Some(Role::Host);
    let registered = service::register(&pool, &keys(), input).await.unwrap();
    assert_eq!(registered.user.role, Role::Host);
}

#[sqlx::test(migrations = "../migrations")]
async fn duplicate_email_is_a_conflict(pool: PgPool) {
    service::register(&pool, &keys(), registration("ada@example.com"))
        .await
        .unwrap();
    let err = service::register(&pool, &keys(), registration("ADA@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                code: "email_taken",
                ..
            }
        ),
        "{err:?}"
    );
    let err = service::create_user(&pool, "Ada@Example.com", "whatever123", Role::Admin, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "email_taken");
}

#[sqlx::test(migrations = "../migrations")]
async fn create_user_allows_any_role(pool: PgPool) {
    let admin = service::create_user(&pool, "root@example.com", "long enough", Role::Admin, None)
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(!admin.disabled);
    assert_eq!(service::get_user(&pool, admin.id).await.unwrap(), admin);
    let err = service::create_user(&pool, "x", "long enough", Role::Operator, None)
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["email"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_email_and_wrong_password_look_the_same(pool: PgPool) {
    let keys = keys();
    service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    let wrong_password = service::login(
        &pool,
        &keys,
        "ada@example.com",
        "incorrect horse",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap_err();
    let unknown_email = service::login(
        &pool,
        &keys,
        "bob@example.com",
        "correct horse battery",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap_err();
    assert!(matches!(wrong_password, Error::InvalidCredentials));
    assert!(matches!(unknown_email, Error::InvalidCredentials));
    let too_long = service::login(
        &pool,
        &keys,
        "ada@example.com",
        &"x".repeat(10_000),
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap_err();
    assert!(matches!(too_long, Error::InvalidCredentials));
}

#[sqlx::test(migrations = "../migrations")]
async fn refresh_rotates_the_token(pool: PgPool) {
    let keys = keys();
    let first = service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    let second = service::refresh(&pool, &keys, &first.tokens.refresh_token)
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.tokens.refresh_token);
    let claims = keys.verify_access(&second.access_token).unwrap();
    assert_eq!(claims.sub, first.user.id);
    let third = service::refresh(&pool, &keys, &second.refresh_token)
        .await
        .unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);

    // one family, three tokens, only the digests stored
    let (families, tokens): (i64, i64) =
        sqlx::query_as("SELECT count(DISTINCT family_id), count(*) FROM refresh_tokens")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((families, tokens), (1, 3));
    let stored: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT token_hash FROM refresh_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(stored
        .iter()
        .all(|(hash,)| hash.len() == 32 && hash.as_slice() != third.refresh_token.as_bytes()));
}

#[sqlx::test(migrations = "../migrations")]
async fn reusing_a_refresh_token_revokes_its_family(pool: PgPool) {
    let keys = keys();
    let registered = service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    let stolen = registered.tokens.refresh_token;
    let other_device = service::login(
        &pool,
        &keys,
        "ada@example.com",
        "correct horse battery",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap()
    .tokens()
    .expect("no second factor");

    let current = service::refresh(&pool, &keys, &stolen).await.unwrap();
    let reuse = service::refresh(&pool, &keys, &stolen).await.unwrap_err();
    assert!(matches!(reuse, Error::InvalidRefreshToken));
    // the legitimate holder's newer token died with the family
    let after = service::refresh(&pool, &keys, &current.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(after, Error::InvalidRefreshToken));
    // another login (another family) is untouched
    service::refresh(&pool, &keys, &other_device.refresh_token)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn logout_revokes_the_family(pool: PgPool) {
    let keys = keys();
    let registered = service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    let current = service::refresh(&pool, &keys, &registered.tokens.refresh_token)
        .await
        .unwrap();
    service::logout(&pool, &current.refresh_token)
        .await
        .unwrap();
    let err = service::refresh(&pool, &keys, &current.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRefreshToken));
    // idempotent, and unknown tokens are fine too (RFC 7009)
    service::logout(&pool, &current.refresh_token)
        .await
        .unwrap();
    service::logout(&pool, "never-issued").await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_and_expired_refresh_tokens_fail(pool: PgPool) {
    let keys = keys();
    let err = service::refresh(&pool, &keys, "never-issued")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRefreshToken));

    let registered = service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE refresh_tokens SET created_at = now() - interval '31 days', \
                                   expires_at = now() - interval '1 day'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let err = service::refresh(&pool, &keys, &registered.tokens.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRefreshToken));
}

#[sqlx::test(migrations = "../migrations")]
async fn disabled_users_cannot_log_in_or_refresh(pool: PgPool) {
    let keys = keys();
    let registered = service::register(&pool, &keys, registration("ada@example.com"))
        .await
        .unwrap();
    let user = service::set_disabled(&pool, registered.user.id, true)
        .await
        .unwrap();
    assert!(user.disabled);

    let err = service::login(
        &pool,
        &keys,
        "ada@example.com",
        "correct horse battery",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::AccountDisabled));
    // a wrong password does not reveal that the account is disabled
    let err = service::login(
        &pool,
        &keys,
        "ada@example.com",
        "incorrect horse",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
    // disabling revoked the refresh tokens
    let err = service::refresh(&pool, &keys, &registered.tokens.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRefreshToken));

    service::set_disabled(&pool, user.id, false).await.unwrap();
    service::login(
        &pool,
        &keys,
        "ada@example.com",
        "correct horse battery",
        UNKNOWN_CLIENT,
    )
    .await
    .unwrap();
    let err = service::set_disabled(&pool, uuid::Uuid::now_v7(), true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("user")));
}

#[sqlx::test(migrations = "../migrations")]
async fn server_secret_is_created_once(pool: PgPool) {
    let first = service::load_or_create_secret(&pool).await.unwrap();
    let second = service::load_or_create_secret(&pool).await.unwrap();
    assert_eq!(first.len(), 32);
    assert_eq!(
        first, second,
        "restarts and other nodes read the same secret"
    );
}
