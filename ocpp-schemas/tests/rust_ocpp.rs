//! rust-ocpp 3.0.4 against the schemas: the known `startValue` bug, the owned replacement
//! types, and a survey of every action with generated schema-valid payloads.

use ocpp_schemas::types;
use ocpp_schemas::{validate, Direction};
use rust_ocpp::v2_0_1::messages::notify_ev_charging_schedule as ro_notify;
use rust_ocpp::v2_0_1::messages::set_charging_profile as ro_set;
use serde_json::{json, Value};

fn sales_tariff() -> Value {
    json!({
        "id": 7,
        "salesTariffDescription": "dynamic",
        "numEPriceLevels": 2,
        "customData": {"vendorId": "com.example", "tariffSource": "grid-operator"},
        "salesTariffEntry": [{
            "ePriceLevel": 1,
            "relativeTimeInterval": {"start": 0, "duration": 3600},
            "consumptionCost": [{
                "startValue": 12.5,
                "cost": [{"costKind": "RelativePricePercentage", "amount": 110, "amountMultiplier": -1}]
            }]
        }, {
            "relativeTimeInterval": {"start": 3600, "duration": 3600}
        }]
    })
}

fn charging_schedule() -> Value {
    json!({
        "id": 3,
        "startSchedule": "2024-05-01T10:00:00Z",
        "duration": 7200,
        "chargingRateUnit": "W",
        "minChargingRate": 1400.5,
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
            {"startPeriod": 3600, "limit": 7400.5, "numberPhases": 1, "phaseToUse": 2}
        ],
        "salesTariff": sales_tariff()
    })
}

fn notify_ev_charging_schedule() -> Value {
    json!({
        "timeBase": "2024-05-01T10:00:00Z",
        "evseId": 1,
        "chargingSchedule": charging_schedule(),
        "customData": {"vendorId": "com.example", "note": "kept"}
    })
}

fn set_charging_profile() -> Value {
    json!({
        "evseId": 1,
        "chargingProfile": {
            "id": 12,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": "tx-42",
            "validFrom": "2024-05-01T00:00:00Z",
            "chargingSchedule": [charging_schedule()]
        }
    })
}

/// The first `startValue` of the SalesTariff in a ChargingSchedule.
fn start_value(schedule: &mut Value) -> &mut Value {
    &mut schedule["salesTariff"]["salesTariffEntry"][0]["consumptionCost"][0]["startValue"]
}

/// Drops the optional `duration` of the second SalesTariffEntry of a ChargingSchedule.
fn remove_second_duration(schedule: &mut Value) {
    schedule["salesTariff"]["salesTariffEntry"][1]["relativeTimeInterval"]
        .as_object_mut()
        .unwrap()
        .remove("duration");
}

#[test]
fn rust_ocpp_rejects_schema_valid_fractional_start_value() {
    let payload = notify_ev_charging_schedule();
    validate("NotifyEVChargingSchedule", Direction::Request, &payload)
        .expect("the payload is valid per the official schema");
    serde_json::from_value::<ro_notify::NotifyEVChargingScheduleRequest>(payload.clone())
        .expect_err("rust-ocpp types startValue as i32");

    // The same payload with an integral startValue parses, so 12.5 is what rust-ocpp rejects.
    let mut integral = payload;
    *start_value(&mut integral["chargingSchedule"]) = json!(12);
    validate("NotifyEVChargingSchedule", Direction::Request, &integral).unwrap();
    serde_json::from_value::<ro_notify::NotifyEVChargingScheduleRequest>(integral)
        .expect("rust-ocpp accepts an integral startValue");

    let payload = set_charging_profile();
    validate("SetChargingProfile", Direction::Request, &payload)
        .expect("the payload is valid per the official schema");
    serde_json::from_value::<ro_set::SetChargingProfileRequest>(payload.clone())
        .expect_err("rust-ocpp types startValue as i32");
    let mut integral = payload;
    *start_value(&mut integral["chargingProfile"]["chargingSchedule"][0]) = json!(12);
    validate("SetChargingProfile", Direction::Request, &integral).unwrap();
    serde_json::from_value::<ro_set::SetChargingProfileRequest>(integral)
        .expect("rust-ocpp accepts an integral startValue");
}

#[test]
fn rust_ocpp_rejects_missing_optional_duration() {
    let mut payload = notify_ev_charging_schedule();
    *start_value(&mut payload["chargingSchedule"]) = json!(12);
    remove_second_duration(&mut payload["chargingSchedule"]);
    validate("NotifyEVChargingSchedule", Direction::Request, &payload)
        .expect("duration is optional in the schema");
    let error = serde_json::from_value::<ro_notify::NotifyEVChargingScheduleRequest>(payload)
        .expect_err("rust-ocpp requires relativeTimeInterval.duration");
    assert!(error.to_string().contains("duration"), "{error}");
}

#[test]
fn rust_ocpp_drops_custom_data() {
    let payload = json!({"customData": {"vendorId": "com.example", "x": 1}});
    validate("Heartbeat", Direction::Request, &payload).unwrap();
    let parsed: rust_ocpp::v2_0_1::messages::heartbeat::HeartbeatRequest =
        serde_json::from_value(payload).unwrap();
    assert_eq!(serde_json::to_value(parsed).unwrap(), json!({}));
}

#[test]
fn owned_notify_ev_charging_schedule_deserializes_and_round_trips() {
    let mut payload = notify_ev_charging_schedule();
    remove_second_duration(&mut payload["chargingSchedule"]);
    validate("NotifyEVChargingSchedule", Direction::Request, &payload).unwrap();
    let parsed: types::NotifyEVChargingScheduleRequest =
        serde_json::from_value(payload.clone()).unwrap();
    let tariff = parsed.charging_schedule.sales_tariff.as_ref().unwrap();
    let cost = &tariff.sales_tariff_entry[0]
        .consumption_cost
        .as_ref()
        .unwrap()[0];
    assert_eq!(cost.start_value, 12.5);
    assert_eq!(
        cost.cost[0].cost_kind,
        types::CostKindEnumType::RelativePricePercentage
    );
    assert_eq!(
        tariff.sales_tariff_entry[1].relative_time_interval.duration,
        None
    );
    assert_eq!(
        parsed.custom_data,
        Some(json!({"vendorId": "com.example", "note": "kept"}))
    );
    assert_eq!(
        tariff.custom_data.as_ref().unwrap()["tariffSource"],
        json!("grid-operator")
    );

    let written = serde_json::to_value(&parsed).unwrap();
    validate("NotifyEVChargingSchedule", Direction::Request, &written)
        .expect("what we write is schema-valid");
    assert_eq!(same_numbers(&written), same_numbers(&payload));
    let reparsed: types::NotifyEVChargingScheduleRequest = serde_json::from_value(written).unwrap();
    assert_eq!(reparsed, parsed);
}

#[test]
fn owned_set_charging_profile_deserializes_and_round_trips() {
    let mut payload = set_charging_profile();
    remove_second_duration(&mut payload["chargingProfile"]["chargingSchedule"][0]);
    let parsed: types::SetChargingProfileRequest = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(
        parsed.charging_profile.transaction_id.as_deref(),
        Some("tx-42")
    );
    let written = serde_json::to_value(&parsed).unwrap();
    validate("SetChargingProfile", Direction::Request, &written).unwrap();
    assert_eq!(same_numbers(&written), same_numbers(&payload));
    assert_eq!(
        serde_json::from_value::<types::SetChargingProfileRequest>(written).unwrap(),
        parsed
    );
}

/// Rewrites every number as f64, so `11000` and `11000.0` compare equal however serde_json
/// is configured (rust-ocpp turns on its `arbitrary_precision`, which compares digits).
fn same_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => items.iter().map(same_numbers).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), same_numbers(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

// ---- survey -------------------------------------------------------------------------------

/// Builds a schema-valid payload: every property (or only the required ones when `minimal`),
/// the `variant`-th value of each enum, fractional numbers where the schema says `number`.
/// `customData` is left out: rust-ocpp drops it everywhere and that would drown the rest.
fn generate(root: &Value, node: &Value, variant: usize, minimal: bool) -> Value {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/definitions/").unwrap();
        return generate(root, &root["definitions"][name], variant, minimal);
    }
    if let Some(options) = node.get("enum").and_then(Value::as_array) {
        return options[variant % options.len()].clone();
    }
    // DataTransfer's `data` has no type at all: any JSON.
    let Some(ty) = node["type"].as_str() else {
        return json!({"any": [1, "json"]});
    };
    match ty {
        "object" => {
            let required: Vec<&str> = node["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut object = serde_json::Map::new();
            for (name, property) in node["properties"].as_object().unwrap() {
                if name == "customData" || (minimal && !required.contains(&name.as_str())) {
                    continue;
                }
                object.insert(name.clone(), generate(root, property, variant, minimal));
            }
            Value::Object(object)
        }
        "array" => {
            let count = node["minItems"].as_u64().unwrap_or(1).max(1) as usize;
            Value::Array(
                (0..count)
                    .map(|_| generate(root, &node["items"], variant, minimal))
                    .collect(),
            )
        }
        "string" if node["format"] == "date-time" => json!("2024-05-01T10:00:00.000Z"),
        "string" => {
            let max = node["maxLength"].as_u64().unwrap_or(8).min(8) as usize;
            json!("abcdefgh"[..max])
        }
        "integer" => json!(2),
        "number" => json!(12.5),
        "boolean" => json!(true),
        other => panic!("unexpected schema type {other}"),
    }
}

fn max_enum_len(schema: &Value) -> usize {
    schema["definitions"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|d| d.get("enum").and_then(Value::as_array).map(Vec::len))
        .max()
        .unwrap_or(1)
}

/// Paths where `written` differs from `original`.
fn diff(original: &Value, written: &Value, path: &str, out: &mut Vec<String>) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = format!("{path}/{key}");
                match b.get(key) {
                    Some(other) => diff(value, other, &child, out),
                    None => out.push(format!("drops {child}")),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("adds {path}/{key} = {}", b[key]));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, &format!("{path}/{i}"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        // `.000Z` and `Z` are the same instant; only the spelling differs.
        (Value::String(a), Value::String(b)) if same_instant(a, b) => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("changes {path}: {a} -> {b}")),
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn survey_one<T>(action: &str, direction: Direction, out: &mut Vec<String>)
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let suffix = match direction {
        Direction::Request => "Request",
        Direction::Response => "Response",
    };
    let path = format!(
        "{}/schemas/{action}{suffix}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    for minimal in [false, true] {
        for variant in 0..max_enum_len(&schema) {
            let payload = generate(&schema, &schema, variant, minimal);
            validate(action, direction, &payload)
                .unwrap_or_else(|v| panic!("generator wrote an invalid {action}{suffix}: {v}"));
            if !minimal && variant == 0 {
                found.extend(required_optionals::<T>(&schema, &payload));
            }
            match serde_json::from_value::<T>(payload.clone()) {
                Err(error) => found.extend(explain_rejection::<T>(&payload, error)),
                Ok(parsed) => {
                    let written = serde_json::to_value(&parsed).unwrap();
                    diff(&payload, &written, "", &mut found);
                    if let Err(violation) = validate(action, direction, &written) {
                        found.push(format!("writes invalid JSON: {violation}"));
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    out.extend(found.into_iter().map(|f| format!("{action}{suffix} {f}")));
}

/// serde_json's error does not say where a number failed; find the `number` fields that
/// rust-ocpp cannot take as fractions by trying them one at a time on an all-integral payload.
fn explain_rejection<T: serde::de::DeserializeOwned>(
    payload: &Value,
    error: serde_json::Error,
) -> Vec<String> {
    let mut fractional = Vec::new();
    fractional_pointers(payload, String::new(), &mut fractional);
    if fractional.is_empty() {
        return vec![format!("rejects: {error}")];
    }
    let integral = truncate_numbers(payload);
    let mut found = Vec::new();
    if let Err(error) = serde_json::from_value::<T>(integral.clone()) {
        found.push(format!("rejects: {error}"));
    }
    for pointer in fractional {
        let mut one = integral.clone();
        *one.pointer_mut(&pointer).unwrap() = json!(12.5);
        if serde_json::from_value::<T>(one).is_ok() {
            continue;
        }
        // Report the schema field, not the array index, so repeats collapse.
        let field: Vec<&str> = pointer
            .split('/')
            .filter(|s| s.parse::<usize>().is_err())
            .collect();
        found.push(format!("rejects fractional number at {}", field.join("/")));
    }
    found
}

/// Optional fields (at any depth) that rust-ocpp nevertheless requires: drop each one in turn
/// from an otherwise complete, all-integral payload.
fn required_optionals<T: serde::de::DeserializeOwned>(
    schema: &Value,
    payload: &Value,
) -> Vec<String> {
    let integral = truncate_numbers(payload);
    if serde_json::from_value::<T>(integral.clone()).is_err() {
        // Rejected whatever is dropped; `explain_rejection` reports that.
        return Vec::new();
    }
    let mut optional = Vec::new();
    optional_pointers(schema, schema, &integral, String::new(), &mut optional);
    let mut found = Vec::new();
    for pointer in optional {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let mut without = integral.clone();
        without
            .pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
        if let Err(error) = serde_json::from_value::<T>(without) {
            let field: Vec<&str> = pointer
                .split('/')
                .filter(|s| s.parse::<usize>().is_err())
                .collect();
            found.push(format!("requires optional {}: {error}", field.join("/")));
        }
    }
    found
}

fn optional_pointers(
    root: &Value,
    node: &Value,
    value: &Value,
    path: String,
    out: &mut Vec<String>,
) {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/definitions/").unwrap();
        return optional_pointers(root, &root["definitions"][name], value, path, out);
    }
    match value {
        Value::Object(map) if node.get("properties").is_some() => {
            let required = node["required"].as_array();
            for (key, item) in map {
                let child = format!("{path}/{key}");
                if !required.is_some_and(|r| r.contains(&json!(key))) {
                    out.push(child.clone());
                }
                optional_pointers(root, &node["properties"][key], item, child, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                optional_pointers(root, &node["items"], item, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn fractional_pointers(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() != 0.0) => out.push(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                fractional_pointers(item, format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                fractional_pointers(item, format!("{path}/{key}"), out);
            }
        }
        _ => {}
    }
}

fn truncate_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() != 0.0) => {
            json!(n.as_f64().unwrap().trunc() as i64)
        }
        Value::Array(items) => items.iter().map(truncate_numbers).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), truncate_numbers(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

macro_rules! survey {
    ($out:ident; $(($module:ident, $request:ident, $response:ident, $action:literal),)*) => {
        $(
            survey_one::<rust_ocpp::v2_0_1::messages::$module::$request>(
                $action, Direction::Request, &mut $out);
            survey_one::<rust_ocpp::v2_0_1::messages::$module::$response>(
                $action, Direction::Response, &mut $out);
        )*
    };
}

/// Lists every disagreement between rust-ocpp 3.0.4 and the schemas that a generated payload
/// exposes (`cargo test -p ocpp-schemas --test rust_ocpp -- --nocapture survey`), and checks
/// that they are exactly the ones `ocpp_schemas::types` documents and replaces.
#[test]
fn survey_rust_ocpp_against_schemas() {
    let mut out = Vec::new();
    survey!(out;
        (authorize, AuthorizeRequest, AuthorizeResponse, "Authorize"),
        (boot_notification, BootNotificationRequest, BootNotificationResponse, "BootNotification"),
        (cancel_reservation, CancelReservationRequest, CancelReservationResponse, "CancelReservation"),
        (certificate_signed, CertificateSignedRequest, CertificateSignedResponse, "CertificateSigned"),
        (change_availability, ChangeAvailabilityRequest, ChangeAvailabilityResponse, "ChangeAvailability"),
        (clear_cache, ClearCacheRequest, ClearCacheResponse, "ClearCache"),
        (clear_charging_profile, ClearChargingProfileRequest, ClearChargingProfileResponse, "ClearChargingProfile"),
        (clear_display_message, ClearDisplayMessageRequest, ClearDisplayMessageResponse, "ClearDisplayMessage"),
        (clear_variable_monitoring, ClearVariableMonitoringRequest, ClearVariableMonitoringResponse, "ClearVariableMonitoring"),
        (cleared_charging_limit, ClearedChargingLimitRequest, ClearedChargingLimitResponse, "ClearedChargingLimit"),
        (cost_updated, CostUpdatedRequest, CostUpdatedResponse, "CostUpdated"),
        (customer_information, CustomerInformationRequest, CustomerInformationResponse, "CustomerInformation"),
        (datatransfer, DataTransferRequest, DataTransferResponse, "DataTransfer"),
        (delete_certificate, DeleteCertificateRequest, DeleteCertificateResponse, "DeleteCertificate"),
        (firmware_status_notification, FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse, "FirmwareStatusNotification"),
        (get_15118ev_certificate, Get15118EVCertificateRequest, Get15118EVCertificateResponse, "Get15118EVCertificate"),
        (get_base_report, GetBaseReportRequest, GetBaseReportResponse, "GetBaseReport"),
        (get_certificate_status, GetCertificateStatusRequest, GetCertificateStatusResponse, "GetCertificateStatus"),
        (get_charging_profiles, GetChargingProfilesRequest, GetChargingProfilesResponse, "GetChargingProfiles"),
        (get_composite_schedule, GetCompositeScheduleRequest, GetCompositeScheduleResponse, "GetCompositeSchedule"),
        (get_display_message, GetDisplayMessagesRequest, GetDisplayMessagesResponse, "GetDisplayMessages"),
        (get_installed_certificate_ids, GetInstalledCertificateIdsRequest, GetInstalledCertificateIdsResponse, "GetInstalledCertificateIds"),
        (get_local_list_version, GetLocalListVersionRequest, GetLocalListVersionResponse, "GetLocalListVersion"),
        (get_log, GetLogRequest, GetLogResponse, "GetLog"),
        (get_monitoring_report, GetMonitoringReportRequest, GetMonitoringReportResponse, "GetMonitoringReport"),
        (get_report, GetReportRequest, GetReportResponse, "GetReport"),
        (get_transaction_status, GetTransactionStatusRequest, GetTransactionStatusResponse, "GetTransactionStatus"),
        (get_variables, GetVariablesRequest, GetVariablesResponse, "GetVariables"),
        (heartbeat, HeartbeatRequest, HeartbeatResponse, "Heartbeat"),
        (install_certificate, InstallCertificateRequest, InstallCertificateResponse, "InstallCertificate"),
        (log_status_notification, LogStatusNotificationRequest, LogStatusNotificationResponse, "LogStatusNotification"),
        (meter_values, MeterValuesRequest, MeterValuesResponse, "MeterValues"),
        (notify_charging_limit, NotifyChargingLimitRequest, NotifyChargingLimitResponse, "NotifyChargingLimit"),
        (notify_customer_information, NotifyCustomerInformationRequest, NotifyCustomerInformationResponse, "NotifyCustomerInformation"),
        (notify_display_messages, NotifyDisplayMessagesRequest, NotifyDisplayMessagesResponse, "NotifyDisplayMessages"),
        (notify_ev_charging_needs, NotifyEVChargingNeedsRequest, NotifyEVChargingNeedsResponse, "NotifyEVChargingNeeds"),
        (notify_ev_charging_schedule, NotifyEVChargingScheduleRequest, NotifyEVChargingScheduleResponse, "NotifyEVChargingSchedule"),
        (notify_event, NotifyEventRequest, NotifyEventResponse, "NotifyEvent"),
        (notify_monitoring_report, NotifyMonitoringReportRequest, NotifyMonitoringReportResponse, "NotifyMonitoringReport"),
        (notify_report, NotifyReportRequest, NotifyReportResponse, "NotifyReport"),
        (publish_firmware, PublishFirmwareRequest, PublishFirmwareResponse, "PublishFirmware"),
        (publish_firmware_status_notification, PublishFirmwareStatusNotificationRequest, PublishFirmwareStatusNotificationResponse, "PublishFirmwareStatusNotification"),
        (report_charging_profiles, ReportChargingProfilesRequest, ReportChargingProfilesResponse, "ReportChargingProfiles"),
        (request_start_transaction, RequestStartTransactionRequest, RequestStartTransactionResponse, "RequestStartTransaction"),
        (request_stop_transaction, RequestStopTransactionRequest, RequestStopTransactionResponse, "RequestStopTransaction"),
        (reservation_status_update, ReservationStatusUpdateRequest, ReservationStatusUpdateResponse, "ReservationStatusUpdate"),
        (reserve_now, ReserveNowRequest, ReserveNowResponse, "ReserveNow"),
        (reset, ResetRequest, ResetResponse, "Reset"),
        (security_event_notification, SecurityEventNotificationRequest, SecurityEventNotificationResponse, "SecurityEventNotification"),
        (send_local_list, SendLocalListRequest, SendLocalListResponse, "SendLocalList"),
        (set_charging_profile, SetChargingProfileRequest, SetChargingProfileResponse, "SetChargingProfile"),
        (set_display_message, SetDisplayMessageRequest, SetDisplayMessageResponse, "SetDisplayMessage"),
        (set_monitoring_base, SetMonitoringBaseRequest, SetMonitoringBaseResponse, "SetMonitoringBase"),
        (set_monitoring_level, SetMonitoringLevelRequest, SetMonitoringLevelResponse, "SetMonitoringLevel"),
        (set_network_profile, SetNetworkProfileRequest, SetNetworkProfileResponse, "SetNetworkProfile"),
        (set_variable_monitoring, SetVariableMonitoringRequest, SetVariableMonitoringResponse, "SetVariableMonitoring"),
        (set_variables, SetVariablesRequest, SetVariablesResponse, "SetVariables"),
        (sign_certificate, SignCertificateRequest, SignCertificateResponse, "SignCertificate"),
        (status_notification, StatusNotificationRequest, StatusNotificationResponse, "StatusNotification"),
        (transaction_event, TransactionEventRequest, TransactionEventResponse, "TransactionEvent"),
        (trigger_message, TriggerMessageRequest, TriggerMessageResponse, "TriggerMessage"),
        (unlock_connector, UnlockConnectorRequest, UnlockConnectorResponse, "UnlockConnector"),
        (unpublish_firmware, UnpublishFirmwareRequest, UnpublishFirmwareResponse, "UnpublishFirmware"),
        (update_firmware, UpdateFirmwareRequest, UpdateFirmwareResponse, "UpdateFirmware"),
    );
    for line in &out {
        println!("{line}");
    }
    let mut affected: Vec<&str> = out.iter().map(|l| l.split(' ').next().unwrap()).collect();
    affected.dedup();
    assert_eq!(
        affected,
        [
            "DataTransferRequest",
            "DataTransferResponse",
            "NotifyChargingLimitRequest",
            "NotifyEVChargingScheduleRequest",
            "ReportChargingProfilesRequest",
            "RequestStartTransactionRequest",
            "ReserveNowRequest",
            "SetChargingProfileRequest",
        ],
        "rust-ocpp disagreements changed; update the table in src/types/mod.rs"
    );
}

/// The owned replacements pass the same survey without a single disagreement.
#[test]
fn survey_owned_types_against_schemas() {
    let mut out = Vec::new();
    survey_one::<types::DataTransferRequest>("DataTransfer", Direction::Request, &mut out);
    survey_one::<types::DataTransferResponse>("DataTransfer", Direction::Response, &mut out);
    survey_one::<types::NotifyChargingLimitRequest>(
        "NotifyChargingLimit",
        Direction::Request,
        &mut out,
    );
    survey_one::<types::NotifyEVChargingScheduleRequest>(
        "NotifyEVChargingSchedule",
        Direction::Request,
        &mut out,
    );
    survey_one::<types::ReportChargingProfilesRequest>(
        "ReportChargingProfiles",
        Direction::Request,
        &mut out,
    );
    survey_one::<types::RequestStartTransactionRequest>(
        "RequestStartTransaction",
        Direction::Request,
        &mut out,
    );
    survey_one::<types::ReserveNowRequest>("ReserveNow", Direction::Request, &mut out);
    survey_one::<types::SetChargingProfileRequest>(
        "SetChargingProfile",
        Direction::Request,
        &mut out,
    );
    assert!(out.is_empty(), "{out:#?}");
}
