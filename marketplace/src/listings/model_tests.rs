use super::*;
use crate::accounts::{AuthUser, Role};
use proptest::prelude::*;

fn input() -> ListingInput {
    ListingInput {
        title: "  Wallbox in the garage ".into(),
        address: "Hauptstr. 1, Berlin".into(),
        latitude: 52.52,
        longitude: 13.405,
        time_zone: "Europe/Berlin".into(),
        ..ListingInput::default()
    }
}

fn fields(errors: Vec<FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.field).collect()
}

#[test]
fn valid_listing_gets_defaults() {
    let f = validate_listing(input()).unwrap();
    assert_eq!(f.title, "Wallbox in the garage");
    assert_eq!(f.time_zone, chrono_tz::Europe::Berlin);
    assert_eq!(f.device_kind, DeviceKind::Plain);
    assert_eq!(f.currency, "USD");
}

#[test]
fn every_bad_field_is_named() {
    let bad = ListingInput {
        title: "ab".into(),
        description: "x".repeat(5001),
        photos: vec![
            "ftp://x/y.jpg".into(),
            "https://".into(),
            "https://cdn.example/a b.jpg".into(),
        ],
        address: " ".into(),
        latitude: 91.0,
        longitude: f64::NAN,
        time_zone: "Mars/Olympus".into(),
        amenities: vec!["".into(), "x".repeat(51)],
        access_instructions: "x".repeat(2001),
        device_kind: Some(DeviceKind::Ocpp),
        device_id: None,
        currency: Some("usd".into()),
        price_per_kwh: Some(Decimal::new(2, 2)),
        price_per_hour: Some(Decimal::new(-1, 0)),
    };
    assert_eq!(
        fields(validate_listing(bad).unwrap_err()),
        [
            "title",
            "description",
            "address",
            "latitude",
            "longitude",
            "access_instructions",
            "photos[0]",
            "photos[1]",
            "photos[2]",
            "amenities[0]",
            "amenities[1]",
            "time_zone",
            "device_id",
            "currency",
            "price_per_kwh",
            "price_per_hour",
        ]
    );
}

#[test]
fn limits_on_lists_and_prices() {
    let mut i = input();
    i.photos = vec!["https://cdn.example/p.jpg".into(); 11];
    i.amenities = vec!["wifi".into(); 21];
    assert_eq!(
        fields(validate_listing(i).unwrap_err()),
        ["photos", "amenities"]
    );

    for (price, ok) in [
        ("0.05", true),
        ("1.00", true),
        ("0.3456", true),
        ("0.04", false),
        ("1.01", false),
        ("0.12345", false),
    ] {
        let mut i = input();
        i.price_per_kwh = Some(price.parse().unwrap());
        assert_eq!(validate_listing(i).is_ok(), ok, "{price}");
    }
    let mut i = input();
    i.device_id = Some("CP-1".into());
    assert_eq!(
        fields(validate_listing(i).unwrap_err()),
        ["device_id"],
        "plain has no device"
    );
    let mut i = input();
    i.device_kind = Some(DeviceKind::Ocpp);
    i.device_id = Some(" CP-1 ".into());
    assert_eq!(
        validate_listing(i).unwrap().device_id.as_deref(),
        Some("CP-1")
    );
}

#[test]
fn ports_are_checked_against_the_binding() {
    let port = PortInput {
        label: "left".into(),
        connector_type: ConnectorType::Ccs2,
        power_kw: 150.0,
        current_type: CurrentType::Dc,
        evse_id: Some(1),
        connector_id: Some(1),
    };
    assert!(validate_port(&port, DeviceKind::Ocpp).is_ok());
    assert_eq!(
        fields(validate_port(&port, DeviceKind::Plain).unwrap_err()),
        ["evse_id"]
    );
    let bad = PortInput {
        power_kw: 1000.5,
        evse_id: Some(0),
        ..port.clone()
    };
    assert_eq!(
        fields(validate_port(&bad, DeviceKind::Ocpp).unwrap_err()),
        ["power_kw", "evse_id"]
    );
    let half = PortInput {
        connector_id: None,
        ..port.clone()
    };
    assert_eq!(
        fields(validate_port(&half, DeviceKind::Ocpp).unwrap_err()),
        ["connector_id"]
    );
    for kw in [0.0, -1.0, f64::INFINITY] {
        let p = PortInput {
            power_kw: kw,
            ..port.clone()
        };
        assert!(validate_port(&p, DeviceKind::Ocpp).is_err(), "{kw}");
    }
}

#[test]
fn text_enums_round_trip() {
    for c in ConnectorType::ALL {
        assert_eq!(c.as_str().parse::<ConnectorType>().unwrap(), *c);
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    assert!("CCS3".parse::<ConnectorType>().is_err());
    assert_eq!(
        "listed".parse::<ListingStatus>().unwrap(),
        ListingStatus::Listed
    );
}

#[test]
fn lifecycle_happy_paths() {
    use ListingAction as A;
    use ListingStatus as S;
    let step = |from, action| transition(from, action).unwrap().unwrap();
    assert_eq!(step(S::Draft, A::Submit), S::Submitted);
    assert_eq!(step(S::Submitted, A::Approve), S::Listed);
    assert_eq!(step(S::Submitted, A::Reject), S::Rejected);
    assert_eq!(step(S::Rejected, A::Edit), S::Rejected);
    assert_eq!(step(S::Rejected, A::Submit), S::Submitted);
    assert_eq!(
        step(S::Listed, A::Edit),
        S::Listed,
        "editing keeps a listing listed"
    );
    assert_eq!(step(S::Listed, A::Unlist), S::Unlisted);
    assert_eq!(step(S::Unlisted, A::Relist), S::Listed);
    assert_eq!(transition(S::Unlisted, A::Delete), Ok(None));
}

#[test]
fn lifecycle_refusals() {
    use ListingAction as A;
    use ListingStatus as S;
    for (from, action) in [
        (S::Draft, A::Approve),
        (S::Draft, A::Unlist),
        (S::Submitted, A::Edit),
        (S::Submitted, A::Submit),
        (S::Submitted, A::Delete),
        (S::Listed, A::Delete),
        (S::Listed, A::Approve),
        (S::Listed, A::Relist),
        (S::Unlisted, A::Submit),
        (S::Rejected, A::Approve),
    ] {
        let err = transition(from, action).unwrap_err();
        assert_eq!(err.from, from.as_str());
    }
}

fn arb_status() -> impl Strategy<Value = ListingStatus> {
    prop::sample::select(ListingStatus::ALL.to_vec())
}

fn arb_action() -> impl Strategy<Value = ListingAction> {
    prop::sample::select(ListingAction::ALL.to_vec())
}

proptest! {
    /// Whatever the host and admin do, a listing only becomes listed through an approval of a
    /// submitted listing or a relist of an unlisted one, and deleted listings stay gone.
    #[test]
    fn only_approval_or_relist_lists(actions in prop::collection::vec(arb_action(), 0..40)) {
        let mut status = Some(ListingStatus::Draft);
        let mut ever_approved = false;
        for action in actions {
            let Some(from) = status else { break };
            if let Ok(next) = transition(from, action) {
                if next == Some(ListingStatus::Listed) && from != ListingStatus::Listed {
                    prop_assert!(matches!(
                        (from, action),
                        (ListingStatus::Submitted, ListingAction::Approve)
                            | (ListingStatus::Unlisted, ListingAction::Relist)
                    ));
                    ever_approved |= action == ListingAction::Approve;
                    prop_assert!(ever_approved, "relisted without ever being approved");
                }
                status = next;
            }
        }
    }

    /// Edit never changes the status; every other successful action does.
    #[test]
    fn edit_is_the_only_self_loop(from in arb_status(), action in arb_action()) {
        if let Ok(Some(to)) = transition(from, action) {
            prop_assert_eq!(to == from, action == ListingAction::Edit);
        }
    }
}

#[test]
fn access_rules() {
    let host = Uuid::now_v7();
    let user = |id, role| AuthUser { id, role };
    let owner = user(host, Role::Host);
    let other = user(Uuid::now_v7(), Role::Host);
    let admin = user(Uuid::now_v7(), Role::Admin);
    let driver = user(Uuid::now_v7(), Role::Driver);
    for status in ListingStatus::ALL.iter().copied() {
        assert_eq!(access(Some(&owner), host, status), Access::Write);
        assert_eq!(access(Some(&admin), host, status), Access::Write);
        let public = if status == ListingStatus::Listed {
            Access::Read
        } else {
            Access::None
        };
        assert_eq!(access(Some(&other), host, status), public);
        assert_eq!(access(Some(&driver), host, status), public);
        assert_eq!(access(None, host, status), public);
    }
}

#[test]
fn rejection_reason_is_required() {
    assert_eq!(
        validate_rejection_reason("  blurry photos ").unwrap(),
        "blurry photos"
    );
    assert_eq!(validate_rejection_reason("  ").unwrap_err().field, "reason");
}

#[test]
fn prices_parse_from_numbers_and_strings() {
    let parse = |price: serde_json::Value| {
        let body = serde_json::json!({
            "title": "Wallbox", "address": "Main St 1", "latitude": 0, "longitude": 0,
            "time_zone": "UTC", "price_per_kwh": price
        });
        serde_json::from_value::<ListingInput>(body).map(|i| i.price_per_kwh)
    };
    let expected = Some("0.35".parse::<Decimal>().unwrap());
    assert_eq!(parse(serde_json::json!(0.35)).unwrap(), expected);
    assert_eq!(parse(serde_json::json!("0.35")).unwrap(), expected);
    assert!(parse(serde_json::json!("cheap")).is_err());
}
