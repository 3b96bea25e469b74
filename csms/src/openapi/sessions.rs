//! Charging sessions: start from a booking or a free port, live figures and running cost,
//! pause/resume/stop, the itemized bill, history, totals, and host analytics. Mirrors
//! `marketplace::sessions::http` (answers: `view::SessionView`, `service::{BillingView,
//! Stats}`, `store::pages::SessionSummary`, `analytics::HostAnalytics`); snake_case. Money
//! and decimals are strings.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{date_time, integer, string, uuid, Access, Route, HOST};
use super::tariffs::{PricingLine, TariffRef};

const TAG: &str = "sessions";

/// start → active ↔ paused → completed; cancelled: the station never reported a transaction
/// (it refused, the driver stopped first, or 10 minutes passed).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SessionStatus {
    Start,
    Active,
    Paused,
    Completed,
    Cancelled,
}

/// `POST /api/sessions/start`: either `booking_id` (the caller's confirmed or checked-in
/// booking, inside its arrival window), or `charger_id` and `port_id` (a port no other
/// driver's booking holds now).
#[derive(ToSchema)]
pub struct StartBody {
    pub booking_id: Option<Uuid>,
    pub charger_id: Option<Uuid>,
    pub port_id: Option<Uuid>,
}

/// The cost: while it runs, an estimate priced by the tariff engine up to now; once billed,
/// the total of the bill in force.
#[derive(ToSchema)]
pub struct SessionCost {
    #[schema(example = "EUR")]
    pub currency: String,
    /// Taxes and the insurance fee included.
    #[schema(example = "5.04")]
    pub total: String,
    /// `true`: the stored bill (see `/billing`); `false`: the running estimate.
    pub r#final: bool,
    #[schema(required)]
    pub revision: Option<i32>,
    pub as_of: DateTime<Utc>,
    #[schema(required)]
    pub tariff: Option<TariffRef>,
    /// The running estimate's lines; empty once final.
    pub lines: Vec<PricingLine>,
}

#[derive(ToSchema)]
pub struct Session {
    pub id: Uuid,
    /// The OCPP remoteStartId, the central token `SESSION-<number>`, the pause profile id.
    pub number: i32,
    pub status: SessionStatus,
    /// `app` (started here) or `station` (a card, or a booked EVSE).
    pub origin: String,
    pub driver_id: Uuid,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    pub station_id: String,
    pub evse_id: i32,
    #[schema(required)]
    pub connector_id: Option<i32>,
    /// Known once the station reports the transaction.
    #[schema(required)]
    pub transaction_id: Option<String>,
    pub requested_at: DateTime<Utc>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub end_reason: Option<String>,
    #[schema(required)]
    pub stop_requested_at: Option<DateTime<Utc>>,
    /// Why the platform stopped the session itself: `funds_exhausted` (the money secured for
    /// it ran out and the wallet had nothing more to top its hold up with).
    #[schema(required, example = "funds_exhausted")]
    pub stop_reason: Option<String>,
    #[schema(example = "12.5")]
    pub energy_kwh: String,
    /// While it runs.
    #[schema(required, example = "11")]
    pub power_kw: Option<String>,
    /// State of charge in %, when the station reports it.
    #[schema(required, example = "64")]
    pub state_of_charge: Option<String>,
    #[schema(required)]
    pub last_reading_at: Option<DateTime<Utc>>,
    /// OCPP `chargingState` as last reported (`Charging`, `SuspendedEV`, ...).
    #[schema(required)]
    pub charging_state: Option<String>,
    pub duration_seconds: i64,
    /// Time the meter moved (billed as charging time).
    pub charging_seconds: i64,
    /// Connected, not charging, not paused (billed as idle time).
    pub idle_seconds: i64,
    /// Paused by the driver (billed as idle time, shown apart).
    pub paused_seconds: i64,
    #[schema(required)]
    pub paused_since: Option<DateTime<Utc>>,
    /// `null` before the transaction started, or when the charger has no price.
    #[schema(required)]
    pub cost: Option<SessionCost>,
}

#[derive(ToSchema)]
pub struct SessionSummary {
    pub id: Uuid,
    pub number: i32,
    pub status: SessionStatus,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    pub energy_kwh: String,
    /// The bill in force; `null` until billed.
    #[schema(required)]
    pub currency: Option<String>,
    #[schema(required)]
    pub total: Option<String>,
}

#[derive(ToSchema)]
pub struct SessionPage {
    pub items: Vec<SessionSummary>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One line of a stored bill; amounts in the currency's units, negative for discounts.
#[derive(ToSchema)]
pub struct BillLine {
    /// `energy`, `time`, `multiplier`, `parking`, `flat`, `minimum_charge`, `fee`, `tax`, ...
    pub kind: String,
    pub description: String,
    #[schema(required)]
    pub quantity: Option<String>,
    #[schema(required)]
    pub unit: Option<String>,
    #[schema(required)]
    pub unit_price: Option<String>,
    pub amount: String,
}

#[derive(ToSchema)]
pub struct BillTax {
    /// `vat_included` or `sales_tax`.
    pub kind: String,
    pub percent: String,
    pub taxable_amount: String,
    pub tax_amount: String,
}

/// commission + host share + insurance + tax = total, exactly.
#[derive(ToSchema)]
pub struct BillSplit {
    pub commission_base: String,
    pub platform_commission: String,
    pub host_share: String,
    pub insurance_reserve: String,
    pub tax: String,
}

/// One revision of a bill: immutable once written.
#[derive(ToSchema)]
pub struct SessionBill {
    pub id: Uuid,
    pub session_id: Uuid,
    /// 1: computed when the transaction ended; 2, 3...: restated (late station data).
    pub revision: i32,
    #[schema(required)]
    pub supersedes: Option<Uuid>,
    /// `transaction_ended` or `late_station_data`.
    pub reason: String,
    pub currency: String,
    /// The sum of the lines.
    pub total: String,
    pub total_cents: i64,
    pub lines: Vec<BillLine>,
    pub tax: BillTax,
    pub split: BillSplit,
    /// The tariff version in force when the session started; `null`: summary prices.
    #[schema(required)]
    pub tariff: Option<TariffRef>,
    pub session_start: DateTime<Utc>,
    pub session_end: DateTime<Utc>,
    pub energy_kwh: String,
    pub charging_seconds: i64,
    pub idle_seconds: i64,
    pub paused_seconds: i64,
    /// OCPI 2.2.1 CDR totals (before the driver's extras).
    #[schema(value_type = Object)]
    pub ocpi_totals: serde_json::Value,
    pub computed_at: DateTime<Utc>,
    /// When the ledger posted it; `null` until then.
    #[schema(required)]
    pub posted_at: Option<DateTime<Utc>>,
}

/// The bill in force (its fields at the top level) and the revisions it superseded.
#[derive(ToSchema)]
pub struct SessionBilling {
    #[serde(flatten)]
    pub bill: SessionBill,
    pub superseded: Vec<SessionBill>,
}

#[derive(ToSchema)]
pub struct CurrencyTotals {
    pub currency: String,
    pub sessions: i64,
    pub amount: String,
    pub energy_kwh: String,
    pub charging_seconds: i64,
    pub idle_seconds: i64,
    pub paused_seconds: i64,
}

#[derive(ToSchema)]
pub struct SessionStats {
    pub sessions: i64,
    /// Sessions per status (every status, 0 included).
    #[schema(value_type = Object)]
    pub by_status: serde_json::Value,
    /// Billed sessions (bills in force), per currency.
    pub billed: Vec<CurrencyTotals>,
}

#[derive(ToSchema)]
pub struct HourRevenue {
    /// Local hour (the charger's time zone) sessions started in.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: i32,
    pub currency: String,
    pub sessions: i64,
    pub energy_kwh: String,
    pub charged: String,
    pub host_share: String,
}

#[derive(ToSchema)]
pub struct PortUse {
    pub charger_id: Uuid,
    pub port_id: Uuid,
    pub label: String,
    pub sessions: i64,
    pub busy_hours: f64,
    /// Busy time over the window, 0 to 1.
    pub utilisation: f64,
}

#[derive(ToSchema)]
pub struct PopularSlot {
    #[schema(example = "tuesday")]
    pub weekday: String,
    pub hour: i32,
    pub sessions: i64,
}

/// Utilisation ≥ 60 %: +10 %; < 15 %: −10 %; otherwise keep; within 0.05–1.00 per kWh.
#[derive(ToSchema)]
pub struct PriceSuggestion {
    pub charger_id: Uuid,
    pub utilisation: f64,
    #[schema(required)]
    pub current_price_per_kwh: Option<String>,
    #[schema(required)]
    pub suggested_price_per_kwh: Option<String>,
    pub change_percent: i32,
    pub reason: String,
}

#[derive(ToSchema)]
pub struct HostAnalytics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub revenue_by_hour: Vec<HourRevenue>,
    pub ports: Vec<PortUse>,
    /// The five most frequent (weekday, local hour) session starts.
    pub popular_slots: Vec<PopularSlot>,
    pub price_suggestions: Vec<PriceSuggestion>,
}

fn one(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .uuid_param("id", "Session id")
        .not_found("session")
}

fn control(route: Route, what: &str) -> Route {
    one(route)
        .describe(what)
        .describe(
            " Only the session's driver or an admin (the charger's host: 403). A station that \
             is offline answers 503, one that does not answer in time 504, a station error 502.",
        )
        .conflict("`invalid_session_state` (e.g. pausing a paused session), `station_rejected`")
        .problem(403, "The charger's host may look, not control")
        .problem(502, "The station answered with an error")
        .problem(503, "The station is offline")
        .problem(504, "The station did not answer in time")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/sessions/start", TAG, "Start charging")
            .access(Access::AnyUser)
            .describe(
                "Sends RequestStartTransaction (remoteStartId = the session number; the \
                 driver's own id token, else the booking's `BOOKING-<reservation id>` or \
                 `SESSION-<number>`). The session is `start` until the station reports the \
                 transaction, then `active`. A session without a booking first holds the \
                 estimate of a full battery at the tariff (capped, `--session-hold-max-minor`) \
                 on the wallet, or what the wallet has down to `--session-hold-min-minor`; \
                 while it charges past what secures it, the hold is topped up from the \
                 wallet, else the session is stopped (`stop_reason` `funds_exhausted`).",
            )
            .body::<StartBody>()
            .ok::<Session>(
                202,
                "The station accepted; the session waits for the transaction",
            )
            .not_found("booking, charger or port")
            .conflict(
                "`booking_not_startable`, `port_booked`, `port_busy`, `session_running`, \
                 `not_remote_startable`, `port_unavailable`, `no_pricing`, `station_rejected`, \
                 `payment_required` (the wallet cannot hold the session's minimum, or nothing \
                 secures the booking), `outstanding_debt`",
            )
            .problem(502, "The station answered with an error")
            .problem(503, "The station is offline")
            .problem(504, "The station did not answer in time"),
        Route::get("/api/sessions", TAG, "My sessions (history)")
            .access(Access::AnyUser)
            .query("status", "Comma-separated statuses", string())
            .query("from", "Started at or after (RFC 3339)", date_time())
            .query("to", "Started before (RFC 3339)", date_time())
            .query("min_cost", "Billed total at least (decimal)", string())
            .query("max_cost", "Billed total at most (decimal)", string())
            .query("limit", "1 to 100", integer(1, Some(100), Some(20)))
            .query("offset", "Rows to skip", integer(0, None, Some(0)))
            .ok::<SessionPage>(200, "Newest first")
            .problem(422, "A bad or unknown query parameter (named in `errors`)"),
        Route::get("/api/sessions/stats", TAG, "My totals")
            .access(Access::AnyUser)
            .ok::<SessionStats>(200, "Counts by status and billed totals per currency"),
        one(Route::get("/api/sessions/{id}", TAG, "A session, live"))
            .describe(
                "Its driver, the charger's host, admins. Live kWh, power, state of charge, \
                 time charging / idle / paused, and the cost so far from the tariff in force \
                 at the start.",
            )
            .ok::<Session>(200, "The session"),
        one(Route::get(
            "/api/sessions/{id}/live",
            TAG,
            "A session, as server-sent events",
        ))
        .describe(
            "`text/event-stream`: a `snapshot` event (the session, as `GET \
                 /api/sessions/{id}`) every 2 seconds, and a last `end` event once it is \
                 completed and billed (or cancelled); then the stream ends.",
        )
        .text(200, "text/event-stream", "Events whose data is a Session"),
        one(Route::get(
            "/api/sessions/{id}/billing",
            TAG,
            "The itemized bill",
        ))
        .describe(
            "Computed once when the transaction ended, with the tariff in force at the \
                 start; immutable. Late station data restates it as a new revision (the old \
                 ones are listed in `superseded`).",
        )
        .ok::<SessionBilling>(200, "The bill in force")
        .conflict("`not_billed`: still running, cancelled, or waiting for late events"),
        control(
            Route::post("/api/sessions/{id}/pause", TAG, "Pause charging"),
            "SetChargingProfile: a TxProfile of 0 A on the transaction. Paused time is tracked \
             apart.",
        )
        .ok::<Session>(200, "Paused"),
        control(
            Route::post("/api/sessions/{id}/resume", TAG, "Resume charging"),
            "ClearChargingProfile of the pause profile.",
        )
        .ok::<Session>(200, "Charging again"),
        control(
            Route::post("/api/sessions/{id}/stop", TAG, "Stop charging"),
            "RequestStopTransaction; the session completes (and is billed) with the station's \
             TransactionEvent Ended. Before the station reported the transaction, the session \
             is cancelled.",
        )
        .ok::<Session>(202, "The station accepted"),
        Route::get("/api/host/analytics", TAG, "Host analytics")
            .access(HOST)
            .describe(
                "The caller's chargers (admins: all). Revenue by local hour of day, \
                 utilisation per port, the five most popular (weekday, hour) slots, and a \
                 price suggestion per charger (utilisation ≥ 60 %: +10 %, < 15 %: −10 %). \
                 Hosts need the `analytics` subscription (403 `subscription_required`).",
            )
            .query("charger_id", "One charger", uuid())
            .query(
                "from",
                "Window start (default: 30 days before `to`)",
                date_time(),
            )
            .query(
                "to",
                "Window end (default: now); at most 366 days",
                date_time(),
            )
            .ok::<HostAnalytics>(200, "Analytics over the window")
            .problem(422, "A bad or unknown query parameter (named in `errors`)"),
    ]
}
