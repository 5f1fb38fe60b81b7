//! An order-book venue in the style of Hyperliquid's HLP and Lighter's LLP
//! (MECHANISMS.md sections 3 and 4.1).
//!
//! Here the vault is not the counterparty to every trade. It is one market
//! maker on a book whose other depth belongs to makers the venue does not
//! track, and the backstop that inherits positions the book cannot absorb.
//! Per market and step:
//! - the oracle follows the exogenous price (optionally lagged);
//!   arbitrageurs trade the book's mid toward it at the scenario's rate,
//!   taking the vault's stale quotes priced through the new mid (its
//!   adverse selection), and the book re-forms around the new mid with the
//!   other makers' depth times the depth multipliers (per side; a side
//!   may be empty) plus the vault's quotes, skewed by its inventory and
//!   pulled beyond its limits;
//! - untracked noise flow (the rest of the market's volume) trades at the
//!   best prices, half each way; the vault fills its share and takes its
//!   share of the fees;
//! - the mark is the median of the oracle plus an EMA of the basis, the
//!   book's bid/ask/last, and the external perp reference (the exogenous
//!   price) or, without it, an EMA of the book;
//! - takers (traders, liquidations, the liquidator's unwind) walk the
//!   book; the vault's quotes take their share of every fill;
//! - liquidations run in rounds: each round's orders move the book and so
//!   the mark, which can put more positions under maintenance in the same
//!   step, up to a bound; the deepest round count is the cascade depth;
//! - funding is sampled every step against the book's impact prices and
//!   paid every hour on oracle notional, peer to peer;
//! - ADL closes ranked opposite positions at the previous mark when a
//!   bankrupt account cannot be backstopped, or when the liquidator's
//!   losses pass their cap;
//! - outage windows stop all of it while prices move on.
//!
//! Cash flows go through the [`Ledger`] in the settlement stablecoin:
//! trader margin in `Escrow`, the vault's cash in `Pool`, fees to
//! `Protocol` (the vault's share to `Pool`), and the counterparties the
//! venue does not track (other makers, arbitrageurs) in `Makers`: realized
//! PnL and funding of tracked positions settle against them.

mod depth;
pub mod formulas;
mod params;

pub use depth::{Book, DepthProfile, Fill};
pub use params::{BookMarketParams, BookParams, LiquidationRule, Margin, MarkParams, VaultParams};

use self::formulas::{
    adl_score, funding_rate_8h, hourly_rate, liquidation_price, maintenance_margin_usd, max_leverage, median3,
    premium_sample, zero_price,
};
use crate::engine::ledger::{Account, Ledger};
use crate::engine::trace::{Event, EventKind};
use crate::units::gt0;
use crate::venue::book::{
    DeadlineTags, Slab, exit_prices, impl_slot, push_exit_triggers, record_reject, trigger_entries,
};
use crate::venue::triggers::{DeadlineWheel, Dir, Entry, TriggerHeap};
use crate::venue::{AUTO_COLLATERAL, Clock, Counters, Cx, DepositMix, ExitPlan, Order, OrderKind, Reject, Side, Venue};

const NO_SLOT: u32 = u32::MAX;
/// Amounts smaller than this are rounding dust, not bad debt, USD.
const DUST_USD: f64 = 1e-6;
const HOUR_S: u64 = 3600;

fn sx(side: Side) -> usize {
    match side {
        Side::Long => 0,
        Side::Short => 1,
    }
}

fn sign(side: Side) -> f64 {
    match side {
        Side::Long => 1.0,
        Side::Short => -1.0,
    }
}

/// Adds `delta` signed coins at `price` to a signed position with average
/// entry; returns the PnL realized by the part that reduced it, USD.
fn trade_signed(pos: &mut f64, entry: &mut f64, delta: f64, price: f64) -> f64 {
    let old = *pos;
    if delta == 0.0 {
        return 0.0;
    }
    let new = old + delta;
    if old == 0.0 || (old > 0.0) == (delta > 0.0) {
        // Same sign throughout: (|old|·entry + |delta|·price) / |new|.
        *entry = (old * *entry + delta * price) / new;
        *pos = new;
        return 0.0;
    }
    let closed = delta.abs().min(old.abs());
    let realized = if old > 0.0 {
        closed * (price - *entry)
    } else {
        closed * (*entry - price)
    };
    if new.abs() < 1e-12 * old.abs().max(delta.abs()) {
        *pos = 0.0;
        *entry = 0.0;
    } else {
        if (new > 0.0) != (old > 0.0) {
            *entry = price;
        }
        *pos = new;
    }
    realized
}

/// A piecewise-linear series at `t` seconds: `(time s, value)` knots, held
/// before the first and after the last; 1 without knots.
fn knot_value(knots: &[(f64, f64)], t: u64) -> f64 {
    let t = t as f64;
    match knots.first() {
        None => 1.0,
        Some(&(t0, v0)) if t <= t0 => v0,
        _ => {
            for w in knots.windows(2) {
                let ((t0, v0), (t1, v1)) = (w[0], w[1]);
                if t <= t1 {
                    return if t1 > t0 {
                        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                    } else {
                        v1
                    };
                }
            }
            knots[knots.len() - 1].1
        }
    }
}

#[derive(Debug, Clone)]
struct Position {
    live: bool,
    generation: u32,
    account: u32,
    market: u16,
    side: Side,
    /// Coins (> 0).
    size: f64,
    /// Average entry price, USD.
    entry: f64,
    /// Margined from the account's cross collateral.
    cross: bool,
    /// Isolated margin, USD (0 for cross).
    margin: f64,
    /// HLP: the rest of a sliced liquidation waits until this time.
    cooldown_until_s: u64,
    /// HLP: a first slice was sent.
    sliced: bool,
    /// Collateral per USD of size when the exit plan was set.
    plan_collateral_per_size: f64,
    exit: ExitPlan,
    deadline_armed_s: u64,
    deadline_tag: u32,
}

impl_slot!(Position);

/// A trader account's cross margin.
#[derive(Debug, Clone, Copy, Default)]
struct AccountState {
    cross_collateral: f64,
    cross_positions: u32,
}

/// One market's state.
#[derive(Debug, Clone)]
struct MarketState {
    book: Book,
    oracle: f64,
    external: f64,
    mark: f64,
    prev_mark: f64,
    basis_ema: f64,
    book_ema: f64,
    /// Other makers' depth multiplier now: [bids, asks].
    multiplier: [f64; 2],
    /// Open interest of tracked positions (traders and vault), coins: [long, short].
    oi: [f64; 2],
    premium_sum: f64,
    premium_n: u32,
    /// Last hourly funding rate (+: longs pay), fraction.
    funding_hourly: f64,
    /// Funding paid by tracked traders at the last settlement, USD.
    funding_paid: f64,
    /// Liquidation heap keys are stored minus this shift, USD: funding
    /// moves every liquidation price of a side by about the same distance
    /// (exactly `oracle · rate / (1 ∓ r)` for maintenance rate r), added up
    /// here with the r that moves the keys toward the mark the most, so a
    /// key fires early rather than late (the check at the pop is exact).
    liq_shift: [f64; 2],
    /// Takers moved the book since the mark was last computed.
    book_moved: bool,
    /// Smallest and largest maintenance rate of the market's tiers.
    mm_rate: (f64, f64),
    /// Vault market-making position (signed coins) and entry.
    mm_pos: f64,
    mm_entry: f64,
    /// Liquidator's inherited position (signed coins) and entry.
    liq_pos: f64,
    liq_entry: f64,
    /// Inherited inventory the unwind started from (for the per-hour rate), coins.
    liq_unwind_base: f64,
    /// Exogenous prices of the last steps (oracle lag).
    history: Vec<f64>,
    history_at: usize,
}

/// The vault's books.
#[derive(Debug, Clone, Copy, Default)]
struct VaultBooks {
    /// Market-making sub-account cash, USD.
    mm_cash: f64,
    /// Liquidator sub-account cash, USD (starts at 0, draws on the vault).
    liq_cash: f64,
    /// Net LP deposits after t = 0, USD.
    lp_net: f64,
    spread: f64,
    funding_mm: f64,
    funding_liq: f64,
    fees: f64,
    /// Quotes are pulled until this time.
    pulled_until_s: u64,
    /// MM PnL at the last loss-limit reset, USD.
    mm_pnl_mark: f64,
    /// Market-making and liquidator PnL when the horizon started (after the
    /// starting book), USD: the attribution is measured from there.
    mm_base: f64,
    liq_base: f64,
}

/// The HLP/LLP-style venue. See the module documentation.
pub struct BookVenue {
    p: BookParams,
    n_assets: usize,
    markets: Vec<usize>,
    market_of: Vec<usize>,
    mk: Vec<MarketState>,
    positions: Slab<Position>,
    index: Vec<u32>,
    accounts: Vec<AccountState>,
    max_accounts: u32,
    /// Accounts with cross positions (checked every step).
    cross_accounts: Vec<u32>,
    liq: Vec<[TriggerHeap; 2]>,
    exits: Vec<[TriggerHeap; 2]>,
    deadlines: DeadlineWheel,
    tags: DeadlineTags,
    vault: VaultBooks,
    ledger: Ledger,
    counters: Counters,
    lp_supply: f64,
    hold: Vec<f64>,
    settlement: usize,
    step_s: u64,
    last_t: u64,
    down: bool,
    scratch: Vec<Entry>,
    /// Liquidation candidates of a round: (slot, generation).
    cand: Vec<(u32, u32)>,
    /// HLP: positions whose first liquidation slice was sent.
    cooling: Vec<u32>,
    /// For the last step length dt (s): (dt, arbitrage keep factor, basis
    /// EMA weight, book EMA weight).
    step_consts: (f64, f64, f64, f64),
    due: Vec<(u32, u32)>,
    /// ADL ranking: (score, slot).
    ranks: Vec<(f64, u32)>,
    /// ADL fills: (coins, slot, realized PnL USD).
    closed: Vec<(f64, u32, f64)>,
}

impl BookVenue {
    /// A venue for `n_assets` scenario assets and trader accounts `0..max_accounts`.
    pub fn new(p: BookParams, n_assets: usize, max_accounts: u32) -> BookVenue {
        let settlement = p.settlement;
        let mut market_of = vec![usize::MAX; n_assets];
        for (i, m) in p.markets.iter().enumerate() {
            market_of[m.asset] = i;
        }
        let heaps = || [TriggerHeap::new(Dir::Below), TriggerHeap::new(Dir::Above)];
        let n = p.markets.len();
        let mk = p
            .markets
            .iter()
            .map(|m| MarketState {
                book: Book::new(m.depth, 1.0),
                oracle: 1.0,
                external: 1.0,
                mark: 1.0,
                prev_mark: 1.0,
                basis_ema: 0.0,
                book_ema: 1.0,
                multiplier: [1.0; 2],
                oi: [0.0; 2],
                premium_sum: 0.0,
                premium_n: 0,
                funding_hourly: 0.0,
                funding_paid: 0.0,
                liq_shift: [0.0; 2],
                book_moved: false,
                mm_rate: match m.margin.maintenance_fraction {
                    Some(f) => (f, f),
                    None => m
                        .margin
                        .tiers
                        .iter()
                        .map(formulas::maintenance_rate)
                        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), r| (lo.min(r), hi.max(r))),
                },
                mm_pos: 0.0,
                mm_entry: 0.0,
                liq_pos: 0.0,
                liq_entry: 0.0,
                liq_unwind_base: 0.0,
                history: Vec::new(),
                history_at: 0,
            })
            .collect();
        BookVenue {
            markets: p.markets.iter().map(|m| m.asset).collect(),
            market_of,
            mk,
            positions: Slab::new(),
            index: vec![NO_SLOT; max_accounts as usize * n * 2],
            accounts: vec![AccountState::default(); max_accounts as usize],
            max_accounts,
            cross_accounts: Vec::new(),
            liq: (0..n).map(|_| heaps()).collect(),
            exits: (0..n).map(|_| heaps()).collect(),
            deadlines: DeadlineWheel::default(),
            tags: DeadlineTags::default(),
            vault: VaultBooks::default(),
            ledger: Ledger::new(n_assets),
            counters: Counters::default(),
            lp_supply: 0.0,
            hold: vec![0.0; n_assets],
            settlement,
            step_s: 1,
            last_t: 0,
            down: false,
            scratch: Vec::new(),
            cand: Vec::new(),
            cooling: Vec::new(),
            step_consts: (f64::NAN, 1.0, 1.0, 1.0),
            due: Vec::new(),
            ranks: Vec::new(),
            closed: Vec::new(),
            n_assets,
            p,
        }
    }

    /// The venue's parameters.
    pub fn params(&self) -> &BookParams {
        &self.p
    }

    /// Mark price of market `m` now, USD.
    pub fn mark(&self, m: usize) -> f64 {
        self.mk[m].mark
    }

    /// Oracle price of market `m` now, USD.
    pub fn oracle(&self, m: usize) -> f64 {
        self.mk[m].oracle
    }

    /// The book of market `m`.
    pub fn book(&self, m: usize) -> &Book {
        &self.mk[m].book
    }

    /// Size (coins), entry (USD) and isolated margin (USD) of a trader's position.
    pub fn position(&self, account: u32, market: usize, side: Side) -> Option<[f64; 3]> {
        let m = *self.market_of.get(market)?;
        if m == usize::MAX || account >= self.max_accounts {
            return None;
        }
        let s = self.index[self.key_of(account, m, side)];
        (s != NO_SLOT).then(|| {
            let p = &self.positions[s as usize];
            [p.size, p.entry, p.margin]
        })
    }

    /// The vault's market-making and inherited positions in market `m`, signed coins.
    pub fn vault_positions(&self, m: usize) -> (f64, f64) {
        (self.mk[m].mm_pos, self.mk[m].liq_pos)
    }

    /// Cross collateral of an account, USD.
    pub fn cross_collateral(&self, account: u32) -> f64 {
        self.accounts.get(account as usize).map_or(0.0, |a| a.cross_collateral)
    }

    /// The vault's net asset value, USD: cash plus its positions at the mark.
    pub fn vault_nav(&self) -> f64 {
        let mut nav = self.vault.mm_cash + self.vault.liq_cash;
        for mk in &self.mk {
            nav += mk.mm_pos * (mk.mark - mk.mm_entry) + mk.liq_pos * (mk.mark - mk.liq_entry);
        }
        nav
    }

    /// Isolated positions below maintenance at the mark now (a check for
    /// tests: after the liquidation pass only positions the book could not
    /// absorb and the backstop could not take remain).
    pub fn underwater_positions(&self) -> usize {
        self.positions
            .iter()
            .filter(|p| p.live && !p.cross && self.iso_equity(p) < self.maintenance(p))
            .count()
    }

    fn key_of(&self, account: u32, m: usize, side: Side) -> usize {
        (account as usize * self.mk.len() + m) * 2 + sx(side)
    }

    fn slot_of(&self, account: u32, m: usize, side: Side) -> Option<u32> {
        let s = self.index[self.key_of(account, m, side)];
        (s != NO_SLOT).then_some(s)
    }

    fn in_outage(&self, t: u64) -> bool {
        self.p.outages.iter().any(|&(s, e)| t >= s && t < e)
    }

    /// Maintenance margin of `notional` USD in market `m`.
    fn maintenance_of(&self, m: usize, notional: f64) -> f64 {
        let mg = &self.p.markets[m].margin;
        match mg.maintenance_fraction {
            Some(f) => notional * f,
            None => maintenance_margin_usd(&mg.tiers, notional),
        }
    }

    fn maintenance(&self, p: &Position) -> f64 {
        let m = p.market as usize;
        self.maintenance_of(m, p.size * self.mk[m].mark)
    }

    fn upnl(&self, p: &Position) -> f64 {
        sign(p.side) * p.size * (self.mk[p.market as usize].mark - p.entry)
    }

    fn iso_equity(&self, p: &Position) -> f64 {
        p.margin + self.upnl(p)
    }

    /// A cross account's (equity, maintenance), USD.
    fn cross_state(&self, account: u32) -> (f64, f64) {
        let mut eq = self.accounts[account as usize].cross_collateral;
        let mut mm = 0.0;
        for m in 0..self.mk.len() {
            for side in [Side::Long, Side::Short] {
                if let Some(s) = self.slot_of(account, m, side) {
                    let p = &self.positions[s as usize];
                    if p.cross {
                        eq += self.upnl(p);
                        mm += self.maintenance(p);
                    }
                }
            }
        }
        (eq, mm)
    }

    /// Below this share of maintenance the vault takes over: 2/3 (HLP) or C/M (LLP).
    fn backstop_fraction(&self, m: usize) -> f64 {
        match self.p.liquidation {
            LiquidationRule::Hlp { backstop_fraction, .. } => backstop_fraction,
            LiquidationRule::Llp { .. } => {
                let mg = &self.p.markets[m].margin;
                match (mg.close_out_fraction, mg.maintenance_fraction) {
                    (Some(c), Some(mm)) if mm > 0.0 => c / mm,
                    _ => 0.5,
                }
            }
        }
    }

    /// Liquidator PnL so far: its cash plus inherited positions at the mark, USD.
    fn liquidator_pnl(&self) -> f64 {
        let mut v = self.vault.liq_cash;
        for mk in &self.mk {
            v += mk.liq_pos * (mk.mark - mk.liq_entry);
        }
        v
    }

    /// Whether the liquidator can take a position that loses it `loss_usd`
    /// at once and still stay within its loss cap.
    fn backstop_available(&self, loss_usd: f64) -> bool {
        self.liquidator_pnl() - loss_usd.max(0.0) > -self.p.vault.backstop_loss_cap_usd
    }

    /// The vault's quotes on market `m`: [bids, asks], USD per bps at the touch.
    fn vault_quotes(&self, m: usize, t: u64) -> [f64; 2] {
        let base = self.p.markets[m].vault_usd_per_bps;
        if base <= 0.0 || t < self.vault.pulled_until_s {
            return [0.0; 2];
        }
        let mk = &self.mk[m];
        let v = &self.p.vault;
        let inv = mk.mm_pos * mk.mark;
        let x = if v.inventory_limit_usd > 0.0 {
            v.skew * inv / v.inventory_limit_usd
        } else {
            0.0
        };
        let mut bid = (1.0 - x).clamp(0.0, 2.0);
        let mut ask = (1.0 + x).clamp(0.0, 2.0);
        if inv >= v.inventory_limit_usd {
            bid = 0.0;
        }
        if inv <= -v.inventory_limit_usd {
            ask = 0.0;
        }
        [base * bid, base * ask]
    }

    /// Other makers' depth multiplier of market `m` at `t`: [bids, asks].
    fn multiplier_at(&self, m: usize, t: u64) -> [f64; 2] {
        let p = &self.p.markets[m];
        let both = knot_value(&p.depth_multiplier, t);
        [
            both * knot_value(&p.side_multiplier[0], t),
            both * knot_value(&p.side_multiplier[1], t),
        ]
    }

    /// A taker order on market `m` of `coins`, bought if `buy`, walking no
    /// further than `limit`. The vault's quotes take their share of the fill
    /// at its average price.
    fn take(&mut self, m: usize, buy: bool, coins: f64, limit: Option<f64>) -> Fill {
        let mid = self.mk[m].book.mid;
        if !gt0(coins) || !gt0(mid) {
            return Fill::default();
        }
        let f = self.mk[m].book.take(buy, coins * mid, limit);
        if f.coins > 0.0 {
            self.mk[m].book_moved = true;
        }
        let realized = self.vault_fill(m, buy, f.vault_coins, f.vwap, mid);
        self.ledger
            .transfer(self.settlement, Account::Makers, Account::Pool, realized);
        f
    }

    /// The vault's quotes fill `coins` at `price` against a taker who buys
    /// (`buy`) or sells, with the book centred on `mid`: its inventory
    /// moves, and the distance from the mid counts as spread captured.
    /// Returns the realized PnL, USD, which the caller settles with the
    /// makers in the ledger.
    fn vault_fill(&mut self, m: usize, buy: bool, coins: f64, price: f64, mid: f64) -> f64 {
        if !gt0(coins) {
            return 0.0;
        }
        let mk = &mut self.mk[m];
        let d = if buy { -coins } else { coins };
        let realized = trade_signed(&mut mk.mm_pos, &mut mk.mm_entry, d, price);
        self.vault.mm_cash += realized;
        self.vault.spread += coins * (price - mid).abs();
        realized
    }

    /// The step's uninformed flow the venue does not track: half buys, half
    /// sells, in orders small against the book that each fill at the best
    /// price (the makers refill between them), so the flow neither walks nor
    /// consumes the book. The vault fills its share of each side and
    /// collects its share of the takers' fees. Returns what the makers owe
    /// the pool and the protocol, USD, for the caller to settle.
    fn noise_flow(&mut self, m: usize, dt: f64) -> (f64, f64) {
        let half = 0.5 * self.p.markets[m].noise_flow_usd_per_hour * dt / 3600.0;
        if !gt0(half) {
            return (0.0, 0.0);
        }
        let book = &self.mk[m].book;
        let mid = book.mid;
        if !gt0(mid) {
            return (0.0, 0.0);
        }
        let (bid, ask) = book.best();
        let coins = half / mid;
        let (mut to_pool, mut notional) = (0.0, 0.0);
        for (buy, price) in [(true, ask), (false, bid)] {
            let k = usize::from(buy);
            let book = &self.mk[m].book;
            if !gt0(book.capacity[k]) {
                continue;
            }
            let share = book.vault_share[k];
            to_pool += self.vault_fill(m, buy, coins * share, price, mid);
            notional += coins * price;
        }
        let fee = notional * self.p.taker_fee_bps * 1e-4;
        let to_vault = fee * self.p.vault_fee_share;
        self.vault.mm_cash += to_vault;
        self.vault.fees += to_vault;
        self.counters.fees_open_close_usd += fee;
        self.counters.fees_to_pool_usd += to_vault;
        self.counters.fees_to_protocol_usd += fee - to_vault;
        (to_pool + to_vault, fee - to_vault)
    }

    /// Charges a taker fee on `notional` USD from trader margin (Escrow):
    /// the vault's share to Pool, the rest to Protocol. Returns the fee.
    fn charge_fee(&mut self, notional: f64) -> f64 {
        let fee = notional * self.p.taker_fee_bps * 1e-4;
        if fee > 0.0 {
            let to_vault = fee * self.p.vault_fee_share;
            self.ledger
                .transfer(self.settlement, Account::Escrow, Account::Pool, to_vault);
            self.ledger
                .transfer(self.settlement, Account::Escrow, Account::Protocol, fee - to_vault);
            self.vault.mm_cash += to_vault;
            self.vault.fees += to_vault;
            self.counters.fees_open_close_usd += fee;
            self.counters.fees_to_pool_usd += to_vault;
            self.counters.fees_to_protocol_usd += fee - to_vault;
        }
        fee
    }

    /// Takes `usd` from a position's margin (isolated) or its account's cross collateral.
    fn debit(&mut self, slot: u32, usd: f64) {
        let p = &mut self.positions[slot as usize];
        if p.cross {
            self.accounts[p.account as usize].cross_collateral -= usd;
        } else {
            p.margin -= usd;
        }
    }

    fn alloc(&mut self, pos: Position) -> u32 {
        let key = self.key_of(pos.account, pos.market as usize, pos.side);
        let (account, cross) = (pos.account, pos.cross);
        let slot = self.positions.alloc(pos);
        self.index[key] = slot;
        if cross {
            let a = &mut self.accounts[account as usize];
            a.cross_positions += 1;
            if a.cross_positions == 1 {
                self.cross_accounts.push(account);
            }
        }
        slot
    }

    fn remove(&mut self, slot: u32) {
        let p = &self.positions[slot as usize];
        let (key, account, cross) = (self.key_of(p.account, p.market as usize, p.side), p.account, p.cross);
        let (m, side, size) = (p.market as usize, p.side, p.size);
        self.mk[m].oi[sx(side)] -= size;
        if self.mk[m].oi[sx(side)] < 1e-9 * size.max(1.0) {
            self.mk[m].oi[sx(side)] = self.mk[m].oi[sx(side)].max(0.0);
        }
        self.index[key] = NO_SLOT;
        self.positions.remove(slot);
        if cross {
            let a = &mut self.accounts[account as usize];
            a.cross_positions -= 1;
            if a.cross_positions == 0 {
                self.cross_accounts.retain(|&x| x != account);
            }
        }
    }

    /// Changes a trader position by `coins` (+ grows it) at `price`; realized
    /// PnL settles with the makers into its margin or cross collateral.
    fn trader_trade(&mut self, slot: u32, coins: f64, price: f64) -> f64 {
        let p = &mut self.positions[slot as usize];
        let s = sign(p.side);
        let mut signed = s * p.size;
        let mut entry = p.entry;
        let realized = trade_signed(&mut signed, &mut entry, s * coins, price);
        let new_size = (signed * s).max(0.0);
        let (m, side) = (p.market as usize, p.side);
        let old = p.size;
        p.size = new_size;
        p.entry = if new_size > 0.0 { entry } else { p.entry };
        self.debit(slot, -realized);
        self.ledger
            .transfer(self.settlement, Account::Makers, Account::Escrow, realized);
        self.mk[m].oi[sx(side)] += new_size - old;
        realized
    }

    /// Re-keys a position's liquidation and exit triggers on the mark.
    fn arm(&mut self, slot: u32) {
        let generation = self.positions.bump(slot);
        let p = &self.positions[slot as usize];
        let m = p.market as usize;
        let dir = sx(p.side);
        let key = match (self.liq_key(p), p.side) {
            (Some(k), _) => Some(k),
            // A long that cannot be liquidated at a positive price now is
            // keyed at 0: funding may move its liquidation price up later.
            (None, Side::Long) if !p.cross => Some(0.0),
            (None, _) => None,
        };
        if let Some(key) = key {
            let key = key - self.mk[m].liq_shift[dir];
            self.liq[m][dir].push(Entry { key, slot, generation });
        }
        let prices = exit_prices(p.side, p.entry, p.plan_collateral_per_size, &p.exit);
        let [below_heap, above_heap] = &mut self.exits[m];
        push_exit_triggers(below_heap, above_heap, prices, slot, generation);
        let deadline = p.exit.deadline_s;
        if deadline != p.deadline_armed_s {
            let tag = self.tags.issue(&mut self.deadlines, deadline, slot);
            let p = &mut self.positions[slot as usize];
            p.deadline_armed_s = deadline;
            p.deadline_tag = tag;
        }
        let entries = trigger_entries(&self.liq) + trigger_entries(&self.exits);
        if entries > 6 * self.positions.live() + 4096 {
            let positions = &self.positions;
            for h in self.liq.iter_mut().chain(self.exits.iter_mut()).flatten() {
                h.retain(|slot, g| positions.is_current(slot, g));
            }
        }
    }

    /// The mark at which an isolated position reaches maintenance, a hair
    /// early so rounding never lets it slip past; `None` for cross
    /// positions and positions that cannot be liquidated.
    fn liq_key(&self, p: &Position) -> Option<f64> {
        if p.cross {
            return None;
        }
        let mg = &self.p.markets[p.market as usize].margin;
        let key = match mg.maintenance_fraction {
            // A flat maintenance fraction is one tier at leverage 1/(2M).
            Some(f) => liquidation_price(
                p.side,
                p.entry,
                p.size,
                p.margin,
                &[formulas::Tier {
                    lower_bound_usd: 0.0,
                    max_leverage: 0.5 / f,
                }],
            ),
            None => liquidation_price(p.side, p.entry, p.size, p.margin, &mg.tiers),
        }?;
        let key = match p.side {
            Side::Long => key * (1.0 + 1e-9),
            Side::Short => key * (1.0 - 1e-9),
        };
        (key > 0.0 && key.is_finite()).then_some(key)
    }

    fn mark_now(&self, m: usize) -> f64 {
        self.mark_from(m, self.mk[m].book.book_price())
    }

    /// The mark with the book's input `b` (USD) already known.
    fn mark_from(&self, m: usize, b: f64) -> f64 {
        let mk = &self.mk[m];
        // An EMA with a zero time constant is the current value.
        let a = if self.p.mark.basis_ema_s > 0.0 {
            mk.oracle + mk.basis_ema
        } else {
            mk.book.mid_now()
        };
        let c = if self.p.mark.external_reference {
            mk.external
        } else if self.p.mark.book_ema_s > 0.0 {
            mk.book_ema
        } else {
            b
        };
        median3(a, b, c).max(1e-12)
    }

    /// Recomputes the mark of market `m` if takers moved its book since.
    fn refresh_mark(&mut self, m: usize) {
        if self.mk[m].book_moved {
            let mark = self.mark_now(m);
            let mk = &mut self.mk[m];
            mk.mark = mark;
            mk.book_moved = false;
        }
    }

    fn ema_alpha(dt: f64, tau: f64) -> f64 {
        if tau <= 0.0 { 1.0 } else { 1.0 - (-dt / tau).exp() }
    }

    /// Moves the oracle; unless the venue is down, arbitrageurs trade the mid
    /// toward it, the book re-forms around the new mid with the vault's
    /// quotes, and the EMAs and the mark update. Returns the PnL the vault
    /// realized against the arbitrageurs, USD, for the caller to settle.
    fn advance_market(&mut self, m: usize, t: u64, prices: &[f64], dt: f64) -> f64 {
        let px = prices[self.markets[m]].max(1e-12);
        {
            let mk = &mut self.mk[m];
            mk.external = px;
            if mk.history.is_empty() {
                mk.oracle = px;
            } else {
                let n = mk.history.len();
                let i = mk.history_at % n;
                mk.oracle = mk.history[i];
                mk.history[i] = px;
                mk.history_at += 1;
            }
        }
        if self.down {
            return 0.0;
        }
        let mult = self.multiplier_at(m, t);
        let quotes = self.vault_quotes(m, t);
        let oracle = self.mk[m].oracle;
        let end_mid = self.mk[m].book.mid_now().max(1e-12);
        if dt != self.step_consts.0 {
            self.step_consts = (
                dt,
                (-self.p.arbitrage_per_hour * dt / 3600.0).exp(),
                Self::ema_alpha(dt, self.p.mark.basis_ema_s),
                Self::ema_alpha(dt, self.p.mark.book_ema_s),
            );
        }
        let (_, keep, a_basis, a_book) = self.step_consts;
        let target = (oracle + (end_mid - oracle) * keep).max(1e-12);
        self.mk[m].multiplier = mult;
        // Arbitrageurs meet the vault's stale quotes only.
        let stale = self.p.vault.stale_share;
        let f = self.mk[m]
            .book
            .arbitrage_from(end_mid, target, mult, [quotes[0] * stale, quotes[1] * stale]);
        let realized = self.vault_fill(m, target > end_mid, f.vault_coins, f.vwap, end_mid);
        let mk = &mut self.mk[m];
        mk.book.reform(target, mult, quotes);
        mk.basis_ema += a_basis * ((mk.book.mid - mk.oracle) - mk.basis_ema);
        // A book just re-formed has its bid and ask evenly around its mid,
        // and the mid as its last price: its input to the mark is the mid.
        let bp = mk.book.mid;
        mk.book_ema += a_book * (bp - mk.book_ema);
        mk.prev_mark = mk.mark;
        let mark = self.mark_from(m, bp);
        let mk = &mut self.mk[m];
        mk.mark = mark;
        mk.book_moved = false;
        realized
    }

    /// Settles the hour's funding in every market: each position pays (or
    /// receives) size · oracle · rate, peer to peer with the makers.
    fn settle_funding(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        let mut any = false;
        for mk in &mut self.mk {
            let mean = if mk.premium_n > 0 {
                mk.premium_sum / mk.premium_n as f64
            } else {
                0.0
            };
            mk.premium_sum = 0.0;
            mk.premium_n = 0;
            let h = hourly_rate(funding_rate_8h(mean, &self.p.funding), &self.p.funding);
            mk.funding_hourly = h;
            mk.funding_paid = 0.0;
            any |= h != 0.0;
        }
        if !any {
            return;
        }
        // Traders, in one pass over the positions.
        for slot in 0..self.positions.len() {
            let p = &self.positions[slot];
            if !p.live {
                continue;
            }
            let mk = &self.mk[p.market as usize];
            let pay = sign(p.side) * p.size * mk.oracle * mk.funding_hourly;
            if pay == 0.0 {
                continue;
            }
            let m = p.market as usize;
            self.debit(slot as u32, pay);
            self.ledger
                .transfer(self.settlement, Account::Escrow, Account::Makers, pay);
            self.mk[m].funding_paid += pay.max(0.0);
        }
        // The vault's books, and the trace.
        for m in 0..self.mk.len() {
            let mk = &self.mk[m];
            let (oracle, h) = (mk.oracle, mk.funding_hourly);
            if h == 0.0 {
                continue;
            }
            let (pay_mm, pay_liq) = (mk.mm_pos * oracle * h, mk.liq_pos * oracle * h);
            self.vault.mm_cash -= pay_mm;
            self.vault.liq_cash -= pay_liq;
            self.vault.funding_mm -= pay_mm;
            self.vault.funding_liq -= pay_liq;
            self.ledger
                .transfer(self.settlement, Account::Pool, Account::Makers, pay_mm + pay_liq);
            let paid = mk.funding_paid + pay_mm.max(0.0) + pay_liq.max(0.0);
            self.counters.funding_usd += paid;
            let asset = self.markets[m];
            cx.trace.event(|| Event {
                funding_fee_usd: paid,
                price: oracle,
                note: "funding",
                ..Event::new(t, EventKind::Accrual, u32::MAX, asset, Side::Long)
            });
        }
        // Funding moved every margin by the same price distance per side
        // and tier: shift the heaps' keys rather than re-keying each position.
        for mk in &mut self.mk {
            let (o, h) = (mk.oracle, mk.funding_hourly);
            let r = if h > 0.0 { mk.mm_rate.1 } else { mk.mm_rate.0 };
            mk.liq_shift[0] += o * h / (1.0 - r);
            mk.liq_shift[1] += o * h / (1.0 + r);
        }
    }

    fn max_lev(&self, m: usize, notional: f64) -> f64 {
        let mg = &self.p.markets[m].margin;
        match mg.maintenance_fraction {
            // Lighter: initial margin is the first tier's.
            Some(_) => mg.tiers.first().map_or(1.0, |t| t.max_leverage),
            None => max_leverage(&mg.tiers, notional),
        }
    }

    fn update_peak_oi(&mut self) {
        let oi: f64 = self.mk.iter().map(|mk| (mk.oi[0] + mk.oi[1]) * mk.mark).sum();
        if oi > self.counters.peak_oi_usd {
            self.counters.peak_oi_usd = oi;
        }
    }

    /// An increase (or, with size 0, a collateral deposit).
    fn open(&mut self, o: &Order, size_usd: f64, deposit_usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        if !(gt0(size_usd) || size_usd == 0.0) || !(gt0(deposit_usd) || deposit_usd == 0.0) {
            return Err(Reject::Invalid);
        }
        let m = self.market_of[o.market];
        let t = cx.t_s;
        let mark = self.mk[m].mark;
        let slot = self.slot_of(o.account, m, o.side);
        if let Some(s) = slot
            && self.positions[s as usize].cross != o.cross
        {
            return Err(Reject::Invalid);
        }
        if slot.is_none() && size_usd <= 0.0 && !o.cross {
            return Err(Reject::NoPosition);
        }
        let cur_size = slot.map_or(0.0, |s| self.positions[s as usize].size);
        if size_usd > 0.0 {
            if self.mk[m].oi[sx(o.side)] * mark + size_usd > self.p.markets[m].oi_cap_usd {
                return Err(match o.side {
                    Side::Long => Reject::MaxGlobalLong,
                    Side::Short => Reject::MaxGlobalShort,
                });
            }
            let notional = cur_size * mark + size_usd;
            let equity_after = if o.cross {
                self.cross_state(o.account).0 + deposit_usd
            } else {
                slot.map_or(0.0, |s| self.iso_equity(&self.positions[s as usize])) + deposit_usd
            };
            if !gt0(equity_after) || notional > equity_after * self.max_lev(m, notional) * (1.0 + 1e-9) {
                return Err(Reject::Leverage);
            }
        }
        let buy = o.side == Side::Long;
        let f = if size_usd > 0.0 {
            let f = self.take(m, buy, size_usd / self.mk[m].book.mid, None);
            if !gt0(f.coins) {
                return Err(Reject::NoLiquidity);
            }
            f
        } else {
            Fill::default()
        };
        // Deposit.
        self.ledger
            .transfer(self.settlement, Account::Traders, Account::Escrow, deposit_usd);
        self.counters.trader_deposits_usd += deposit_usd;
        if o.cross {
            self.accounts[o.account as usize].cross_collateral += deposit_usd;
        }
        let slot = match slot {
            Some(s) => {
                if !o.cross {
                    self.positions[s as usize].margin += deposit_usd;
                }
                Some(s)
            }
            None if f.coins > 0.0 => Some(self.alloc(Position {
                live: true,
                generation: 0,
                account: o.account,
                market: m as u16,
                side: o.side,
                size: 0.0,
                entry: f.vwap,
                cross: o.cross,
                margin: if o.cross { 0.0 } else { deposit_usd },
                cooldown_until_s: 0,
                sliced: false,
                plan_collateral_per_size: 0.0,
                exit: o.exit,
                deadline_armed_s: u64::MAX,
                deadline_tag: DeadlineTags::NONE,
            })),
            None => None,
        };
        let mut fee = 0.0;
        if let Some(s) = slot {
            if f.coins > 0.0 {
                self.trader_trade(s, f.coins, f.vwap);
                fee = self.charge_fee(f.coins * f.vwap);
                self.debit(s, fee);
                let p = &mut self.positions[s as usize];
                p.exit = o.exit;
                p.plan_collateral_per_size = if size_usd > 0.0 { deposit_usd / size_usd } else { 0.0 };
                p.sliced = false;
                self.counters.volume_usd += f.coins * f.vwap;
                self.counters.trades += 1;
                self.update_peak_oi();
            }
            self.arm(s);
        }
        let margin = slot.map_or(0.0, |s| self.positions[s as usize].margin);
        cx.trace.event(|| Event {
            size_usd: if f.coins > 0.0 { f.coins * f.vwap } else { deposit_usd },
            price: if f.coins > 0.0 { f.vwap } else { mark },
            collateral_usd: margin,
            base_fee_usd: fee,
            payout_usd: -deposit_usd,
            ..Event::new(
                t,
                if f.coins == 0.0 {
                    EventKind::AddCollateral
                } else if cur_size > 0.0 {
                    EventKind::Increase
                } else {
                    EventKind::Open
                },
                o.account,
                o.market,
                o.side,
            )
        });
        Ok(())
    }

    /// Closes `coins` of a position into the book (no further than `limit`),
    /// with the taker fee if `fee`. Returns the fill.
    fn reduce(&mut self, slot: u32, coins: f64, limit: Option<f64>, fee: bool) -> Fill {
        let p = &self.positions[slot as usize];
        let (m, side) = (p.market as usize, p.side);
        let f = self.take(m, side == Side::Short, coins.min(p.size), limit);
        if !gt0(f.coins) {
            return f;
        }
        self.trader_trade(slot, -f.coins, f.vwap);
        if fee {
            let c = self.charge_fee(f.coins * f.vwap);
            self.debit(slot, c);
        }
        self.counters.volume_usd += f.coins * f.vwap;
        self.counters.trades += 1;
        f
    }

    /// After a reduction: a closed isolated position pays what is left of its
    /// margin to the trader (the vault covers a negative margin, as bad
    /// debt); a reduced one releases margin in proportion to what closed
    /// (`release` true) or keeps it. Returns (paid out, bad debt).
    fn after_reduce(&mut self, slot: u32, closed: f64, release: bool) -> (f64, f64) {
        let p = &self.positions[slot as usize];
        let (cross, margin, size) = (p.cross, p.margin, p.size);
        if size > 1e-12 * (size + closed) {
            if release && !cross && margin > 0.0 {
                let out = margin * closed / (size + closed);
                self.positions[slot as usize].margin -= out;
                self.ledger
                    .transfer(self.settlement, Account::Escrow, Account::Traders, out);
                self.counters.trader_payouts_usd += out;
                self.arm(slot);
                return (out, 0.0);
            }
            self.arm(slot);
            return (0.0, 0.0);
        }
        let mut out = (0.0, 0.0);
        if !cross {
            if margin >= -DUST_USD {
                self.ledger
                    .transfer(self.settlement, Account::Escrow, Account::Traders, margin);
                self.counters.trader_payouts_usd += margin;
                out.0 = margin;
            } else {
                self.ledger
                    .transfer(self.settlement, Account::Pool, Account::Escrow, -margin);
                self.vault.liq_cash += margin;
                self.counters.bad_debt_usd += -margin;
                out.1 = -margin;
            }
            self.positions[slot as usize].margin = 0.0;
        }
        self.remove(slot);
        out
    }

    /// A trader's close of `size_usd` (at the mark; all if `None`).
    fn close(&mut self, slot: u32, size_usd: Option<f64>, note: &'static str, cx: &mut Cx) -> Result<(), Reject> {
        let t = cx.t_s;
        let p = &self.positions[slot as usize];
        let m = p.market as usize;
        let (account, side, asset, size) = (p.account, p.side, self.markets[m], p.size);
        if self.below_maintenance(slot) {
            return Err(Reject::Liquidatable);
        }
        let coins = match size_usd {
            Some(u) if gt0(u) => (u / self.mk[m].mark).min(size),
            Some(_) => return Err(Reject::Invalid),
            None => size,
        };
        let f = self.reduce(slot, coins, None, true);
        if !gt0(f.coins) {
            return Err(Reject::NoLiquidity);
        }
        let (paid, bad) = self.after_reduce(slot, f.coins, true);
        cx.trace.event(|| Event {
            size_usd: f.coins * f.vwap,
            price: f.vwap,
            payout_usd: paid,
            bad_debt_usd: bad,
            note,
            ..Event::new(
                t,
                if f.coins >= size * (1.0 - 1e-12) {
                    EventKind::Close
                } else {
                    EventKind::PartialClose
                },
                account,
                asset,
                side,
            )
        });
        Ok(())
    }

    fn withdraw(&mut self, o: &Order, usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        let m = self.market_of[o.market];
        if o.cross {
            let (eq, _) = self.cross_state(o.account);
            let im = self.cross_initial_margin(o.account);
            if !gt0(usd) || eq - usd < im || self.accounts[o.account as usize].cross_collateral < usd {
                return Err(Reject::Collateral);
            }
            self.accounts[o.account as usize].cross_collateral -= usd;
        } else {
            let slot = self.slot_of(o.account, m, o.side).ok_or(Reject::NoPosition)?;
            let p = &self.positions[slot as usize];
            let notional = p.size * self.mk[m].mark;
            // Remaining margin must cover max(initial margin, 10 % of notional) (MECHANISMS.md 3.4).
            let need = (notional / self.max_lev(m, notional)).max(0.1 * notional);
            if !gt0(usd) || self.iso_equity(p) - usd < need || p.margin < usd {
                return Err(Reject::Collateral);
            }
            self.positions[slot as usize].margin -= usd;
            self.arm(slot);
        }
        self.ledger
            .transfer(self.settlement, Account::Escrow, Account::Traders, usd);
        self.counters.trader_payouts_usd += usd;
        let t = cx.t_s;
        cx.trace.event(|| Event {
            size_usd: usd,
            payout_usd: usd,
            ..Event::new(t, EventKind::WithdrawCollateral, o.account, o.market, o.side)
        });
        Ok(())
    }

    fn cross_initial_margin(&self, account: u32) -> f64 {
        let mut im = 0.0;
        for m in 0..self.mk.len() {
            for side in [Side::Long, Side::Short] {
                if let Some(s) = self.slot_of(account, m, side) {
                    let p = &self.positions[s as usize];
                    if p.cross {
                        let n = p.size * self.mk[m].mark;
                        im += n / self.max_lev(m, n);
                    }
                }
            }
        }
        im
    }

    /// Whether the position (or its cross account) is below maintenance.
    fn below_maintenance(&self, slot: u32) -> bool {
        let p = &self.positions[slot as usize];
        if p.cross {
            let (eq, mm) = self.cross_state(p.account);
            eq < mm
        } else {
            self.iso_equity(p) < self.maintenance(p)
        }
    }

    /// The liquidator takes over a position at the mark with what is left of
    /// its margin (the maintenance buffer); a negative equity is the vault's
    /// loss (bad debt). For a cross position the account's collateral share
    /// is handled by the caller.
    fn backstop(&mut self, slot: u32, note: &'static str, cx: &mut Cx) {
        let p = self.positions[slot as usize].clone();
        let m = p.market as usize;
        let mark = self.mk[m].mark;
        // The trader's position is closed at the mark against the liquidator.
        self.trader_trade(slot, -p.size, mark);
        {
            let mk = &mut self.mk[m];
            let r = trade_signed(&mut mk.liq_pos, &mut mk.liq_entry, sign(p.side) * p.size, mark);
            self.vault.liq_cash += r;
            self.ledger.transfer(self.settlement, Account::Makers, Account::Pool, r);
            mk.liq_unwind_base = mk.liq_pos.abs().max(mk.liq_unwind_base);
        }
        let equity = if p.cross {
            0.0
        } else {
            self.positions[slot as usize].margin
        };
        // The buffer (or the shortfall) goes to the liquidator.
        self.ledger
            .transfer(self.settlement, Account::Escrow, Account::Pool, equity);
        self.vault.liq_cash += equity;
        self.positions[slot as usize].margin = 0.0;
        if equity < -DUST_USD {
            self.counters.bad_debt_usd += -equity;
        }
        let notional = p.size * mark;
        self.counters.liquidations += 1;
        self.counters.liquidated_usd += notional;
        self.counters.liquidated_backstop_usd += notional;
        self.remove(slot);
        let t = cx.t_s;
        let asset = self.markets[m];
        cx.trace.event(|| Event {
            size_usd: notional,
            price: mark,
            collateral_usd: equity,
            bad_debt_usd: if equity < -DUST_USD { -equity } else { 0.0 },
            note,
            ..Event::new(t, EventKind::Liquidation, p.account, asset, p.side)
        });
    }

    /// Closes up to `coins` of positions opposite to `side` in market `m`
    /// at `price`, the highest ADL score first; fills `self.closed` with
    /// (coins, slot, realized PnL) for [`Self::settle_adl_counterparties`].
    /// Returns the coins closed.
    fn adl_against(&mut self, m: usize, side: Side, coins: f64, price: f64, skip: Option<u32>) -> f64 {
        let opposite = match side {
            Side::Long => Side::Short,
            Side::Short => Side::Long,
        };
        let mark = self.mk[m].mark;
        let mut ranks = std::mem::take(&mut self.ranks);
        ranks.clear();
        for (slot, q) in self.positions.iter().enumerate() {
            if !(q.live && q.market as usize == m && q.side == opposite) || Some(q.account) == skip {
                continue;
            }
            let av = if q.cross {
                self.cross_state(q.account).0
            } else {
                self.iso_equity(q)
            };
            ranks.push((adl_score(q.side, mark, q.entry, q.size * mark, av), slot as u32));
        }
        ranks.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut closed = std::mem::take(&mut self.closed);
        closed.clear();
        let mut left = coins;
        // The sum of what was taken, not `coins - left`: when a tiny position
        // is taken from a large one, the difference cancels to a few digits,
        // and the counterparties' shares of a shortfall would not add up to it.
        let mut done = 0.0;
        for &(_, s) in &ranks {
            if !gt0(left) {
                break;
            }
            let take = self.positions[s as usize].size.min(left);
            let realized = self.trader_trade(s, -take, price);
            left -= take;
            done += take;
            closed.push((take, s, realized));
            self.counters.adl_usd += take * price;
            self.counters.adl_events += 1;
        }
        self.ranks = ranks;
        self.closed = closed;
        done
    }

    /// Settles the counterparties of an ADL at `price` in market `m`: each
    /// pays `shortfall` in proportion to the coins it closed; closed ones
    /// are paid out and leave, others are re-keyed.
    fn settle_adl_counterparties(&mut self, shortfall: f64, total: f64, m: usize, price: f64, cx: &mut Cx) {
        let closed = std::mem::take(&mut self.closed);
        let (t, asset) = (cx.t_s, self.markets[m]);
        for &(coins, s, realized) in &closed {
            let charge = if shortfall > 0.0 && total > 0.0 {
                shortfall * coins / total
            } else {
                0.0
            };
            self.debit(s, charge);
            let (account, side) = (self.positions[s as usize].account, self.positions[s as usize].side);
            let (paid, _) = self.after_reduce(s, coins, true);
            cx.trace.event(|| Event {
                size_usd: coins * price,
                price,
                pnl_usd: realized - charge,
                payout_usd: paid,
                note: "adl",
                ..Event::new(t, EventKind::Adl, account, asset, side)
            });
        }
        self.closed = closed;
    }

    /// ADL of a bankrupt position (MECHANISMS.md 3.6): ranked opposite
    /// positions are closed against it at the previous mark. Its owner
    /// ends at zero, as in a backstop takeover: what the previous mark
    /// leaves of its margin goes to the vault, and a deficit still left is
    /// charged to the deleveraged positions in proportion to what they
    /// closed, so no one without a position pays. What finds no
    /// counterparty is taken by the vault at the mark.
    ///
    /// With steps of a minute the previous mark can lie well before the
    /// bankruptcy; on the venue it is a few seconds old.
    fn adl_bankrupt(&mut self, slot: u32, cx: &mut Cx) {
        let p = self.positions[slot as usize].clone();
        let m = p.market as usize;
        let price = self.mk[m].prev_mark;
        let done = self.adl_against(m, p.side, p.size, price, Some(p.account));
        if done > 0.0 {
            self.trader_trade(slot, -done, price);
        }
        let deficit = if p.cross {
            (-self.cross_state(p.account).0).max(0.0)
        } else {
            (-self.positions[slot as usize].margin).max(0.0)
        };
        let covered = if done > 0.0 { deficit } else { 0.0 };
        if covered > 0.0 {
            if p.cross {
                self.accounts[p.account as usize].cross_collateral += covered;
            } else {
                self.positions[slot as usize].margin += covered;
            }
        }
        self.settle_adl_counterparties(covered, done, m, price, cx);
        self.counters.liquidations += 1;
        self.counters.liquidated_usd += done * price;
        let left = self.positions[slot as usize].size;
        if left > 1e-12 * p.size {
            self.backstop(slot, "adl_remainder", cx);
            return;
        }
        // Closed: the owner's remaining margin is forfeited to the vault.
        let forfeit = if p.cross {
            let a = &self.accounts[p.account as usize];
            if a.cross_positions > 1 {
                0.0
            } else {
                std::mem::take(&mut self.accounts[p.account as usize].cross_collateral)
            }
        } else {
            std::mem::take(&mut self.positions[slot as usize].margin)
        };
        self.ledger
            .transfer(self.settlement, Account::Escrow, Account::Pool, forfeit);
        self.vault.liq_cash += forfeit;
        self.remove(slot);
        let (t, asset) = (cx.t_s, self.markets[m]);
        cx.trace.event(|| Event {
            size_usd: done * price,
            price,
            collateral_usd: forfeit,
            note: "adl_bankrupt",
            ..Event::new(t, EventKind::Liquidation, p.account, asset, p.side)
        });
    }

    /// One position under maintenance: through the book, to the backstop, or to ADL.
    fn liquidate_position(&mut self, slot: u32, cx: &mut Cx) {
        let t = cx.t_s;
        let p = &self.positions[slot as usize];
        let m = p.market as usize;
        let (equity, mm) = if p.cross {
            self.cross_state(p.account)
        } else {
            (self.iso_equity(p), self.maintenance(p))
        };
        if equity >= mm {
            return;
        }
        let mark = self.mk[m].mark;
        let (account, side, asset, size) = (p.account, p.side, self.markets[m], p.size);
        if equity < self.backstop_fraction(m) * mm {
            if self.backstop_available(-equity) {
                if p.cross {
                    self.backstop_cross_account(account, cx);
                } else {
                    self.backstop(slot, "backstop", cx);
                }
            } else if equity < 0.0 {
                self.adl_bankrupt(slot, cx);
            } else {
                // No backstop: keep selling into the book.
                self.book_liquidation(slot, size, None, cx);
            }
            return;
        }
        match self.p.liquidation {
            LiquidationRule::Hlp {
                slice_above_usd,
                first_slice,
                cooldown_s,
                ..
            } => {
                let p = &self.positions[slot as usize];
                if t < p.cooldown_until_s {
                    return;
                }
                let coins = if size * mark > slice_above_usd && !p.sliced {
                    let p = &mut self.positions[slot as usize];
                    p.sliced = true;
                    p.cooldown_until_s = t + cooldown_s;
                    self.cooling.push(slot);
                    size * first_slice
                } else {
                    size
                };
                self.book_liquidation(slot, coins, None, cx);
            }
            LiquidationRule::Llp { fee_cap } => {
                // IoC at the zero price; fills better than it pay up to the fee cap to the vault.
                let mmf = self.p.markets[m].margin.maintenance_fraction.unwrap_or(0.0);
                let z = zero_price(side, mark, mmf, equity, mm).max(1e-12);
                let f = self.reduce(slot, size, Some(z), false);
                if gt0(f.coins) {
                    let better = (f.vwap - z).abs() * f.coins;
                    let fee = better.min(fee_cap * f.coins * f.vwap);
                    self.debit(slot, fee);
                    self.ledger
                        .transfer(self.settlement, Account::Escrow, Account::Pool, fee);
                    self.vault.mm_cash += fee;
                    self.vault.fees += fee;
                    self.counters.fees_liquidation_usd += fee;
                    self.counters.fees_to_pool_usd += fee;
                    self.finish_book_liquidation(slot, f, account, asset, side, cx);
                }
            }
        }
    }

    fn book_liquidation(&mut self, slot: u32, coins: f64, limit: Option<f64>, cx: &mut Cx) {
        let p = &self.positions[slot as usize];
        let (account, side, asset) = (p.account, p.side, self.markets[p.market as usize]);
        let f = self.reduce(slot, coins, limit, true);
        if gt0(f.coins) {
            self.finish_book_liquidation(slot, f, account, asset, side, cx);
        }
    }

    fn finish_book_liquidation(&mut self, slot: u32, f: Fill, account: u32, asset: usize, side: Side, cx: &mut Cx) {
        let notional = f.coins * f.vwap;
        self.counters.liquidations += 1;
        self.counters.liquidated_usd += notional;
        self.counters.liquidated_book_usd += notional;
        let (paid, bad) = self.after_reduce(slot, f.coins, false);
        let t = cx.t_s;
        cx.trace.event(|| Event {
            size_usd: notional,
            price: f.vwap,
            payout_usd: paid,
            bad_debt_usd: bad,
            note: "book",
            ..Event::new(t, EventKind::Liquidation, account, asset, side)
        });
    }

    /// The liquidator takes every cross position of `account` at the mark and
    /// its collateral.
    fn backstop_cross_account(&mut self, account: u32, cx: &mut Cx) {
        for m in 0..self.mk.len() {
            for side in [Side::Long, Side::Short] {
                if let Some(s) = self.slot_of(account, m, side)
                    && self.positions[s as usize].cross
                {
                    self.backstop(s, "backstop", cx);
                }
            }
        }
        let c = self.accounts[account as usize].cross_collateral;
        self.ledger.transfer(self.settlement, Account::Escrow, Account::Pool, c);
        self.vault.liq_cash += c;
        if c < -DUST_USD {
            self.counters.bad_debt_usd += -c;
        }
        self.accounts[account as usize].cross_collateral = 0.0;
    }

    /// The liquidator sells part of its inherited inventory into the book.
    fn unwind(&mut self, m: usize, dt: f64) {
        let rate = self.p.vault.unwind_per_hour;
        let mk = &self.mk[m];
        if !gt0(rate) || mk.liq_pos == 0.0 {
            return;
        }
        let q = (mk.liq_unwind_base * rate * dt / 3600.0).min(mk.liq_pos.abs());
        let buy = mk.liq_pos < 0.0;
        let f = self.take(m, buy, q, None);
        if gt0(f.coins) {
            let mk = &mut self.mk[m];
            let d = if buy { f.coins } else { -f.coins };
            let r = trade_signed(&mut mk.liq_pos, &mut mk.liq_entry, d, f.vwap);
            self.vault.liq_cash += r;
            self.ledger.transfer(self.settlement, Account::Makers, Account::Pool, r);
            if mk.liq_pos == 0.0 {
                mk.liq_unwind_base = 0.0;
            }
            self.counters.volume_usd += f.coins * f.vwap;
        }
    }

    /// When the liquidator's losses pass the cap, ADL closes its inventory
    /// against ranked traders at the previous mark.
    fn adl_liquidator(&mut self, cx: &mut Cx) {
        if self.backstop_available(0.0) {
            return;
        }
        for m in 0..self.mk.len() {
            let q = self.mk[m].liq_pos;
            if q == 0.0 {
                continue;
            }
            let side = if q > 0.0 { Side::Long } else { Side::Short };
            let price = self.mk[m].prev_mark;
            let done = self.adl_against(m, side, q.abs(), price, None);
            if done > 0.0 {
                let mk = &mut self.mk[m];
                let r = trade_signed(&mut mk.liq_pos, &mut mk.liq_entry, -done * q.signum(), price);
                self.vault.liq_cash += r;
                self.ledger.transfer(self.settlement, Account::Makers, Account::Pool, r);
            }
            self.settle_adl_counterparties(0.0, done, m, price, cx);
        }
    }

    /// Keeps the vault's market-making losses within its limit: pulls all
    /// quotes for a while once the loss since the last reset passes it.
    fn police_vault(&mut self, t: u64) {
        if self.p.vault.loss_limit_usd == f64::INFINITY {
            return;
        }
        let mm_pnl = self.mm_pnl();
        if mm_pnl - self.vault.mm_pnl_mark < -self.p.vault.loss_limit_usd {
            self.vault.pulled_until_s = t + self.p.vault.pull_s;
            self.vault.mm_pnl_mark = mm_pnl;
        }
    }

    /// Market-making PnL since t = 0 (cash net of LP flows plus positions at the mark), USD.
    fn mm_pnl(&self) -> f64 {
        let mut v = self.vault.mm_cash - self.p.vault_usd - self.vault.lp_net;
        for mk in &self.mk {
            v += mk.mm_pos * (mk.mark - mk.mm_entry);
        }
        v
    }

    /// Writes the vault's PnL split into the counters.
    fn attribute(&mut self) {
        let v = self.vault;
        let (mm, liq) = (self.mm_pnl() - v.mm_base, self.liquidator_pnl() - v.liq_base);
        let c = &mut self.counters;
        c.vault_spread_usd = v.spread;
        c.vault_funding_usd = v.funding_mm + v.funding_liq;
        c.vault_fees_usd = v.fees;
        c.vault_inventory_usd = mm - v.spread - v.funding_mm - v.fees;
        c.vault_backstop_usd = liq - v.funding_liq;
    }

    /// Runs liquidation rounds until none is left or the bound is reached;
    /// returns the number of rounds that liquidated something.
    fn cascade(&mut self, cx: &mut Cx) -> u32 {
        let mut rounds = 0;
        let max = self.p.max_cascade_rounds.max(1);
        let mut cand = std::mem::take(&mut self.cand);
        for _ in 0..max {
            cand.clear();
            for m in 0..self.mk.len() {
                self.refresh_mark(m);
                let mark = self.mk[m].mark;
                for d in 0..2 {
                    let shifted = mark - self.mk[m].liq_shift[d];
                    while let Some(e) = self.liq[m][d].pop_crossed(shifted) {
                        if self.positions.is_current(e.slot, e.generation) {
                            cand.push((e.slot, e.generation));
                        }
                    }
                }
            }
            // Positions whose first slice's cooldown is over.
            let positions = &self.positions;
            self.cooling
                .retain(|&s| positions[s as usize].live && positions[s as usize].sliced);
            for &s in &self.cooling {
                let p = &self.positions[s as usize];
                if cx.t_s >= p.cooldown_until_s {
                    cand.push((s, p.generation));
                }
            }
            for i in 0..self.cross_accounts.len() {
                let a = self.cross_accounts[i];
                let (eq, mm) = self.cross_state(a);
                if eq < mm {
                    // The largest cross position goes first.
                    let mut best: Option<(f64, u32)> = None;
                    for m in 0..self.mk.len() {
                        for side in [Side::Long, Side::Short] {
                            if let Some(s) = self.slot_of(a, m, side) {
                                let p = &self.positions[s as usize];
                                let n = p.size * self.mk[m].mark;
                                if p.cross && best.is_none_or(|(b, _)| n > b) {
                                    best = Some((n, s));
                                }
                            }
                        }
                    }
                    if let Some((_, s)) = best {
                        cand.push((s, self.positions[s as usize].generation));
                    }
                }
            }
            cand.sort_unstable();
            cand.dedup();
            let before = self.counters.liquidations;
            for &(slot, g) in &cand {
                if !self.positions.is_current(slot, g) {
                    continue;
                }
                if self.below_maintenance(slot) {
                    self.liquidate_position(slot, cx);
                } else {
                    // Back above maintenance: a later liquidation starts with a slice again.
                    self.positions[slot as usize].sliced = false;
                    self.arm(slot);
                }
            }
            // Positions still under maintenance but not liquidated this round
            // (the book was empty) get a key at the current mark.
            if self.counters.liquidations == before {
                break;
            }
            rounds += 1;
        }
        // Candidates the last round left untouched (an empty book, a
        // cooldown) lost their heap entry: re-key them so the next step
        // looks again. Those it traded or re-keyed have a new generation.
        for &(slot, g) in &cand {
            if self.positions.is_current(slot, g) && !self.positions[slot as usize].cross {
                self.arm(slot);
            }
        }
        self.cand = cand;
        rounds
    }
}

impl Venue for BookVenue {
    fn name(&self) -> &str {
        &self.p.name
    }

    fn kind(&self) -> &'static str {
        self.p.style
    }

    fn reset(&mut self, prices: &[f64], clock: Clock) {
        self.ledger.reset();
        self.counters = Counters::default();
        self.positions.clear();
        self.index.fill(NO_SLOT);
        self.accounts.fill(AccountState::default());
        self.cross_accounts.clear();
        self.cooling.clear();
        for h in self.liq.iter_mut().chain(self.exits.iter_mut()).flatten() {
            h.clear();
        }
        self.deadlines.configure(clock.step_s, clock.steps);
        self.tags.reset();
        self.step_s = clock.step_s.max(1);
        self.last_t = 0;
        self.down = self.in_outage(0);
        self.vault = VaultBooks {
            mm_cash: self.p.vault_usd,
            ..VaultBooks::default()
        };
        self.ledger
            .transfer(self.settlement, Account::Lps, Account::Pool, self.p.vault_usd);
        self.lp_supply = self.p.vault_usd;
        self.hold.fill(0.0);
        self.hold[self.settlement] = self.p.vault_usd;
        let lag = (self.p.mark.oracle_lag_s / self.step_s) as usize;
        for m in 0..self.mk.len() {
            let px = prices[self.markets[m]].max(1e-12);
            let mult = self.multiplier_at(m, 0);
            let base = self.p.markets[m].vault_usd_per_bps;
            let mk = &mut self.mk[m];
            mk.history.clear();
            mk.history.resize(lag, px);
            mk.history_at = 0;
            mk.oracle = px;
            mk.external = px;
            mk.mark = px;
            mk.prev_mark = px;
            mk.basis_ema = 0.0;
            mk.book_ema = px;
            mk.multiplier = mult;
            mk.book.reform(px, mult, [base; 2]);
            mk.oi = [0.0; 2];
            mk.premium_sum = 0.0;
            mk.premium_n = 0;
            mk.funding_hourly = 0.0;
            mk.liq_shift = [0.0; 2];
            mk.book_moved = false;
            mk.mm_pos = 0.0;
            mk.mm_entry = 0.0;
            mk.liq_pos = 0.0;
            mk.liq_entry = 0.0;
            mk.liq_unwind_base = 0.0;
        }
    }

    fn end_warm_start(&mut self, t_s: u64, prices: &[f64]) {
        let equity = self.open_equity_usd(t_s, prices);
        self.counters = Counters {
            trader_deposits_usd: equity,
            ..Counters::default()
        };
        self.update_peak_oi();
        self.vault.spread = 0.0;
        self.vault.fees = 0.0;
        self.vault.funding_mm = 0.0;
        self.vault.funding_liq = 0.0;
        self.vault.mm_base = self.mm_pnl();
        self.vault.liq_base = self.liquidator_pnl();
        self.vault.mm_pnl_mark = self.vault.mm_base;
        self.attribute();
    }

    fn markets(&self) -> &[usize] {
        &self.markets
    }

    fn collateral_for(&self, market: usize, _side: Side, _hint: usize) -> Option<usize> {
        let m = *self.market_of.get(market)?;
        (m != usize::MAX).then_some(self.settlement)
    }

    fn leverage_range(&self, market: usize) -> (f64, f64) {
        match self.market_of.get(market) {
            Some(&m) if m != usize::MAX => (1.0, self.max_lev(m, 0.0)),
            _ => (1.0, 1.0),
        }
    }

    fn accrue(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        let dt = t.saturating_sub(self.last_t) as f64;
        let hour_passed = t / HOUR_S > self.last_t / HOUR_S;
        self.last_t = t;
        self.down = self.in_outage(t);
        // What the untracked makers and takers owe the pool and the
        // protocol this step, settled in one transfer each.
        let (mut to_pool, mut to_protocol) = (0.0, 0.0);
        for m in 0..self.mk.len() {
            to_pool += self.advance_market(m, t, cx.prices, dt);
            if !self.down {
                let (p, q) = self.noise_flow(m, dt);
                to_pool += p;
                to_protocol += q;
            }
        }
        self.ledger
            .transfer(self.settlement, Account::Makers, Account::Pool, to_pool);
        self.ledger
            .transfer(self.settlement, Account::Makers, Account::Protocol, to_protocol);
        if hour_passed && !self.down {
            self.settle_funding(cx);
        }
    }

    fn submit(&mut self, o: &Order, cx: &mut Cx) -> Result<(), Reject> {
        let result = if self.down {
            Err(Reject::Halted)
        } else if o.account >= self.max_accounts
            || o.market >= self.n_assets
            || self.market_of[o.market] == usize::MAX
            || !(o.collateral == AUTO_COLLATERAL || o.collateral == self.settlement)
        {
            Err(Reject::Invalid)
        } else {
            let m = self.market_of[o.market];
            match o.kind {
                OrderKind::Increase {
                    size_usd,
                    collateral_usd,
                } => self.open(o, size_usd, collateral_usd, cx),
                OrderKind::AddCollateral { usd } if gt0(usd) => self.open(o, 0.0, usd, cx),
                OrderKind::WithdrawCollateral { usd } => self.withdraw(o, usd, cx),
                OrderKind::Decrease { size_usd } => match self.slot_of(o.account, m, o.side) {
                    Some(s) => self.close(s, size_usd, "", cx),
                    None => Err(Reject::NoPosition),
                },
                OrderKind::AddCollateral { .. } => Err(Reject::Invalid),
            }
        };
        result.map_err(|r| record_reject(&mut self.counters, o, r, cx))
    }

    fn run_exits(&mut self, cx: &mut Cx) {
        if self.down {
            return;
        }
        let t = cx.t_s;
        let mut fired = std::mem::take(&mut self.scratch);
        for m in 0..self.mk.len() {
            let mark = self.mk[m].mark;
            for d in 0..2 {
                fired.clear();
                while let Some(e) = self.exits[m][d].pop_crossed(mark) {
                    fired.push(e);
                }
                for &e in &fired {
                    if !self.positions.is_current(e.slot, e.generation) {
                        continue;
                    }
                    let side = self.positions[e.slot as usize].side;
                    let note = match (side, d) {
                        (Side::Long, 0) | (Side::Short, 1) => "stop_loss",
                        _ => "take_profit",
                    };
                    if self.close(e.slot, None, note, cx).is_err() && self.positions.is_current(e.slot, e.generation) {
                        self.exits[m][d].push(e);
                    }
                }
            }
        }
        self.scratch = fired;
        if self.deadlines.is_empty() {
            return;
        }
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        self.deadlines.take_due(t, &mut due);
        for &(slot, tag) in &due {
            let p = &self.positions[slot as usize];
            if p.live
                && p.deadline_tag == tag
                && self.close(slot, None, "deadline", cx).is_err()
                && self.positions[slot as usize].live
            {
                self.deadlines.push(t + 1, slot, tag);
            }
        }
        self.due = due;
    }

    fn liquidate(&mut self, cx: &mut Cx) {
        if self.down {
            return;
        }
        let rounds = self.cascade(cx) as u64;
        if rounds > self.counters.peak_cascade_depth {
            self.counters.peak_cascade_depth = rounds;
        }
    }

    fn deleverage(&mut self, cx: &mut Cx) {
        if !self.down {
            self.adl_liquidator(cx);
        }
    }

    fn maintain(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        if !self.down {
            let dt = self.step_s as f64;
            for m in 0..self.mk.len() {
                self.unwind(m, dt);
                let mk = &mut self.mk[m];
                let n = self.p.markets[m].impact_notional_usd;
                // Impact prices lie beyond the best prices: with the oracle
                // between best bid and ask the sample is 0 without them.
                let (best_bid, best_ask) = mk.book.best();
                let bid = if best_bid > mk.oracle {
                    mk.book.quote(false, n).0
                } else {
                    best_bid
                };
                let ask = if best_ask < mk.oracle {
                    mk.book.quote(true, n).0
                } else {
                    best_ask
                };
                mk.premium_sum += premium_sample(bid, ask, mk.oracle);
                mk.premium_n += 1;
                self.refresh_mark(m);
                let cap = self.p.markets[m].oi_cap_usd;
                let mk = &self.mk[m];
                let u = (mk.oi[0].max(mk.oi[1]) * mk.mark) / cap;
                if u.is_finite() && u > self.counters.peak_utilization {
                    self.counters.peak_utilization = u;
                }
            }
            self.police_vault(t);
            self.update_peak_oi();
        }
        self.attribute();
    }

    fn lp_deposit(&mut self, usd: f64, _mix: DepositMix, cx: &mut Cx) -> Result<f64, Reject> {
        if !gt0(usd) || !usd.is_finite() {
            return Err(Reject::Invalid);
        }
        if self.down {
            return Err(Reject::Halted);
        }
        let nav = self.vault_nav();
        if !gt0(nav) {
            return Err(Reject::Halted);
        }
        let minted = self.lp_supply * usd / nav;
        self.ledger.transfer(self.settlement, Account::Lps, Account::Pool, usd);
        self.vault.mm_cash += usd;
        self.vault.lp_net += usd;
        self.lp_supply += minted;
        self.counters.lp_deposits_usd += usd;
        let t = cx.t_s;
        cx.trace.event(|| Event::lp_flow(t, true, usd));
        Ok(minted)
    }

    fn lp_withdraw(&mut self, lp_tokens: f64, cx: &mut Cx) -> Result<f64, Reject> {
        if !gt0(lp_tokens) || lp_tokens >= self.lp_supply {
            return Err(Reject::Invalid);
        }
        if self.down {
            return Err(Reject::Halted);
        }
        let nav = self.vault_nav();
        let usd = lp_tokens * nav / self.lp_supply;
        // Paid from the market-making cash; the vault cannot sell its book to pay.
        if !gt0(usd) || usd > self.vault.mm_cash {
            return Err(Reject::Collateral);
        }
        self.ledger.transfer(self.settlement, Account::Pool, Account::Lps, usd);
        self.vault.mm_cash -= usd;
        self.vault.lp_net -= usd;
        self.lp_supply -= lp_tokens;
        self.counters.lp_withdrawals_usd += usd;
        let t = cx.t_s;
        cx.trace.event(|| Event::lp_flow(t, false, usd));
        Ok(usd)
    }

    fn lp_value_usd(&self, _prices: &[f64]) -> f64 {
        self.vault_nav()
    }

    fn lp_supply(&self) -> f64 {
        self.lp_supply
    }

    fn hold_basket(&self) -> &[f64] {
        &self.hold
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn open_equity_usd(&self, _t_s: u64, _prices: &[f64]) -> f64 {
        let iso: f64 = self
            .positions
            .iter()
            .filter(|p| p.live && !p.cross)
            .map(|p| self.iso_equity(p))
            .sum();
        let cross: f64 = self
            .positions
            .iter()
            .filter(|p| p.live && p.cross)
            .map(|p| self.upnl(p))
            .sum();
        iso + cross + self.accounts.iter().map(|a| a.cross_collateral).sum::<f64>()
    }

    fn conservation_error_usd(&self, _t_s: u64, _prices: &[f64]) -> f64 {
        let a = self.settlement;
        let mut err = 0.0;
        for tok in 0..self.n_assets {
            err += self.ledger.residual_tokens(tok);
        }
        let escrow: f64 = self
            .positions
            .iter()
            .filter(|p| p.live && !p.cross)
            .map(|p| p.margin)
            .sum::<f64>()
            + self.accounts.iter().map(|x| x.cross_collateral).sum::<f64>();
        err += (self.ledger.balance(a, Account::Escrow) - escrow).abs();
        err += (self.ledger.balance(a, Account::Pool) - (self.vault.mm_cash + self.vault.liq_cash)).abs();
        let mut oi = vec![[0.0; 2]; self.mk.len()];
        for p in self.positions.iter().filter(|p| p.live) {
            oi[p.market as usize][sx(p.side)] += p.size;
            if !(p.size.is_finite() && p.entry.is_finite() && p.margin.is_finite()) {
                err += 1.0;
            }
        }
        for (mk, counted) in self.mk.iter().zip(&oi) {
            for (kept, summed) in mk.oi.iter().zip(counted) {
                err += (kept - summed).abs() * mk.mark;
            }
            if !(mk.mark.is_finite() && mk.mm_pos.is_finite() && mk.liq_pos.is_finite()) {
                err += 1.0;
            }
        }
        err
    }

    fn trace_columns(&self, asset_names: &[String]) -> Vec<String> {
        let mut cols = vec![
            "lp_price_usd".to_string(),
            "vault_nav_usd".into(),
            "open_positions".into(),
            "vault_spread_usd".into(),
            "vault_inventory_usd".into(),
            "vault_funding_usd".into(),
            "vault_backstop_usd".into(),
            "vault_fees_usd".into(),
        ];
        for &a in &self.markets {
            let n = &asset_names[a];
            for c in [
                "oracle",
                "mark",
                "book_mid",
                "bid_depth_usd",
                "ask_depth_usd",
                "bid_multiplier",
                "ask_multiplier",
                "vault_inventory_usd",
                "inherited_usd",
                "funding_hourly",
                "oi_long_usd",
                "oi_short_usd",
            ] {
                cols.push(format!("{c}_{n}"));
            }
        }
        cols
    }

    fn trace_row(&self, _t_s: u64, _prices: &[f64], out: &mut Vec<f64>) {
        let nav = self.vault_nav();
        out.push(nav / self.lp_supply);
        out.push(nav);
        out.push(self.positions.live() as f64);
        let c = &self.counters;
        out.extend_from_slice(&[
            c.vault_spread_usd,
            c.vault_inventory_usd,
            c.vault_funding_usd,
            c.vault_backstop_usd,
            c.vault_fees_usd,
        ]);
        for mk in &self.mk {
            out.push(mk.oracle);
            out.push(mk.mark);
            out.push(mk.book.mid_now());
            out.push(mk.book.remaining(0));
            out.push(mk.book.remaining(1));
            out.push(mk.multiplier[0]);
            out.push(mk.multiplier[1]);
            out.push(mk.mm_pos * mk.mark);
            out.push(mk.liq_pos * mk.mark);
            out.push(mk.funding_hourly);
            out.push(mk.oi[0] * mk.mark);
            out.push(mk.oi[1] * mk.mark);
        }
    }

    fn open_positions(&self) -> usize {
        self.positions.live()
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}
