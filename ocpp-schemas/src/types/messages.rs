//! The request/response payloads rust-ocpp 3.0.4 cannot represent (see the module docs).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    ChargingLimitSourceEnumType, ChargingLimitType, ChargingProfileType, ChargingScheduleType,
    ConnectorEnumType, DataTransferStatusEnumType, IdTokenType, StatusInfoType,
};

/// NotifyEVChargingScheduleRequest (Charging Station → CSMS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyEVChargingScheduleRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    pub time_base: DateTime<Utc>,
    pub charging_schedule: ChargingScheduleType,
    pub evse_id: i32,
}

/// NotifyChargingLimitRequest (Charging Station → CSMS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyChargingLimitRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_schedule: Option<Vec<ChargingScheduleType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<i32>,
    pub charging_limit: ChargingLimitType,
}

/// ReportChargingProfilesRequest (Charging Station → CSMS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportChargingProfilesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    pub request_id: i32,
    pub charging_limit_source: ChargingLimitSourceEnumType,
    pub charging_profile: Vec<ChargingProfileType>,
    /// The schema's default is `false`; absent stays absent so a round trip is exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tbc: Option<bool>,
    pub evse_id: i32,
}

/// SetChargingProfileRequest (CSMS → Charging Station).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    pub evse_id: i32,
    pub charging_profile: ChargingProfileType,
}

/// RequestStartTransactionRequest (CSMS → Charging Station).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStartTransactionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id_token: Option<IdTokenType>,
    pub id_token: IdTokenType,
    pub remote_start_id: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile: Option<ChargingProfileType>,
}

/// ReserveNowRequest (CSMS → Charging Station).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveNowRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    pub id: i32,
    pub expiry_date_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_type: Option<ConnectorEnumType>,
    pub id_token: IdTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id_token: Option<IdTokenType>,
}

/// DataTransferRequest (either direction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Any JSON. A JSON `null` reads as `None` and is then left out when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    pub vendor_id: String,
}

/// DataTransferResponse (either direction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<Value>,
    pub status: DataTransferStatusEnumType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_info: Option<StatusInfoType>,
    /// Any JSON. A JSON `null` reads as `None` and is then left out when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}
