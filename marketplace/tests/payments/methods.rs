//! Saved cards: brand and last four digits only, one default, removal keeps history.

use marketplace::accounts::Role;
use marketplace::payments::service;
use marketplace::Error;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_test_card_is_kept_as_brand_and_last4_only(pool: PgPool) {
    let p = provider();
    let d = user(&pool, Role::Driver).await;
    let saved = save_card(&pool, &p, &d, "4242 4242 4242 4242").await;
    assert_eq!(
        (saved.brand.as_str(), saved.last4.as_str()),
        ("visa", "4242")
    );
    assert!(saved.is_default, "the first card is the default");
    let leaks = count(
        &pool,
        "SELECT count(*) FROM payment_methods WHERE provider_method_id LIKE '%424242424242%' \
         OR brand LIKE '%4242424242%'",
    )
    .await;
    assert_eq!(leaks, 0);
    // the customer was made once, at the provider, for this user
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_customers").await,
        1
    );
    save_card(&pool, &p, &d, "5555555555554444").await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_customers").await,
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn one_default_and_removal_promotes_the_newest(pool: PgPool) {
    let p = provider();
    let d = user(&pool, Role::Driver).await;
    let first = save_card(&pool, &p, &d, OK_CARD).await;
    let second = save_card(&pool, &p, &d, "5555555555554444").await;
    assert!(!second.is_default);
    let made = service::set_default(&pool, &d, second.id).await.unwrap();
    assert!(made.is_default);
    let list = service::list_methods(&pool, &d).await.unwrap();
    assert_eq!(list.iter().filter(|m| m.is_default).count(), 1);
    assert_eq!(list[0].id, second.id, "the default comes first");

    service::remove_method(&pool, &p, &d, second.id, now())
        .await
        .unwrap();
    let list = service::list_methods(&pool, &d).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].is_default && list[0].id == first.id);
    // removed cards are someone's history, not anyone's to remove again
    let again = service::remove_method(&pool, &p, &d, second.id, now()).await;
    assert!(matches!(again, Err(Error::NotFound(_))));
    // nor another user's to touch
    let other = user(&pool, Role::Driver).await;
    let theirs = service::set_default(&pool, &other, first.id).await;
    assert!(matches!(theirs, Err(Error::NotFound(_))));
}

#[sqlx::test(migrations = "../migrations")]
async fn cards_the_local_provider_does_not_know_are_a_field_error(pool: PgPool) {
    let p = provider();
    let d = user(&pool, Role::Driver).await;
    let err = service::add_method(&pool, &p, &d, card("4111111111111111"), None, now())
        .await
        .unwrap_err();
    match err {
        Error::Validation(errors) => assert_eq!(errors[0].field, "card_number"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_methods").await,
        0
    );
}
