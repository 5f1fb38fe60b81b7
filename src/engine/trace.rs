//! Optional per-step series and event log of a path (`--trace K`).
//!
//! Tracing is off on the Monte Carlo hot path: [`Trace::event`] takes a
//! closure that is only evaluated when tracing is on, so an untraced path
//! builds no events and allocates nothing. Tracing never changes results.

use crate::venue::Side;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A new position.
    Open,
    /// Size added to an existing position (positions merge per market and side).
    Increase,
    /// A full voluntary close.
    Close,
    /// A partial voluntary close.
    PartialClose,
    /// Forced close below maintenance margin.
    Liquidation,
    /// Collateral added.
    AddCollateral,
    /// Collateral withdrawn.
    WithdrawCollateral,
    /// An order refused by a cap or check; `note` says which.
    Reject,
    /// Borrow fees accrued since the last accrual on every open position
    /// using a custody (`market` is the custody's token, `size_usd` the
    /// size borrowing from it, `borrow_fee_usd` the fees accrued) or of a
    /// GM market (`funding_fee_usd`: funding paid between the sides).
    Accrual,
    /// Auto-deleveraging of a profitable position.
    Adl,
    /// An LP deposit (`size_usd`).
    LpDeposit,
    /// An LP withdrawal (`size_usd` paid out).
    LpWithdraw,
    /// A vault keeper moved `size_usd` between markets (GLV shift; `market` is the destination).
    Shift,
}

impl EventKind {
    /// Name used in `events.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Open => "open",
            EventKind::Increase => "increase",
            EventKind::Close => "close",
            EventKind::PartialClose => "partial_close",
            EventKind::Liquidation => "liquidation",
            EventKind::AddCollateral => "add_collateral",
            EventKind::WithdrawCollateral => "withdraw_collateral",
            EventKind::Reject => "reject",
            EventKind::Accrual => "accrual",
            EventKind::Adl => "adl",
            EventKind::LpDeposit => "lp_deposit",
            EventKind::LpWithdraw => "lp_withdraw",
            EventKind::Shift => "shift",
        }
    }
}

/// One event with every fee component. Amounts are USD; zero where not applicable.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds from path start.
    pub t_s: u64,
    /// Event type.
    pub kind: EventKind,
    /// Trader account id (`u32::MAX` for events of no account, such as accruals).
    pub account: u32,
    /// Market (scenario asset index).
    pub market: usize,
    /// Position side.
    pub side: Side,
    /// Notional traded (or position size for collateral events), USD.
    pub size_usd: f64,
    /// Execution price, USD: the oracle price of the market on the pool
    /// designs, the average fill price on order books (the mark for a
    /// backstop takeover, the previous mark for ADL).
    pub price: f64,
    /// Position collateral after the event, USD.
    pub collateral_usd: f64,
    /// Base open/close fee, USD.
    pub base_fee_usd: f64,
    /// Linear (size-proportional) price-impact fee, USD.
    pub linear_impact_usd: f64,
    /// Additive (imbalance-window) price-impact fee, USD.
    pub additive_impact_usd: f64,
    /// GM price impact applied (positive: paid to the trader), USD; on a
    /// v2.2 open it is the pending impact stored on the position.
    pub impact_usd: f64,
    /// Funding settled by the event (paid by the trader), USD.
    pub funding_fee_usd: f64,
    /// Impact beyond the cap moved to claimable collateral, USD.
    pub claimable_usd: f64,
    /// Borrow fee settled by the event, USD.
    pub borrow_fee_usd: f64,
    /// Collateral seized by the pool on liquidation, USD.
    pub liquidation_fee_usd: f64,
    /// Gross PnL realised by the event (before fees), USD.
    pub pnl_usd: f64,
    /// Paid to the trader (positive) or deposited by the trader (negative), USD.
    pub payout_usd: f64,
    /// Loss beyond the position's collateral, USD.
    pub bad_debt_usd: f64,
    /// Reason or trigger (`stop_loss`, `take_profit`, `deadline`, a reject reason).
    pub note: &'static str,
}

impl Event {
    /// An event with every amount zero.
    pub fn new(t_s: u64, kind: EventKind, account: u32, market: usize, side: Side) -> Event {
        Event {
            t_s,
            kind,
            account,
            market,
            side,
            size_usd: 0.0,
            price: 0.0,
            collateral_usd: 0.0,
            base_fee_usd: 0.0,
            linear_impact_usd: 0.0,
            additive_impact_usd: 0.0,
            impact_usd: 0.0,
            funding_fee_usd: 0.0,
            claimable_usd: 0.0,
            borrow_fee_usd: 0.0,
            liquidation_fee_usd: 0.0,
            pnl_usd: 0.0,
            payout_usd: 0.0,
            bad_debt_usd: 0.0,
            note: "",
        }
    }

    /// An LP deposit (`deposit`) or withdrawal of `usd` at `t_s`: the
    /// amount as its size, paid in (negative) or out (positive) as its payout.
    pub fn lp_flow(t_s: u64, deposit: bool, usd: f64) -> Event {
        let (kind, payout_usd) = if deposit {
            (EventKind::LpDeposit, -usd)
        } else {
            (EventKind::LpWithdraw, usd)
        };
        Event {
            size_usd: usd,
            payout_usd,
            note: "lp",
            ..Event::new(t_s, kind, u32::MAX, usize::MAX, Side::Long)
        }
    }
}

/// Trace buffer of one venue on one path.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Whether anything is recorded.
    pub on: bool,
    /// Every event in order.
    pub events: Vec<Event>,
    /// Column names of the per-step series (after `step`, `t_s`).
    pub columns: Vec<String>,
    /// Per-step values, row-major: `[step, t_s, columns...]`.
    pub rows: Vec<f64>,
}

impl Trace {
    /// A trace that records nothing.
    pub fn off() -> Trace {
        Trace::default()
    }

    /// A recording trace.
    pub fn recording() -> Trace {
        Trace {
            on: true,
            ..Trace::default()
        }
    }

    /// Records the event built by `make` if tracing is on.
    #[inline]
    pub fn event(&mut self, make: impl FnOnce() -> Event) {
        if self.on {
            self.events.push(make());
        }
    }

    /// Number of values per step row.
    pub fn row_width(&self) -> usize {
        self.columns.len() + 2
    }
}
