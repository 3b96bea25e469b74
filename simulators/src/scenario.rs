//! Scenario files: a JSON list of driver/station steps run in order, e.g.
//!
//! ```json
//! [{"wait":"2s"},{"plug":1},{"authorize":"TOKEN1","evse":1},
//!  {"charge":{"evse":1,"seconds":20,"power_kw":11}},{"unplug":1},
//!  {"status":{"evse":2,"status":"Faulted"}},{"heartbeat":{}}]
//! ```
//!
//! The format is documented in the crate README. Parsing is strict (a typo is an error with
//! the step number); running is forgiving (a step that does not apply, such as `stop` after
//! the CSMS already stopped the transaction, is logged and skipped), because the CSMS may
//! legitimately change the station's state between steps.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Map, Value};
use tracing::{info, warn, Instrument};

use crate::duration::parse_duration;
use crate::messages::ConnectorStatus;
use crate::station::Station;

/// One scenario step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Wait(Duration),
    Plug {
        evse: u32,
    },
    Authorize {
        evse: u32,
        token: String,
    },
    Charge {
        evse: u32,
        duration: Duration,
        power_kw: Option<f64>,
    },
    /// The driver stops at the station (StopAuthorized / Local).
    Stop {
        evse: u32,
    },
    Unplug {
        evse: u32,
    },
    Status {
        evse: u32,
        status: ConnectorStatus,
    },
    Heartbeat,
    MeterValues {
        evse: u32,
    },
}

const KINDS: &str = "wait, plug, authorize, charge, stop, unplug, status, heartbeat, meter_values";

/// Parses a scenario document.
pub fn parse(text: &str) -> anyhow::Result<Vec<Step>> {
    let doc: Value = serde_json::from_str(text).context("scenario is not valid JSON")?;
    let Value::Array(items) = doc else {
        anyhow::bail!("a scenario is a JSON list of steps");
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_step(item).with_context(|| format!("step {} ({item})", i + 1)))
        .collect()
}

/// Reads and parses a scenario file.
pub fn load(path: &Path) -> anyhow::Result<Vec<Step>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
    parse(&text).with_context(|| format!("in scenario {}", path.display()))
}

/// The `--charge TOKEN` session: plug in, authorize, charge, stop at the station, unplug.
pub fn local_charge(
    evse: u32,
    token: &str,
    duration: Duration,
    power_kw: Option<f64>,
) -> Vec<Step> {
    vec![
        Step::Plug { evse },
        Step::Authorize {
            evse,
            token: token.to_owned(),
        },
        Step::Charge {
            evse,
            duration,
            power_kw,
        },
        Step::Stop { evse },
        Step::Unplug { evse },
    ]
}

fn parse_step(item: &Value) -> anyhow::Result<Step> {
    let Value::Object(obj) = item else {
        anyhow::bail!("a step is an object such as {{\"plug\": 1}}");
    };
    // `authorize` is the one step with a sibling key (`evse`); all others have one key.
    let kinds: Vec<&String> = obj.keys().filter(|k| k.as_str() != "evse").collect();
    let [kind] = kinds[..] else {
        anyhow::bail!("a step has one kind ({KINDS})");
    };
    if obj.contains_key("evse") && kind != "authorize" {
        anyhow::bail!("a step has one kind ({KINDS}); put evse inside it");
    }
    let arg = &obj[kind.as_str()];
    Ok(match kind.as_str() {
        "wait" => Step::Wait(duration_value(arg)?),
        "plug" => Step::Plug {
            evse: evse_arg(arg)?,
        },
        "stop" => Step::Stop {
            evse: evse_arg(arg)?,
        },
        "unplug" => Step::Unplug {
            evse: evse_arg(arg)?,
        },
        "meter_values" => Step::MeterValues {
            evse: evse_arg(arg)?,
        },
        "heartbeat" => Step::Heartbeat,
        "authorize" => match arg {
            Value::String(token) => Step::Authorize {
                evse: obj.get("evse").map(evse_number).transpose()?.unwrap_or(1),
                token: token_arg(token)?,
            },
            Value::Object(o) => Step::Authorize {
                evse: optional_evse(o)?,
                token: token_arg(
                    o.get("token")
                        .and_then(Value::as_str)
                        .context("authorize needs a token")?,
                )?,
            },
            _ => anyhow::bail!("authorize takes a token string"),
        },
        "charge" => {
            let o = arg
                .as_object()
                .context("charge takes {\"evse\", \"seconds\", \"power_kw\"}")?;
            let duration = match (o.get("seconds"), o.get("duration")) {
                (Some(s), None) => duration_value(s)?,
                (None, Some(d)) => duration_value(d)?,
                _ => anyhow::bail!("charge needs either seconds or duration"),
            };
            let power_kw = o
                .get("power_kw")
                .map(|p| {
                    p.as_f64()
                        .filter(|kw| *kw >= 0.0)
                        .context("power_kw is a number of kW")
                })
                .transpose()?;
            Step::Charge {
                evse: optional_evse(o)?,
                duration,
                power_kw,
            }
        }
        "status" => {
            let o = arg
                .as_object()
                .context("status takes {\"evse\", \"status\"}")?;
            let status = o
                .get("status")
                .and_then(Value::as_str)
                .context("status needs a status")?
                .parse()
                .map_err(anyhow::Error::msg)?;
            Step::Status {
                evse: optional_evse(o)?,
                status,
            }
        }
        other => anyhow::bail!("unknown step {other:?} ({KINDS})"),
    })
}

fn duration_value(v: &Value) -> anyhow::Result<Duration> {
    match v {
        Value::String(s) => parse_duration(s).map_err(anyhow::Error::msg),
        Value::Number(n) => n
            .as_f64()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .context("a duration in seconds must be non-negative"),
        _ => anyhow::bail!("a duration is \"2s\" or a number of seconds"),
    }
}

/// `1` or `{"evse": 1}`.
fn evse_arg(v: &Value) -> anyhow::Result<u32> {
    match v {
        Value::Object(o) => optional_evse(o),
        other => evse_number(other),
    }
}

fn optional_evse(o: &Map<String, Value>) -> anyhow::Result<u32> {
    o.get("evse")
        .map(evse_number)
        .transpose()
        .map(|e| e.unwrap_or(1))
}

fn evse_number(v: &Value) -> anyhow::Result<u32> {
    v.as_u64()
        .filter(|n| *n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .context("an EVSE id is a number from 1")
}

fn token_arg(token: &str) -> anyhow::Result<String> {
    // IdTokenType.idToken is at most 36 characters.
    anyhow::ensure!(
        !token.is_empty() && token.len() <= 36,
        "a token has 1 to 36 characters"
    );
    Ok(token.to_owned())
}

impl Station {
    /// Runs `steps` in order. Steps that do not apply any more are logged and skipped;
    /// returns early only when the station stops.
    pub async fn run_scenario(&self, steps: &[Step]) -> anyhow::Result<()> {
        let span = tracing::info_span!("station", id = %self.id());
        self.play(steps).instrument(span).await
    }

    async fn play(&self, steps: &[Step]) -> anyhow::Result<()> {
        for (i, step) in steps.iter().enumerate() {
            if self.shutdown_token().is_cancelled() {
                anyhow::bail!("station stopped");
            }
            info!(step = i + 1, ?step, "scenario");
            let outcome = match step {
                Step::Wait(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(*d) => Ok(()),
                        _ = self.shutdown_token().cancelled() => Ok(()),
                    }
                }
                Step::Plug { evse } => self.plug(*evse).await,
                Step::Authorize { evse, token } => self.authorize(*evse, token).await.map(drop),
                Step::Charge {
                    evse,
                    duration,
                    power_kw,
                } => self.charge(*evse, *duration, *power_kw).await,
                Step::Stop { evse } => self.stop(*evse).await,
                Step::Unplug { evse } => self.unplug(*evse).await,
                Step::Status { evse, status } => self.set_status(*evse, *status).await,
                Step::Heartbeat => self.heartbeat().await.map(drop).map_err(Into::into),
                Step::MeterValues { evse } => self.meter_values(*evse).await,
            };
            if let Err(e) = outcome {
                warn!(step = i + 1, error = %e, "scenario step skipped");
            }
        }
        info!("scenario done");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let steps = parse(
            r#"[{"wait":"2s"},{"plug":1},{"authorize":"TOKEN1","evse":1},
                {"charge":{"evse":1,"seconds":20,"power_kw":11}},{"unplug":1},
                {"status":{"evse":2,"status":"Faulted"}},{"heartbeat":{}}]"#,
        )
        .unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Wait(Duration::from_secs(2)),
                Step::Plug { evse: 1 },
                Step::Authorize {
                    evse: 1,
                    token: "TOKEN1".into()
                },
                Step::Charge {
                    evse: 1,
                    duration: Duration::from_secs(20),
                    power_kw: Some(11.0)
                },
                Step::Unplug { evse: 1 },
                Step::Status {
                    evse: 2,
                    status: ConnectorStatus::Faulted
                },
                Step::Heartbeat,
            ]
        );
    }

    #[test]
    fn accepts_the_alternative_spellings() {
        let steps = parse(
            r#"[{"wait":0.5},{"plug":{"evse":2}},{"authorize":{"token":"T","evse":2}},
                {"authorize":"U"},{"charge":{"duration":"1m"}},{"stop":2},{"meter_values":1}]"#,
        )
        .unwrap();
        assert_eq!(steps[0], Step::Wait(Duration::from_millis(500)));
        assert_eq!(steps[1], Step::Plug { evse: 2 });
        assert_eq!(
            steps[2],
            Step::Authorize {
                evse: 2,
                token: "T".into()
            }
        );
        assert_eq!(
            steps[3],
            Step::Authorize {
                evse: 1,
                token: "U".into()
            }
        );
        assert_eq!(
            steps[4],
            Step::Charge {
                evse: 1,
                duration: Duration::from_secs(60),
                power_kw: None
            }
        );
        assert_eq!(steps[6], Step::MeterValues { evse: 1 });
    }

    #[test]
    fn reports_the_bad_step() {
        let cases = [
            (r#"{"plug":1}"#, "list"),
            (r#"[{"plug":1},{"plugg":1}]"#, "step 2"),
            (r#"[{"plug":0}]"#, "EVSE id"),
            (r#"[{"plug":1,"unplug":1}]"#, "one kind"),
            (r#"[{"plug":1,"evse":1}]"#, "one kind"),
            (r#"[{"wait":"soon"}]"#, "bad duration"),
            (r#"[{"charge":{"evse":1}}]"#, "seconds or duration"),
            (
                r#"[{"status":{"evse":1,"status":"Broken"}}]"#,
                "unknown connector status",
            ),
            (
                r#"[{"authorize":"0123456789012345678901234567890123456789"}]"#,
                "36",
            ),
        ];
        for (doc, needle) in cases {
            let err = format!("{:#}", parse(doc).unwrap_err());
            assert!(err.contains(needle), "{doc}: {err}");
        }
    }

    #[test]
    fn local_charge_is_the_whole_session() {
        let steps = local_charge(1, "T", Duration::from_secs(30), None);
        assert_eq!(steps.len(), 5);
        assert_eq!(steps[4], Step::Unplug { evse: 1 });
    }
}
