//! Pool designs behind one small interface.
//!
//! The engine drives every venue the same way within a step: trader orders
//! ([`Venue::submit`]), trader exit triggers ([`Venue::run_exits`]),
//! liquidations ([`Venue::liquidate`]) and auto-deleveraging
//! ([`Venue::deleverage`]). A venue owns its state, its [`Ledger`] and its
//! [`Counters`]; it never reads files, the clock or an OS random source.
//!
//! A new pool design is a new implementation of [`Venue`] plus a variant of
//! [`VenueSpec`], not a branch inside the engine.

pub(crate) mod book;
pub mod gmx;
pub mod jlp;
pub mod orderbook;
pub mod triggers;

use crate::engine::ledger::Ledger;
use crate::engine::trace::Trace;

/// Position direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl Side {
    /// `"long"` or `"short"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }
}

/// What an order does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderKind {
    /// Open a position or add to it (positions merge per market, side and
    /// collateral token). `collateral_usd` is deposited with the order.
    Increase { size_usd: f64, collateral_usd: f64 },
    /// Close `size_usd` of the position; `None` closes it fully.
    Decrease { size_usd: Option<f64> },
    /// Deposit more collateral, USD.
    AddCollateral { usd: f64 },
    /// Withdraw collateral, USD.
    WithdrawCollateral { usd: f64 },
}

/// When the trader wants out of a position. Prices are set by the venue from
/// returns on collateral (ROE) at the position's entry and leverage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitPlan {
    /// Close at or after this time, seconds from path start (`u64::MAX`: never).
    pub deadline_s: u64,
    /// Close when the loss reaches this fraction of collateral (`INFINITY`: no stop).
    pub stop_loss_roe: f64,
    /// Close when the gain reaches this fraction of collateral (`INFINITY`: no target).
    pub take_profit_roe: f64,
}

impl ExitPlan {
    /// No exit rule: the position stays until closed explicitly or liquidated.
    pub const NONE: ExitPlan = ExitPlan {
        deadline_s: u64::MAX,
        stop_loss_roe: f64::INFINITY,
        take_profit_roe: f64::INFINITY,
    };
}

/// A trader order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    /// Trader account id.
    pub account: u32,
    /// Market traded (scenario asset index).
    pub market: usize,
    /// Position side.
    pub side: Side,
    /// Collateral token (scenario asset index), or [`AUTO_COLLATERAL`] to
    /// let the venue choose ([`Venue::collateral_for`]).
    pub collateral: usize,
    /// What to do.
    pub kind: OrderKind,
    /// Exit rule applied to the resulting position (increases only).
    pub exit: ExitPlan,
    /// Margin the position from the account's cross collateral rather than
    /// its own (order-book venues; the pool designs ignore it).
    pub cross: bool,
}

/// An order's collateral left to the venue: JLP longs use the market's
/// token and shorts the first stablecoin; GM longs the long token and
/// shorts the short token.
pub const AUTO_COLLATERAL: usize = usize::MAX;

/// Which tokens an LP deposit brings to a GM market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositMix {
    /// Long and short tokens in the pool's current proportion (no swap impact).
    Balanced,
    /// Only the long token.
    LongToken,
    /// Only the short token.
    ShortToken,
}

/// Why an order was refused. Counted per reason in [`Counters::rejected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// The merged position would exceed the per-position size cap.
    MaxPositionSize,
    /// Global long open interest of the market would exceed its cap.
    MaxGlobalLong,
    /// Global short open interest of the market would exceed its cap.
    MaxGlobalShort,
    /// The custody's utilization would exceed the cap for new positions.
    Utilization,
    /// Leverage would exceed the venue maximum.
    Leverage,
    /// Collateral does not cover fees, or a withdrawal would leave too little.
    Collateral,
    /// No such position.
    NoPosition,
    /// The position is below maintenance margin; only liquidation can close it.
    Liquidatable,
    /// Not a valid order for this venue (unknown market, wrong collateral, size ≤ 0).
    Invalid,
    /// Reserved value would exceed the reserve or open-interest reserve
    /// factor of the pool (GMX `validateReserve`).
    Reserve,
    /// The operation is stopped (a GLV with a market whose pool value is negative).
    Halted,
    /// Trader PnL exceeds the withdrawal PnL cap of the pool (GMX `validateMaxPnl`).
    PnlCap,
    /// The order book had nothing to fill the order with.
    NoLiquidity,
}

/// Number of reject reasons.
pub const REJECT_REASONS: usize = 13;

impl Reject {
    /// Every reason, in index order.
    pub const ALL: [Reject; REJECT_REASONS] = [
        Reject::MaxPositionSize,
        Reject::MaxGlobalLong,
        Reject::MaxGlobalShort,
        Reject::Utilization,
        Reject::Leverage,
        Reject::Collateral,
        Reject::NoPosition,
        Reject::Liquidatable,
        Reject::Invalid,
        Reject::Reserve,
        Reject::Halted,
        Reject::PnlCap,
        Reject::NoLiquidity,
    ];

    /// Name used in traces and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::MaxPositionSize => "max_position_size",
            Reject::MaxGlobalLong => "max_global_long",
            Reject::MaxGlobalShort => "max_global_short",
            Reject::Utilization => "utilization_cap",
            Reject::Leverage => "max_leverage",
            Reject::Collateral => "insufficient_collateral",
            Reject::NoPosition => "no_position",
            Reject::Liquidatable => "liquidatable",
            Reject::Invalid => "invalid_order",
            Reject::Reserve => "reserve",
            Reject::Halted => "halted",
            Reject::PnlCap => "max_pnl",
            Reject::NoLiquidity => "no_liquidity",
        }
    }
}

/// Running totals of a venue over one path. Amounts are USD at the prices of
/// the moment they happened; fees count what was actually collected (both
/// the pool's and the protocol's share).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Notional opened plus closed (including liquidations), USD.
    pub volume_usd: f64,
    /// Executed orders (opens, increases, closes, liquidations).
    pub trades: u64,
    /// Base open and close fees, USD.
    pub fees_open_close_usd: f64,
    /// Price-impact fees (linear and additive), USD.
    pub fees_impact_usd: f64,
    /// Borrow fees, USD.
    pub fees_borrow_usd: f64,
    /// Collateral seized by the pool on liquidation, USD.
    pub fees_liquidation_usd: f64,
    /// Funding paid through the venue, USD (zero for designs without funding).
    pub funding_usd: f64,
    /// Part of all fees that went to the pool (LPs), USD.
    pub fees_to_pool_usd: f64,
    /// Part of all fees that went to the protocol treasury, USD.
    pub fees_to_protocol_usd: f64,
    /// Number of liquidations.
    pub liquidations: u64,
    /// Position size liquidated, USD.
    pub liquidated_usd: f64,
    /// Losses beyond liquidated positions' collateral, USD.
    pub bad_debt_usd: f64,
    /// Notional closed by auto-deleveraging, USD.
    pub adl_usd: f64,
    /// Auto-deleveraging orders executed.
    pub adl_events: u64,
    /// Value LPs deposited after t = 0, USD.
    pub lp_deposits_usd: f64,
    /// Value paid to withdrawing LPs, USD.
    pub lp_withdrawals_usd: f64,
    /// Value moved between markets by vault keepers (GLV shifts), USD.
    pub shifted_usd: f64,
    /// Vault market making: spread captured at fill (fill vs mid), USD.
    pub vault_spread_usd: f64,
    /// Vault market making: inventory PnL after the spread, USD.
    pub vault_inventory_usd: f64,
    /// Vault funding received (negative: paid), USD.
    pub vault_funding_usd: f64,
    /// Vault backstop: result of inherited positions (buffers kept, losses
    /// absorbed, unwinding), USD.
    pub vault_backstop_usd: f64,
    /// Vault share of trading and liquidation fees, USD.
    pub vault_fees_usd: f64,
    /// Liquidated notional closed through the order book, USD.
    pub liquidated_book_usd: f64,
    /// Liquidated notional taken over by the backstop, USD.
    pub liquidated_backstop_usd: f64,
    /// Most liquidation rounds in one step (cascade depth).
    pub peak_cascade_depth: u64,
    /// Value traders put in (collateral deposits, or open equity at the start), USD.
    pub trader_deposits_usd: f64,
    /// Value traders took out (close payouts, withdrawals), USD.
    pub trader_payouts_usd: f64,
    /// Highest total open interest (long + short, all markets), USD.
    pub peak_oi_usd: f64,
    /// Highest utilization of any custody, fraction.
    pub peak_utilization: f64,
    /// Refused orders per [`Reject`] reason.
    pub rejected: [u64; REJECT_REASONS],
}

impl Counters {
    /// Total refused orders.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// All fees collected, USD.
    pub fn fees_total_usd(&self) -> f64 {
        self.fees_open_close_usd + self.fees_impact_usd + self.fees_borrow_usd + self.fees_liquidation_usd
    }
}

/// The time grid of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Seconds per step.
    pub step_s: u64,
    /// Number of steps.
    pub steps: u64,
}

/// The context of one venue call: time, prices and the trace sink.
pub struct Cx<'a> {
    /// Seconds from path start.
    pub t_s: u64,
    /// Prices of every scenario asset, USD.
    pub prices: &'a [f64],
    /// Where events go (a no-op unless tracing).
    pub trace: &'a mut Trace,
    /// True while the starting book is placed at t = 0: no price-impact
    /// window effects, and counters are reset afterwards.
    pub warm_start: bool,
}

/// A pool design the engine can drive.
pub trait Venue: Send {
    /// Name from the scenario (`venues.<name>`).
    fn name(&self) -> &str;
    /// Design name (`"jlp"`, `"gm"`, `"glv"`, `"hlp"`, `"llp"`).
    fn kind(&self) -> &'static str;
    /// Puts the venue in its t = 0 state for a new path on `clock`: LP
    /// deposits at `prices`.
    fn reset(&mut self, prices: &[f64], clock: Clock);
    /// Called once the starting book is in place: clears counters so that
    /// metrics cover the horizon only, and records open equity as deposits.
    fn end_warm_start(&mut self, t_s: u64, prices: &[f64]);
    /// Markets that can be traded (scenario asset indices).
    fn markets(&self) -> &[usize];
    /// The collateral token a position on `market` and `side` uses when the
    /// trader prefers `hint` (a scenario asset index, or [`AUTO_COLLATERAL`]);
    /// `None` if the venue does not trade `market`.
    fn collateral_for(&self, market: usize, side: Side, hint: usize) -> Option<usize>;
    /// Smallest and largest leverage (size / collateral) accepted at open on `market`.
    fn leverage_range(&self, market: usize) -> (f64, f64);
    /// Accrues time-dependent fees (borrow, funding) up to `cx.t_s`. The
    /// default does nothing: a venue whose rates only change when its state
    /// changes (JLP) accrues lazily at each touch, which is exact.
    fn accrue(&mut self, _cx: &mut Cx) {}
    /// Executes an order or refuses it. Refusals are counted.
    ///
    /// # Errors
    /// The [`Reject`] reason when the order is refused; nothing changed.
    fn submit(&mut self, order: &Order, cx: &mut Cx) -> Result<(), Reject>;
    /// Executes trader exit rules that trigger now (stop loss, take profit, deadline).
    fn run_exits(&mut self, cx: &mut Cx);
    /// Liquidates every position below maintenance margin.
    fn liquidate(&mut self, cx: &mut Cx);
    /// Auto-deleverages if the design has ADL. The default does nothing.
    fn deleverage(&mut self, _cx: &mut Cx) {}
    /// Runs the venue's own keepers after ADL (GLV shifts). The default does nothing.
    fn maintain(&mut self, _cx: &mut Cx) {}
    /// An LP deposit of `usd` brought as `mix`; returns the LP tokens minted.
    ///
    /// # Errors
    /// [`Reject::Invalid`] if the design takes no LP flows (the default), or
    /// the reason the deposit was refused.
    fn lp_deposit(&mut self, _usd: f64, _mix: DepositMix, _cx: &mut Cx) -> Result<f64, Reject> {
        Err(Reject::Invalid)
    }
    /// Redeems `lp_tokens` LP tokens; returns the USD value paid out.
    ///
    /// # Errors
    /// [`Reject::Invalid`] if the design takes no LP flows (the default), or
    /// the reason the withdrawal was refused.
    fn lp_withdraw(&mut self, _lp_tokens: f64, _cx: &mut Cx) -> Result<f64, Reject> {
        Err(Reject::Invalid)
    }
    /// Value of the LP pool, USD (JLP: AUM).
    fn lp_value_usd(&self, prices: &[f64]) -> f64;
    /// LP token supply.
    fn lp_supply(&self) -> f64;
    /// Tokens the LPs deposited at t = 0, per scenario asset: the hold benchmark.
    fn hold_basket(&self) -> &[f64];
    /// Running totals.
    fn counters(&self) -> &Counters;
    /// Equity of all open positions net of pending fees, USD.
    fn open_equity_usd(&self, t_s: u64, prices: &[f64]) -> f64;
    /// Sum of every mismatch between the venue's state, its ledger and the
    /// value identity, in USD. Zero up to rounding for a correct venue.
    fn conservation_error_usd(&self, t_s: u64, prices: &[f64]) -> f64;
    /// Names of the per-step trace columns (after `step` and `t_s`). The
    /// traced-path charts read them by prefix (`report::figures`):
    /// `utilization_*` (fraction), `borrow_apr_*` and `funding_apr_longs_pay_*`
    /// (annual fractions), `funding_hourly_*` (hourly fraction, annualised
    /// for the chart), and `vault_inventory_usd_*` over `vault_nav_usd`.
    fn trace_columns(&self, asset_names: &[String]) -> Vec<String>;
    /// Appends one per-step trace row matching [`Venue::trace_columns`].
    fn trace_row(&self, t_s: u64, prices: &[f64], out: &mut Vec<f64>);
    /// Number of open positions.
    fn open_positions(&self) -> usize;
    /// The venue's ledger.
    fn ledger(&self) -> &Ledger;
}

/// A venue as configured by a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueSpec {
    /// A Jupiter-style multi-asset index pool.
    Jlp(jlp::JlpParams),
    /// GMX-style GM markets, optionally wrapped in a GLV.
    Gm(gmx::GmParams),
    /// An order-book venue whose vault makes markets and backstops (HLP, LLP).
    Book(orderbook::BookParams),
}

impl VenueSpec {
    /// Name from the scenario.
    pub fn name(&self) -> &str {
        match self {
            VenueSpec::Jlp(p) => &p.name,
            VenueSpec::Gm(p) => &p.name,
            VenueSpec::Book(p) => &p.name,
        }
    }

    /// Design name.
    pub fn kind(&self) -> &'static str {
        match self {
            VenueSpec::Jlp(_) => "jlp",
            VenueSpec::Gm(p) => {
                if p.glv.is_some() {
                    "glv"
                } else {
                    "gm"
                }
            }
            VenueSpec::Book(p) => p.style,
        }
    }

    /// Size of the pool at t = 0, USD: the scale for conservation tolerances.
    pub fn scale_usd(&self) -> f64 {
        match self {
            VenueSpec::Jlp(p) => p.aum_usd,
            VenueSpec::Gm(p) => p.pool_usd,
            VenueSpec::Book(p) => p.vault_usd,
        }
    }

    /// Builds a venue for `n_assets` scenario assets and accounts `0..max_accounts`.
    pub fn build(&self, n_assets: usize, max_accounts: u32) -> Box<dyn Venue> {
        match self {
            VenueSpec::Jlp(p) => Box::new(jlp::JlpVenue::new(p.clone(), n_assets, max_accounts)),
            VenueSpec::Gm(p) => Box::new(gmx::GmVenue::new(p.clone(), n_assets, max_accounts)),
            VenueSpec::Book(p) => Box::new(orderbook::BookVenue::new(p.clone(), n_assets, max_accounts)),
        }
    }

    /// Human-readable lines describing the resolved parameters.
    pub fn describe(&self, asset_names: &[String]) -> Vec<String> {
        match self {
            VenueSpec::Jlp(p) => p.describe(asset_names),
            VenueSpec::Gm(p) => p.describe(asset_names),
            VenueSpec::Book(p) => p.describe(asset_names),
        }
    }
}
