use ocpp_schemas::{actions, is_known_action, validate, warm_up, Direction, ErrorCode, Violation};
use serde_json::{json, Value};

const TS: &str = "2024-05-01T10:00:00.000Z";

fn request(action: &str, payload: Value) -> Result<(), Violation> {
    validate(action, Direction::Request, &payload)
}

fn response(action: &str, payload: Value) -> Result<(), Violation> {
    validate(action, Direction::Response, &payload)
}

#[track_caller]
fn assert_violation(result: Result<(), Violation>, code: ErrorCode, instance_path: &str) {
    let violation = result.expect_err("payload should be rejected");
    assert_eq!(violation.code, code, "{violation}");
    assert_eq!(violation.instance_path, instance_path, "{violation}");
    // The description must name the field so the peer can find it.
    if !instance_path.is_empty() {
        assert!(violation.description.contains(instance_path), "{violation}");
    }
}

fn boot_notification() -> Value {
    json!({
        "reason": "PowerUp",
        "chargingStation": {
            "model": "SingleSocketCharger",
            "vendorName": "VendorX",
            "serialNumber": "SN-0001",
            "firmwareVersion": "1.2.3"
        }
    })
}

fn with(mut payload: Value, pointer: &str, value: Value) -> Value {
    *payload.pointer_mut(pointer).expect("pointer exists") = value;
    payload
}

#[test]
fn all_128_schemas_compile() {
    warm_up();
    // Compiling is once-only; a second call must not redo or break anything.
    warm_up();
    assert_eq!(actions().count(), 64);
    for action in actions() {
        // `{}` is checked against each compiled validator in both directions.
        let _ = request(action, json!({}));
        let _ = response(action, json!({}));
    }
}

#[test]
fn actions_are_sorted_and_known() {
    let all: Vec<&str> = actions().collect();
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    for action in &all {
        assert!(is_known_action(action));
    }
    for action in [
        "BootNotification",
        "Heartbeat",
        "TransactionEvent",
        "Get15118EVCertificate",
    ] {
        assert!(all.contains(&action), "{action}");
    }
    assert!(!is_known_action("bootnotification"));
    assert!(!is_known_action("BootNotificationRequest"));
    assert!(!is_known_action(""));
}

#[test]
fn unknown_action_is_not_implemented() {
    let violation = request("FooBar", json!({})).unwrap_err();
    assert_eq!(violation.code, ErrorCode::NotImplemented);
    assert_eq!(
        violation.description,
        "Requested Action is not known by receiver"
    );
    assert_eq!(violation.instance_path, "");
    assert_eq!(
        response("FooBar", json!({})).unwrap_err().code,
        ErrorCode::NotImplemented
    );
}

#[test]
fn non_object_payload_is_format_violation() {
    for payload in [json!([]), json!("x"), json!(null), json!(1), json!(true)] {
        assert_violation(
            request("Heartbeat", payload),
            ErrorCode::FormatViolation,
            "",
        );
    }
}

#[test]
fn wrong_type_is_type_constraint_violation() {
    let payload = with(boot_notification(), "/reason", json!(5));
    let violation = request("BootNotification", payload.clone()).unwrap_err();
    assert_eq!(violation.code, ErrorCode::TypeConstraintViolation);
    assert_eq!(violation.instance_path, "/reason");
    assert_eq!(
        violation.description,
        "/reason: expected string, got integer"
    );
    assert_eq!(
        violation.to_string(),
        "TypeConstraintViolation: /reason: expected string, got integer"
    );
    assert_violation(
        request("Heartbeat", json!({"customData": "x"})),
        ErrorCode::TypeConstraintViolation,
        "/customData",
    );
}

#[test]
fn too_long_string_is_type_constraint_violation() {
    // chargingStation.model is string[20].
    let payload = with(
        boot_notification(),
        "/chargingStation/model",
        json!("M".repeat(21)),
    );
    assert_violation(
        request("BootNotification", payload),
        ErrorCode::TypeConstraintViolation,
        "/chargingStation/model",
    );
    let payload = with(
        boot_notification(),
        "/chargingStation/model",
        json!("M".repeat(20)),
    );
    assert!(request("BootNotification", payload).is_ok());
}

#[test]
fn missing_field_is_occurrence_constraint_violation() {
    let mut payload = boot_notification();
    payload.as_object_mut().unwrap().remove("chargingStation");
    assert_violation(
        request("BootNotification", payload),
        ErrorCode::OccurrenceConstraintViolation,
        "/chargingStation",
    );
}

#[test]
fn local_refs_resolve_into_definitions() {
    // chargingStation is `{"$ref": "#/definitions/ChargingStationType"}`; the error must come
    // from inside that definition.
    let mut payload = boot_notification();
    payload["chargingStation"]
        .as_object_mut()
        .unwrap()
        .remove("model");
    assert_violation(
        request("BootNotification", payload),
        ErrorCode::OccurrenceConstraintViolation,
        "/chargingStation/model",
    );
}

#[test]
fn empty_sampled_value_is_occurrence_constraint_violation() {
    let payload = json!({
        "evseId": 1,
        "meterValue": [{"timestamp": TS, "sampledValue": []}]
    });
    assert_violation(
        request("MeterValues", payload),
        ErrorCode::OccurrenceConstraintViolation,
        "/meterValue/0/sampledValue",
    );
}

#[test]
fn too_many_items_is_occurrence_constraint_violation() {
    // A ChargingProfile carries at most 3 ChargingSchedules.
    let schedule = json!({
        "id": 1,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]
    });
    let payload = json!({
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [schedule, schedule, schedule, schedule]
        }
    });
    assert_violation(
        request("SetChargingProfile", payload.clone()),
        ErrorCode::OccurrenceConstraintViolation,
        "/chargingProfile/chargingSchedule",
    );
    let mut three = payload;
    three["chargingProfile"]["chargingSchedule"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(request("SetChargingProfile", three).is_ok());
}

#[test]
fn extra_field_is_format_violation() {
    let mut payload = boot_notification();
    payload["colour"] = json!("red");
    assert_violation(
        request("BootNotification", payload),
        ErrorCode::FormatViolation,
        "/colour",
    );
    let mut payload = boot_notification();
    payload["chargingStation"]["colour"] = json!("red");
    assert_violation(
        request("BootNotification", payload),
        ErrorCode::FormatViolation,
        "/chargingStation/colour",
    );
}

#[test]
fn bad_enum_is_property_constraint_violation() {
    let payload = with(boot_notification(), "/reason", json!("Sunshine"));
    let violation = request("BootNotification", payload).unwrap_err();
    assert_eq!(violation.code, ErrorCode::PropertyConstraintViolation);
    assert_eq!(violation.instance_path, "/reason");
    assert!(violation
        .description
        .starts_with("/reason: \"Sunshine\" is not one of"));
}

#[test]
fn out_of_range_is_property_constraint_violation() {
    let needs = |soc: i64| {
        json!({
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "DC",
                "dcChargingParameters": {"evMaxCurrent": 200, "evMaxVoltage": 500, "stateOfCharge": soc}
            }
        })
    };
    let path = "/chargingNeeds/dcChargingParameters/stateOfCharge";
    assert!(request("NotifyEVChargingNeeds", needs(100)).is_ok());
    assert_violation(
        request("NotifyEVChargingNeeds", needs(101)),
        ErrorCode::PropertyConstraintViolation,
        path,
    );
    assert_violation(
        request("NotifyEVChargingNeeds", needs(-1)),
        ErrorCode::PropertyConstraintViolation,
        path,
    );
}

#[test]
fn bad_date_time_is_property_constraint_violation() {
    for bad in ["yesterday", "2024-05-01T10:00:00", "2024-13-01T10:00:00Z"] {
        assert_violation(
            response("Heartbeat", json!({"currentTime": bad})),
            ErrorCode::PropertyConstraintViolation,
            "/currentTime",
        );
    }
    for good in ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+02:00"] {
        assert!(response("Heartbeat", json!({"currentTime": good})).is_ok());
    }
}

#[test]
fn description_is_capped() {
    let payload = with(boot_notification(), "/reason", json!("x".repeat(10_000)));
    let violation = request("BootNotification", payload).unwrap_err();
    assert_eq!(violation.code, ErrorCode::PropertyConstraintViolation);
    assert!(
        violation.description.len() <= 300,
        "{}",
        violation.description.len()
    );
}

#[test]
fn first_error_is_deterministic() {
    let payload = json!({"reason": 5, "colour": "red"});
    let first = request("BootNotification", payload.clone()).unwrap_err();
    for _ in 0..10 {
        assert_eq!(
            request("BootNotification", payload.clone()).unwrap_err(),
            first
        );
    }
}

#[test]
fn concurrent_first_use_compiles_once_and_agrees() {
    let threads: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(|| request("ReserveNow", json!({})).unwrap_err().code))
        .collect();
    for thread in threads {
        assert_eq!(
            thread.join().unwrap(),
            ErrorCode::OccurrenceConstraintViolation
        );
    }
}

#[test]
fn valid_core_messages_pass() {
    let id_token = json!({"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"});
    let cases = [
        ("BootNotification", Direction::Request, boot_notification()),
        (
            "BootNotification",
            Direction::Response,
            json!({"currentTime": TS, "interval": 300, "status": "Accepted"}),
        ),
        ("Heartbeat", Direction::Request, json!({})),
        // customData is the one open object: vendors may add anything next to vendorId.
        (
            "Heartbeat",
            Direction::Request,
            json!({"customData": {"vendorId": "com.example", "anything": [1, 2]}}),
        ),
        ("Heartbeat", Direction::Response, json!({"currentTime": TS})),
        (
            "StatusNotification",
            Direction::Request,
            json!({"timestamp": TS, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
        ),
        ("StatusNotification", Direction::Response, json!({})),
        (
            "TransactionEvent",
            Direction::Request,
            json!({
                "eventType": "Started",
                "timestamp": TS,
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "f4b9c2d0-tx-0001", "chargingState": "EVConnected"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": id_token,
                "meterValue": [{
                    "timestamp": TS,
                    "sampledValue": [{
                        "value": 1234.5,
                        "context": "Transaction.Begin",
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh", "multiplier": 0}
                    }]
                }]
            }),
        ),
        ("TransactionEvent", Direction::Response, json!({})),
        (
            "TransactionEvent",
            Direction::Response,
            json!({"totalCost": 1.25, "idTokenInfo": {"status": "Accepted"}}),
        ),
        (
            "MeterValues",
            Direction::Request,
            json!({
                "evseId": 1,
                "meterValue": [{"timestamp": TS, "sampledValue": [{"value": 230.1, "measurand": "Voltage", "phase": "L1-N"}]}]
            }),
        ),
        ("MeterValues", Direction::Response, json!({})),
        (
            "Authorize",
            Direction::Request,
            json!({"idToken": id_token}),
        ),
        (
            "Authorize",
            Direction::Response,
            json!({"idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": TS}}),
        ),
    ];
    for (action, direction, payload) in cases {
        if let Err(violation) = validate(action, direction, &payload) {
            panic!("{action} {direction:?} rejected: {violation}\n{payload:#}");
        }
    }
}

#[test]
fn request_and_response_schemas_are_distinct() {
    let payload = json!({"currentTime": TS});
    assert!(response("Heartbeat", payload.clone()).is_ok());
    assert_violation(
        request("Heartbeat", payload),
        ErrorCode::FormatViolation,
        "/currentTime",
    );
}

#[test]
fn integral_float_is_an_integer_as_in_draft_06() {
    let status = |evse_id: Value| json!({"timestamp": TS, "connectorStatus": "Available", "evseId": evse_id, "connectorId": 1});
    assert!(request("StatusNotification", status(json!(1.0))).is_ok());
    assert_violation(
        request("StatusNotification", status(json!(1.5))),
        ErrorCode::TypeConstraintViolation,
        "/evseId",
    );
    let violation = request("StatusNotification", status(json!("1"))).unwrap_err();
    assert_eq!(
        violation.description,
        "/evseId: expected integer, got string"
    );
}

#[test]
fn action_names_are_static_only_for_known_actions() {
    assert_eq!(ocpp_schemas::action_name("Heartbeat"), Some("Heartbeat"));
    assert_eq!(
        ocpp_schemas::action_name("TransactionEvent"),
        Some("TransactionEvent")
    );
    assert_eq!(ocpp_schemas::action_name("heartbeat"), None);
    assert_eq!(ocpp_schemas::action_name("NoSuchAction"), None);
}
