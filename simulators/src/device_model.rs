//! A small in-memory OCPP 2.0.1 device model: the standard component/variable pairs a CSMS
//! typically reads or sets during provisioning. Keyed by component and variable name only:
//! the simulator has one instance of each and does not model per-EVSE variables.

use std::collections::BTreeMap;

/// Result of reading a variable, mirroring `GetVariableStatusEnumType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    Found(&'a str),
    UnknownComponent,
    UnknownVariable,
}

#[derive(Debug, Clone, Default)]
pub struct DeviceModel {
    values: BTreeMap<(String, String), String>,
}

impl DeviceModel {
    /// The variables a simulated station reports out of the box.
    pub fn standard(
        station_id: &str,
        info: &crate::messages::StationInfo,
        evses: u32,
        security_profile: u8,
        meter_interval_s: u64,
    ) -> Self {
        let mut m = DeviceModel::default();
        let entries: [(&str, &str, String); 19] = [
            ("ChargingStation", "Model", info.model.clone()),
            ("ChargingStation", "VendorName", info.vendor.clone()),
            ("ChargingStation", "AvailabilityState", "Available".into()),
            ("ChargingStation", "SupplyPhases", "3".into()),
            ("EVSE", "Count", evses.to_string()),
            ("OCPPCommCtrlr", "HeartbeatInterval", "60".into()),
            ("OCPPCommCtrlr", "MessageTimeout", "30".into()),
            ("OCPPCommCtrlr", "NetworkConfigurationPriority", "0".into()),
            (
                "SecurityCtrlr",
                "SecurityProfile",
                security_profile.to_string(),
            ),
            ("SecurityCtrlr", "Identity", station_id.into()),
            (
                "SampledDataCtrlr",
                "TxUpdatedInterval",
                meter_interval_s.to_string(),
            ),
            (
                "SampledDataCtrlr",
                "TxUpdatedMeasurands",
                "Energy.Active.Import.Register,Power.Active.Import".into(),
            ),
            ("AlignedDataCtrlr", "Interval", "0".into()),
            ("AuthCtrlr", "Enabled", "true".into()),
            ("AuthCtrlr", "AuthorizeRemoteStart", "false".into()),
            ("TxCtrlr", "EVConnectionTimeOut", "60".into()),
            ("TxCtrlr", "TxStartPoint", "EVConnected,Authorized".into()),
            ("TxCtrlr", "TxStopPoint", "EVConnected,Authorized".into()),
            ("ReservationCtrlr", "Enabled", "true".into()),
        ];
        for (component, variable, value) in entries {
            m.set(component, variable, value);
        }
        m
    }

    pub fn get(&self, component: &str, variable: &str) -> Lookup<'_> {
        match self
            .values
            .get(&(component.to_owned(), variable.to_owned()))
        {
            Some(v) => Lookup::Found(v),
            None if self.has_component(component) => Lookup::UnknownVariable,
            None => Lookup::UnknownComponent,
        }
    }

    pub fn has_component(&self, component: &str) -> bool {
        self.values.keys().any(|(c, _)| c == component)
    }

    pub fn set(&mut self, component: &str, variable: &str, value: impl Into<String>) {
        self.values
            .insert((component.to_owned(), variable.to_owned()), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_distinguish_unknown_component_and_variable() {
        let m = DeviceModel::standard("CS1", &Default::default(), 2, 1, 10);
        assert_eq!(m.get("SecurityCtrlr", "Identity"), Lookup::Found("CS1"));
        assert_eq!(m.get("SecurityCtrlr", "Nope"), Lookup::UnknownVariable);
        assert_eq!(m.get("Nope", "Identity"), Lookup::UnknownComponent);
    }
}
