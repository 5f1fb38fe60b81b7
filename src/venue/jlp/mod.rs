//! A Jupiter-style (JLP) venue: one multi-asset pool is the counterparty of
//! every market (MECHANISMS.md section 2).
//!
//! State per custody follows Jupiter's custody account: `owned`, `locked`,
//! `guaranteedUsd`, the global short size and average price, a cumulative
//! borrow index and a 60-second signed open-interest window. Token flows go
//! through the venue's [`Ledger`]:
//!
//! - Longs deposit the market's own token into the pool (`owned`) and lock
//!   `size / price` tokens; `guaranteedUsd` gains `size − collateral`. Their
//!   payouts (collateral ± PnL − fees) leave the pool in that token, so the
//!   market is fully collateralized.
//! - Shorts deposit a stablecoin into escrow (collateral held by the venue but
//!   not owned by the pool, as GMX v1 does) and lock `size` of the stable
//!   custody. Their profit is paid by the pool in that stablecoin.
//! - Fees are taken from collateral: the protocol's share goes to the
//!   treasury, the rest to the pool.
//!
//! Pool value (AUM) is Jupiter's formula at every step; the global short
//! average price is kept as the size-weighted harmonic mean of entries, so
//! `shortSize · |avg − price| / avg` equals the exact sum of short PnL (the
//! on-chain rule on decreases may differ; this keeps the LP price exact).
//! Pending borrow fees are not in AUM (as on Jupiter); they enter when a
//! position settles them.
//!
//! Liquidation checks do not scan every position each step. Each position
//! has a conservative trigger price in a heap (assuming the maximum close fee
//! and the borrow index at the top of a window); only positions whose trigger
//! the price has crossed are checked exactly. The window is renewed (and the
//! heap rebuilt) when a custody's borrow index reaches its top.

pub mod formulas;
mod params;

pub use params::{CustodyParams, JlpParams};

use self::formulas::{
    FeeSplit, additive_impact_fraction, borrow_rate_apr, custody_aum_usd, linear_impact_fraction, position_fee,
    position_pnl_usd, utilization,
};
use crate::engine::ledger::{Account, Ledger};
use crate::engine::trace::{Event, EventKind};
use crate::units::{BPS, SECONDS_PER_YEAR};
use crate::venue::book::{DeadlineTags, Slab, exit_prices, impl_slot, push_exit_triggers, record_reject};
use crate::venue::triggers::{DeadlineWheel, Dir, Entry, TriggerHeap};
use crate::venue::{AUTO_COLLATERAL, Clock, Counters, Cx, ExitPlan, Order, OrderKind, Reject, Side, Venue};

/// Headroom of the borrow index above its current value in liquidation
/// trigger keys, as a fraction of position size (0.2 %). Keys stay
/// conservative until a custody's index grows by this much.
const KEY_INDEX_WINDOW: f64 = 2e-3;

const NO_SLOT: u32 = u32::MAX;

/// Signed open-interest changes over the last `len` seconds, one slot per
/// second (Jupiter's `priceImpactBuffer`). Longs opening and shorts closing
/// add, longs closing and shorts opening subtract: the sum is the window's
/// delta imbalance.
#[derive(Debug, Clone)]
struct OiWindow {
    slots: Vec<f64>,
    last_s: u64,
    sum: f64,
    dirty: bool,
}

impl OiWindow {
    fn new(len_s: u64) -> OiWindow {
        OiWindow {
            slots: vec![0.0; len_s.max(1) as usize],
            last_s: 0,
            sum: 0.0,
            dirty: false,
        }
    }

    fn reset(&mut self) {
        self.slots.fill(0.0);
        self.last_s = 0;
        self.sum = 0.0;
        self.dirty = false;
    }

    /// Expires slots older than the window as of `t_s`.
    fn advance_to(&mut self, t_s: u64) {
        if t_s <= self.last_s {
            return;
        }
        if self.dirty {
            let len = self.slots.len() as u64;
            if t_s - self.last_s >= len {
                self.slots.fill(0.0);
                self.sum = 0.0;
                self.dirty = false;
            } else {
                for s in self.last_s + 1..=t_s {
                    let i = (s % len) as usize;
                    self.sum -= self.slots[i];
                    self.slots[i] = 0.0;
                }
            }
        }
        self.last_s = t_s;
    }

    /// The window's signed sum as of `t_s` (at or after the last update),
    /// without changing it.
    fn sum_at(&self, t_s: u64) -> f64 {
        if !self.dirty || t_s <= self.last_s {
            return self.sum;
        }
        let len = self.slots.len() as u64;
        if t_s - self.last_s >= len {
            return 0.0;
        }
        let mut sum = self.sum;
        for s in self.last_s + 1..=t_s {
            sum -= self.slots[(s % len) as usize];
        }
        sum
    }

    fn add(&mut self, t_s: u64, delta_usd: f64) {
        self.advance_to(t_s);
        let i = (t_s % self.slots.len() as u64) as usize;
        self.slots[i] += delta_usd;
        self.sum += delta_usd;
        self.dirty = true;
    }
}

/// One token of the pool.
#[derive(Debug, Clone)]
struct Custody {
    p: CustodyParams,
    /// Tokens owned by the pool (includes long collateral).
    owned: f64,
    /// Tokens reserved for open positions' payouts.
    locked: f64,
    /// Σ over longs of (size − collateral), USD.
    guaranteed_usd: f64,
    /// Σ long size in this market, USD.
    long_size_usd: f64,
    /// Σ short size in this market, USD (`globalShortSizes`).
    short_size_usd: f64,
    /// Σ short size / entry price, tokens.
    short_tokens: f64,
    /// Global short average price, USD (`globalShortAveragePrices`).
    short_avg_price: f64,
    /// Cumulative borrow index (fraction of size), as of `accrued_to_s`.
    index: f64,
    /// Current borrow APR.
    rate_apr: f64,
    accrued_to_s: u64,
    /// Top of the index window used by liquidation keys.
    key_index: f64,
    /// When `index` reaches `key_index` at the current rate, seconds.
    key_expiry_s: f64,
    /// Σ size of positions using this custody as collateral, USD.
    borrow_size_usd: f64,
    /// Σ size · index snapshot of those positions.
    borrow_size_snap: f64,
    window: OiWindow,
}

impl Custody {
    fn index_at(&self, t_s: u64) -> f64 {
        self.index + self.rate_apr * (t_s.saturating_sub(self.accrued_to_s)) as f64 / SECONDS_PER_YEAR
    }
}

#[derive(Debug, Clone)]
struct Position {
    live: bool,
    generation: u32,
    account: u32,
    market: u16,
    collateral: u16,
    side: Side,
    size_usd: f64,
    collateral_usd: f64,
    entry_price: f64,
    /// Tokens of the collateral custody locked for this position.
    locked_tokens: f64,
    /// Stable tokens in escrow (shorts).
    escrow_tokens: f64,
    borrow_snapshot: f64,
    exit: ExitPlan,
    /// Deadline of the position's current deadline-heap entry (`u64::MAX`: none).
    deadline_armed_s: u64,
    /// Tag of that entry ([`DeadlineTags::NONE`]: none); entries with another tag are stale.
    deadline_tag: u32,
}

impl_slot!(Position);

/// Liquidation triggers of one (market, side).
#[derive(Debug, Clone)]
struct LiqWatch {
    heap: TriggerHeap,
    /// Positions whose conservative key the price has crossed but which are
    /// not liquidatable yet: checked exactly every step until the price moves away.
    near: Vec<Entry>,
}

/// The JLP-style venue. See the module documentation.
pub struct JlpVenue {
    p: JlpParams,
    n_assets: usize,
    custodies: Vec<Custody>,
    /// Custody index of each scenario asset, `usize::MAX` if none.
    custody_of: Vec<usize>,
    /// Per custody: its position among the markets (non-stables).
    market_ix: Vec<usize>,
    /// Per custody: 1 + its position among the stables (0 for non-stables).
    collateral_ix: Vec<usize>,
    /// Scenario asset indices of the tradable markets and of the stables.
    markets: Vec<usize>,
    stables: Vec<usize>,
    positions: Slab<Position>,
    /// Slot by (account, market custody, collateral custody).
    index: Vec<u32>,
    max_accounts: u32,
    liq: Vec<[LiqWatch; 2]>,
    exits_below: Vec<TriggerHeap>,
    exits_above: Vec<TriggerHeap>,
    deadlines: DeadlineWheel,
    tags: DeadlineTags,
    /// Per market custody: no trigger can fire while the price is strictly
    /// between these (the most urgent below- and above-triggers).
    watch_lo: Vec<f64>,
    watch_hi: Vec<f64>,
    /// Earliest time any custody's borrow index reaches its key window top.
    next_key_expiry_s: f64,
    /// A custody's key expiry may have moved later: `next_key_expiry_s` is
    /// a lower bound until recomputed.
    expiry_stale: bool,
    ledger: Ledger,
    counters: Counters,
    lp_supply: f64,
    hold: Vec<f64>,
    total_oi_usd: f64,
    scratch: Vec<Entry>,
    deferred: Vec<Entry>,
    due: Vec<(u32, u32)>,
    staged: Vec<Vec<Entry>>,
}

/// A finite number above zero (false for NaN).
fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

fn side_ix(side: Side) -> usize {
    match side {
        Side::Long => 0,
        Side::Short => 1,
    }
}

impl JlpVenue {
    /// A venue for `n_assets` scenario assets and trader accounts `0..max_accounts`.
    pub fn new(p: JlpParams, n_assets: usize, max_accounts: u32) -> JlpVenue {
        let mut custody_of = vec![usize::MAX; n_assets];
        let custodies: Vec<Custody> = p
            .custodies
            .iter()
            .enumerate()
            .map(|(k, c)| {
                custody_of[c.asset] = k;
                Custody {
                    p: c.clone(),
                    owned: 0.0,
                    locked: 0.0,
                    guaranteed_usd: 0.0,
                    long_size_usd: 0.0,
                    short_size_usd: 0.0,
                    short_tokens: 0.0,
                    short_avg_price: 0.0,
                    index: 0.0,
                    rate_apr: 0.0,
                    accrued_to_s: 0,
                    key_index: 0.0,
                    key_expiry_s: f64::INFINITY,
                    borrow_size_usd: 0.0,
                    borrow_size_snap: 0.0,
                    window: OiWindow::new(c.impact.window_s),
                }
            })
            .collect();
        let markets: Vec<usize> = p.custodies.iter().filter(|c| !c.stable).map(|c| c.asset).collect();
        let stables: Vec<usize> = p.custodies.iter().filter(|c| c.stable).map(|c| c.asset).collect();
        let (n_markets, n_stables) = (markets.len(), stables.len());
        let position_in = |list: &[usize], c: &CustodyParams| list.iter().position(|&a| a == c.asset);
        let market_ix = p
            .custodies
            .iter()
            .map(|c| position_in(&markets, c).unwrap_or(usize::MAX))
            .collect();
        let collateral_ix = p
            .custodies
            .iter()
            .map(|c| position_in(&stables, c).map_or(0, |i| i + 1))
            .collect();
        let n = custodies.len();
        let watch = || LiqWatch {
            heap: TriggerHeap::new(Dir::Below),
            near: Vec::new(),
        };
        let liq = (0..n)
            .map(|_| {
                let mut short = watch();
                short.heap = TriggerHeap::new(Dir::Above);
                [watch(), short]
            })
            .collect();
        JlpVenue {
            p,
            n_assets,
            custodies,
            custody_of,
            markets,
            stables,
            positions: Slab::new(),
            index: vec![NO_SLOT; max_accounts as usize * n_markets * (1 + n_stables)],
            market_ix,
            collateral_ix,
            max_accounts,
            liq,
            exits_below: (0..n).map(|_| TriggerHeap::new(Dir::Below)).collect(),
            exits_above: (0..n).map(|_| TriggerHeap::new(Dir::Above)).collect(),
            deadlines: DeadlineWheel::default(),
            tags: DeadlineTags::default(),
            watch_lo: vec![f64::NEG_INFINITY; n],
            watch_hi: vec![f64::INFINITY; n],
            next_key_expiry_s: f64::INFINITY,
            expiry_stale: false,
            ledger: Ledger::new(n_assets),
            counters: Counters::default(),
            lp_supply: 0.0,
            hold: vec![0.0; n_assets],
            total_oi_usd: 0.0,
            scratch: Vec::new(),
            deferred: Vec::new(),
            due: Vec::new(),
            staged: Vec::new(),
        }
    }

    fn token(&self, k: usize) -> usize {
        self.custodies[k].p.asset
    }

    /// Index slot of (account, market custody, collateral custody): one per
    /// account, market and collateral choice (the market's own token or a stable).
    fn key_of(&self, account: u32, market: usize, collateral: usize) -> usize {
        let choice = if collateral == market {
            0
        } else {
            self.collateral_ix[collateral]
        };
        (account as usize * self.markets.len() + self.market_ix[market]) * (1 + self.stables.len()) + choice
    }

    fn lookup(&self, account: u32, market: usize, collateral: usize) -> Option<u32> {
        let s = self.index[self.key_of(account, market, collateral)];
        (s != NO_SLOT).then_some(s)
    }

    /// Market and collateral custodies of an order, validated for this venue.
    fn resolve(&self, o: &Order) -> Result<(usize, usize), Reject> {
        if o.account >= self.max_accounts || o.market >= self.n_assets {
            return Err(Reject::Invalid);
        }
        let collateral = if o.collateral == AUTO_COLLATERAL {
            self.collateral_for(o.market, o.side, AUTO_COLLATERAL)
                .ok_or(Reject::Invalid)?
        } else {
            o.collateral
        };
        if collateral >= self.n_assets {
            return Err(Reject::Invalid);
        }
        let m = self.custody_of[o.market];
        let c = self.custody_of[collateral];
        if m == usize::MAX || c == usize::MAX || self.custodies[m].p.stable {
            return Err(Reject::Invalid);
        }
        let ok = match o.side {
            Side::Long => c == m,
            Side::Short => self.custodies[c].p.stable,
        };
        if ok { Ok((m, c)) } else { Err(Reject::Invalid) }
    }

    /// Brings custody `k`'s borrow index to `cx.t_s` at its current rate.
    fn accrue(&mut self, k: usize, cx: &mut Cx) {
        let t_s = cx.t_s;
        let c = &mut self.custodies[k];
        let before = c.index;
        c.index = c.index_at(t_s);
        c.accrued_to_s = c.accrued_to_s.max(t_s);
        let (size, asset, accrued) = (c.borrow_size_usd, c.p.asset, (c.index - before) * c.borrow_size_usd);
        if accrued > 0.0 {
            cx.trace.event(|| Event {
                size_usd: size,
                borrow_fee_usd: accrued,
                ..Event::new(t_s, EventKind::Accrual, u32::MAX, asset, Side::Long)
            });
        }
    }

    /// Recomputes a custody's borrow rate from its utilization (after a change
    /// of locked or owned) and when its key window expires.
    fn refresh_rate(&mut self, k: usize) {
        let c = &mut self.custodies[k];
        let u = utilization(c.locked, c.owned);
        c.rate_apr = borrow_rate_apr(u, &c.p.borrow);
        c.key_expiry_s = if c.rate_apr > 0.0 {
            c.accrued_to_s as f64 + (c.key_index - c.index).max(0.0) * SECONDS_PER_YEAR / c.rate_apr
        } else {
            f64::INFINITY
        };
        if u > self.counters.peak_utilization {
            self.counters.peak_utilization = u;
        }
        self.next_key_expiry_s = self.next_key_expiry_s.min(c.key_expiry_s);
        self.expiry_stale = true;
    }

    /// Fee of a trade of `size_usd` in market custody `m` at `t_s` whose
    /// signed window contribution is `delta_usd`.
    fn trade_fee(&self, m: usize, size_usd: f64, delta_usd: f64, t_s: u64, warm_start: bool) -> FeeSplit {
        let c = &self.custodies[m];
        let ip = &c.p.impact;
        let linear = linear_impact_fraction(size_usd, ip.scalar_usd);
        let additive = if warm_start {
            0.0
        } else {
            additive_impact_fraction(c.window.sum_at(t_s) + delta_usd, ip)
        };
        position_fee(size_usd, self.p.base_fee_bps, linear, additive, ip.max_fee_bps)
    }

    fn close_delta(side: Side, size_usd: f64) -> f64 {
        match side {
            Side::Long => -size_usd,
            Side::Short => size_usd,
        }
    }

    /// PnL, accrued borrow fee and close fee of closing `size_usd` of the
    /// position in `slot` now.
    fn close_terms(&self, slot: u32, size_usd: f64, t_s: u64, prices: &[f64], warm: bool) -> (f64, f64, FeeSplit) {
        let pos = &self.positions[slot as usize];
        let m = pos.market as usize;
        let price = prices[self.token(m)];
        let pnl = position_pnl_usd(pos.side, pos.size_usd, pos.entry_price, price);
        let index = self.custodies[pos.collateral as usize].index_at(t_s);
        let borrow = pos.size_usd * (index - pos.borrow_snapshot).max(0.0);
        let fee = self.trade_fee(m, size_usd, Self::close_delta(pos.side, size_usd), t_s, warm);
        (pnl, borrow, fee)
    }

    /// Whether the position's equity after closing costs is below maintenance margin.
    fn is_liquidatable(&self, slot: u32, t_s: u64, prices: &[f64]) -> bool {
        let pos = &self.positions[slot as usize];
        let (pnl, borrow, fee) = self.close_terms(slot, pos.size_usd, t_s, prices, false);
        pos.collateral_usd + pnl - borrow - fee.total() < self.p.maintenance_margin * pos.size_usd
    }

    /// Conservative liquidation trigger price of a position: it cannot be
    /// liquidatable while the price is on the safe side of this key, as long
    /// as its collateral custody's index stays below `key_index`.
    fn liq_key(&self, pos: &Position) -> f64 {
        let fee_bound = self.custodies[pos.market as usize].p.impact.max_fee_bps.max(0.0) * BPS;
        let drift = (self.custodies[pos.collateral as usize].key_index - pos.borrow_snapshot).max(0.0);
        let cr = pos.collateral_usd / pos.size_usd;
        let mm = self.p.maintenance_margin;
        match pos.side {
            Side::Long => pos.entry_price * (1.0 + mm + fee_bound - cr + drift),
            Side::Short => pos.entry_price * (1.0 - mm - fee_bound + cr - drift),
        }
    }

    /// Bumps the position's generation (invalidating its old price
    /// triggers) and pushes fresh liquidation and exit triggers, plus a
    /// deadline entry if the deadline changed.
    fn arm(&mut self, slot: u32) {
        self.positions.bump(slot);
        let pos = &self.positions[slot as usize];
        let (generation, m, side, deadline) = (pos.generation, pos.market as usize, pos.side, pos.exit.deadline_s);
        let deadline_changed = deadline != pos.deadline_armed_s;
        let key = self.liq_key(pos);
        let (below, above) = exit_prices(pos.side, pos.entry_price, pos.collateral_usd / pos.size_usd, &pos.exit);
        self.liq[m][side_ix(side)].heap.push(Entry { key, slot, generation });
        match side {
            Side::Long => self.watch_lo[m] = self.watch_lo[m].max(key),
            Side::Short => self.watch_hi[m] = self.watch_hi[m].min(key),
        }
        push_exit_triggers(
            &mut self.exits_below[m],
            &mut self.exits_above[m],
            (below, above),
            slot,
            generation,
        );
        if below > 0.0 {
            self.watch_lo[m] = self.watch_lo[m].max(below);
        }
        // A missing take profit is +infinity: no change.
        self.watch_hi[m] = self.watch_hi[m].min(above);
        if deadline_changed {
            // A new deadline gets a fresh tag; none (after a merge that
            // dropped it) leaves the old entry stale.
            let tag = self.tags.issue(&mut self.deadlines, deadline, slot);
            let pos = &mut self.positions[slot as usize];
            pos.deadline_armed_s = deadline;
            pos.deadline_tag = tag;
        }
        let entries = self.liq[m][side_ix(side)].heap.len() + self.exits_below[m].len() + self.exits_above[m].len();
        if entries > 3 * self.positions.live() + 1024 {
            self.compact_triggers();
        }
    }

    /// Recomputes the watch band of market custody `m` from its heaps.
    fn refresh_watch(&mut self, m: usize) {
        let [long, short] = &self.liq[m];
        if !long.near.is_empty() || !short.near.is_empty() {
            // Near positions are checked every step.
            self.watch_lo[m] = f64::INFINITY;
            self.watch_hi[m] = f64::NEG_INFINITY;
            return;
        }
        let top = |h: &TriggerHeap, none: f64| h.top_key().unwrap_or(none);
        self.watch_lo[m] = top(&long.heap, f64::NEG_INFINITY).max(top(&self.exits_below[m], f64::NEG_INFINITY));
        self.watch_hi[m] = top(&short.heap, f64::INFINITY).min(top(&self.exits_above[m], f64::INFINITY));
    }

    /// Whether any trigger of market custody `m` may fire at `price`.
    #[inline]
    fn may_trigger(&self, m: usize, price: f64) -> bool {
        price <= self.watch_lo[m] || price >= self.watch_hi[m]
    }

    fn deadline_current(&self, slot: u32, tag: u32) -> bool {
        let p = &self.positions[slot as usize];
        p.live && p.deadline_tag == tag
    }

    fn is_current(&self, slot: u32, generation: u32) -> bool {
        self.positions.is_current(slot, generation)
    }

    /// Drops stale trigger entries.
    fn compact_triggers(&mut self) {
        let positions = &self.positions;
        let live = |slot: u32, generation: u32| {
            let p = &positions[slot as usize];
            p.live && p.generation == generation
        };
        for h in self.exits_below.iter_mut().chain(self.exits_above.iter_mut()) {
            h.retain(live);
        }
        for w in self.liq.iter_mut().flatten() {
            w.heap.retain(live);
            w.near.retain(|e| live(e.slot, e.generation));
        }
        for m in 0..self.custodies.len() {
            self.refresh_watch(m);
        }
    }

    /// Re-keys the liquidation triggers that depend on custody `k`'s index:
    /// the longs of market `k`, or every short if `k` is a stablecoin. One
    /// pass over the positions; each rebuilt heap is heapified in O(n).
    fn rebuild_liq_keys(&mut self, k: usize) {
        let stable = self.custodies[k].p.stable;
        let side = if stable { Side::Short } else { Side::Long };
        let s = side_ix(side);
        let affected = |m: usize| stable || m == k;
        let mut staged: Vec<Vec<Entry>> = std::mem::take(&mut self.staged);
        staged.resize_with(self.custodies.len(), Vec::new);
        for v in &mut staged {
            v.clear();
        }
        for (slot, pos) in self.positions.iter().enumerate() {
            let m = pos.market as usize;
            if pos.live && pos.side == side && affected(m) {
                staged[m].push(Entry {
                    key: self.liq_key(pos),
                    slot: slot as u32,
                    generation: pos.generation,
                });
            }
        }
        for (m, entries) in staged.iter().enumerate() {
            if affected(m) && !self.custodies[m].p.stable {
                let w = &mut self.liq[m][s];
                w.heap.refill(entries.iter().copied());
                w.near.clear();
                self.refresh_watch(m);
            }
        }
        self.staged = staged;
    }

    fn alloc(&mut self, pos: Position) -> u32 {
        let key = self.key_of(pos.account, pos.market as usize, pos.collateral as usize);
        let slot = self.positions.alloc(pos);
        self.index[key] = slot;
        slot
    }

    fn remove(&mut self, slot: u32) {
        let pos = &self.positions[slot as usize];
        let key = self.key_of(pos.account, pos.market as usize, pos.collateral as usize);
        self.index[key] = NO_SLOT;
        self.positions.remove(slot);
    }

    fn update_oi(&mut self, delta_usd: f64) {
        self.total_oi_usd += delta_usd;
        if self.positions.live() == 0 {
            self.total_oi_usd = 0.0;
        }
        if self.total_oi_usd > self.counters.peak_oi_usd {
            self.counters.peak_oi_usd = self.total_oi_usd;
        }
    }

    /// Books fees collected from a position: the protocol's share leaves the
    /// pool for the treasury (the pool already holds the tokens).
    fn book_fees(&mut self, k: usize, fees_usd: f64, price: f64) {
        let share = self.p.protocol_share;
        let prot_tokens = share * fees_usd / price;
        let tok = self.token(k);
        self.ledger.transfer(tok, Account::Pool, Account::Protocol, prot_tokens);
        self.custodies[k].owned -= prot_tokens;
        self.counters.fees_to_pool_usd += (1.0 - share) * fees_usd;
        self.counters.fees_to_protocol_usd += share * fees_usd;
    }

    /// Moves up to `usd` of a short's escrowed collateral into the pool.
    fn escrow_to_pool(&mut self, slot: u32, usd: f64, price: f64) {
        let pos = &mut self.positions[slot as usize];
        let k = pos.collateral as usize;
        let tokens = (usd / price).min(pos.escrow_tokens).max(0.0);
        pos.escrow_tokens -= tokens;
        let tok = self.custodies[k].p.asset;
        self.ledger.transfer(tok, Account::Escrow, Account::Pool, tokens);
        self.custodies[k].owned += tokens;
    }

    fn set_borrow_snapshot(&mut self, slot: u32, old_size: f64, old_snap: f64) {
        let pos = &self.positions[slot as usize];
        let (k, size, snap) = (pos.collateral as usize, pos.size_usd, pos.borrow_snapshot);
        let c = &mut self.custodies[k];
        c.borrow_size_usd += size - old_size;
        c.borrow_size_snap += size * snap - old_size * old_snap;
    }

    fn increase(&mut self, o: &Order, size_usd: f64, deposit_usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        let (m, k) = self.resolve(o)?;
        if !positive(size_usd) || !(positive(deposit_usd) || deposit_usd == 0.0) {
            return Err(Reject::Invalid);
        }
        let t = cx.t_s;
        let price = cx.prices[self.token(m)];
        let cprice = cx.prices[self.token(k)];
        let slot = self.lookup(o.account, m, k);
        if slot.is_none() && deposit_usd <= 0.0 {
            return Err(Reject::Collateral);
        }
        if let Some(s) = slot
            && self.is_liquidatable(s, t, cx.prices)
        {
            return Err(Reject::Liquidatable);
        }
        let index = self.custodies[k].index_at(t);
        let (old_size, old_col, old_snap, old_entry) = match slot {
            Some(s) => {
                let p = &self.positions[s as usize];
                (p.size_usd, p.collateral_usd, p.borrow_snapshot, p.entry_price)
            }
            None => (0.0, 0.0, index, price),
        };
        let borrow = old_size * (index - old_snap).max(0.0);
        let delta = match o.side {
            Side::Long => size_usd,
            Side::Short => -size_usd,
        };
        let fee = self.trade_fee(m, size_usd, delta, t, cx.warm_start);
        let new_size = old_size + size_usd;
        let pre_fee_col = old_col - borrow + deposit_usd;
        let new_col = pre_fee_col - fee.total();
        if !positive(new_col) {
            return Err(Reject::Collateral);
        }
        if new_size > pre_fee_col * self.p.max_leverage * (1.0 + 1e-12)
            || new_size < pre_fee_col * self.p.min_leverage * (1.0 - 1e-12)
        {
            return Err(Reject::Leverage);
        }
        let cm = &self.custodies[m];
        if new_size > cm.p.max_position_usd {
            return Err(Reject::MaxPositionSize);
        }
        let share = self.p.protocol_share;
        let fees_usd = borrow + fee.total();
        let (lock, locked_after, owned_after) = match o.side {
            Side::Long => {
                if cm.long_size_usd + size_usd > cm.p.max_global_long_usd {
                    return Err(Reject::MaxGlobalLong);
                }
                let lock = size_usd / price;
                (
                    lock,
                    cm.locked + lock,
                    cm.owned + (deposit_usd - share * fees_usd) / price,
                )
            }
            Side::Short => {
                if cm.short_size_usd + size_usd > cm.p.max_global_short_usd {
                    return Err(Reject::MaxGlobalShort);
                }
                let ck = &self.custodies[k];
                let lock = size_usd / cprice;
                (lock, ck.locked + lock, ck.owned + (1.0 - share) * fees_usd / cprice)
            }
        };
        if utilization(locked_after, owned_after) > self.p.max_utilization {
            return Err(Reject::Utilization);
        }

        // Execute. Accrue first so the elapsed interval uses the old rate.
        self.accrue(k, cx);
        let tok = self.token(k);
        let dep_tokens = deposit_usd / cprice;
        self.counters.trader_deposits_usd += deposit_usd;
        let slot = match slot {
            Some(s) => s,
            None => self.alloc(Position {
                live: true,
                generation: 0,
                account: o.account,
                market: m as u16,
                collateral: k as u16,
                side: o.side,
                size_usd: 0.0,
                collateral_usd: 0.0,
                entry_price: price,
                locked_tokens: 0.0,
                escrow_tokens: 0.0,
                borrow_snapshot: index,
                exit: o.exit,
                deadline_armed_s: u64::MAX,
                deadline_tag: DeadlineTags::NONE,
            }),
        };
        match o.side {
            Side::Long => {
                self.ledger.transfer(tok, Account::Traders, Account::Pool, dep_tokens);
                self.custodies[k].owned += dep_tokens;
                self.book_fees(k, fees_usd, price);
                let c = &mut self.custodies[k];
                c.guaranteed_usd += (new_size - new_col) - (old_size - old_col);
                c.long_size_usd += size_usd;
            }
            Side::Short => {
                self.ledger.transfer(tok, Account::Traders, Account::Escrow, dep_tokens);
                self.positions[slot as usize].escrow_tokens += dep_tokens;
                self.escrow_to_pool(slot, fees_usd, cprice);
                self.book_fees(k, fees_usd, cprice);
                let c = &mut self.custodies[m];
                c.short_size_usd += size_usd;
                c.short_tokens += size_usd / price;
                c.short_avg_price = c.short_size_usd / c.short_tokens;
            }
        }
        self.custodies[k].locked += lock;
        let pos = &mut self.positions[slot as usize];
        pos.entry_price = new_size / (old_size / old_entry + size_usd / price);
        pos.size_usd = new_size;
        pos.collateral_usd = new_col;
        pos.locked_tokens += lock;
        pos.borrow_snapshot = index;
        pos.exit = o.exit;
        self.set_borrow_snapshot(slot, old_size, old_snap);
        self.refresh_rate(k);
        if !cx.warm_start {
            self.custodies[m].window.add(t, delta);
        }
        self.counters.fees_borrow_usd += borrow;
        self.counters.fees_open_close_usd += fee.base_usd;
        self.counters.fees_impact_usd += fee.impact();
        self.counters.volume_usd += size_usd;
        self.counters.trades += 1;
        self.update_oi(size_usd);
        self.arm(slot);
        let kind = if old_size > 0.0 {
            EventKind::Increase
        } else {
            EventKind::Open
        };
        cx.trace.event(|| Event {
            size_usd,
            price,
            collateral_usd: new_col,
            base_fee_usd: fee.base_usd,
            linear_impact_usd: fee.linear_usd,
            additive_impact_usd: fee.additive_usd,
            borrow_fee_usd: borrow,
            payout_usd: -deposit_usd,
            note: if cx.warm_start { "warm_start" } else { "" },
            ..Event::new(t, kind, o.account, o.market, o.side)
        });
        Ok(())
    }

    /// Voluntary close of `size_usd` (all if `None` or at least the size).
    fn close(&mut self, slot: u32, size_usd: Option<f64>, note: &'static str, cx: &mut Cx) -> Result<(), Reject> {
        let t = cx.t_s;
        let pos = &self.positions[slot as usize];
        let (m, k, side) = (pos.market as usize, pos.collateral as usize, pos.side);
        let (size, col, snap) = (pos.size_usd, pos.collateral_usd, pos.borrow_snapshot);
        let mut sz = size_usd.map_or(size, |s| s.min(size));
        if !positive(sz) {
            return Err(Reject::Invalid);
        }
        let (pnl_full, borrow, fee_full) = self.close_terms(slot, size, t, cx.prices, cx.warm_start);
        if col + pnl_full - borrow - fee_full.total() < self.p.maintenance_margin * size {
            return Err(Reject::Liquidatable);
        }
        let price = cx.prices[self.token(m)];
        let cprice = cx.prices[self.token(k)];
        let mut full = sz >= size * (1.0 - 1e-12);
        let mut fee = if full {
            fee_full
        } else {
            self.trade_fee(m, sz, Self::close_delta(side, sz), t, cx.warm_start)
        };
        let (mut payout, mut rem_col, mut f) = (0.0, 0.0, 1.0);
        if !full {
            f = sz / size;
            let col_part = f * col;
            payout = col_part + f * pnl_full - borrow - fee.total();
            rem_col = col - col_part;
            if payout < 0.0 {
                rem_col += payout;
                payout = 0.0;
            }
            if rem_col <= 0.0 {
                full = true;
                sz = size;
                fee = fee_full;
            }
        }
        if full {
            f = 1.0;
            payout = (col + pnl_full - borrow - fee.total()).max(0.0);
            rem_col = 0.0;
        }
        let fees_usd = borrow + fee.total();
        let pnl_part = f * pnl_full;
        self.accrue(k, cx);
        let index = self.custodies[k].index;
        let tok = self.token(k);
        let pos = &self.positions[slot as usize];
        let (locked_rel, entry, account) = (f * pos.locked_tokens, pos.entry_price, pos.account);
        match side {
            Side::Long => {
                let out = payout / price;
                self.ledger.transfer(tok, Account::Pool, Account::Traders, out);
                self.custodies[k].owned -= out;
                self.book_fees(k, fees_usd, price);
                let c = &mut self.custodies[k];
                c.guaranteed_usd += (size - sz - rem_col) - (size - col);
                c.long_size_usd = (c.long_size_usd - sz).max(0.0);
            }
            Side::Short => {
                // Release the closed part of the escrow (all of it on a full
                // close), then the pool pays the trader and the protocol.
                let release_usd = if full { f64::INFINITY } else { col - rem_col };
                self.escrow_to_pool(slot, release_usd, cprice);
                let out = payout / cprice;
                self.ledger.transfer(tok, Account::Pool, Account::Traders, out);
                self.custodies[k].owned -= out;
                self.book_fees(k, fees_usd, cprice);
                self.reduce_short_aggregates(m, sz, entry);
            }
        }
        self.custodies[k].locked -= locked_rel;
        self.counters.trader_payouts_usd += payout;
        self.counters.fees_borrow_usd += borrow;
        self.counters.fees_open_close_usd += fee.base_usd;
        self.counters.fees_impact_usd += fee.impact();
        self.counters.volume_usd += sz;
        self.counters.trades += 1;
        if full {
            self.set_borrow_snapshot_removed(slot);
            self.remove(slot);
        } else {
            let pos = &mut self.positions[slot as usize];
            pos.size_usd = size - sz;
            pos.collateral_usd = rem_col;
            pos.locked_tokens -= locked_rel;
            pos.borrow_snapshot = index;
            self.set_borrow_snapshot(slot, size, snap);
            self.arm(slot);
        }
        self.refresh_rate(k);
        if !cx.warm_start {
            self.custodies[m].window.add(t, Self::close_delta(side, sz));
        }
        self.update_oi(-sz);
        let market = self.token(m);
        cx.trace.event(|| Event {
            size_usd: sz,
            price,
            collateral_usd: rem_col,
            base_fee_usd: fee.base_usd,
            linear_impact_usd: fee.linear_usd,
            additive_impact_usd: fee.additive_usd,
            borrow_fee_usd: borrow,
            pnl_usd: pnl_part,
            payout_usd: payout,
            note,
            ..Event::new(
                t,
                if full {
                    EventKind::Close
                } else {
                    EventKind::PartialClose
                },
                account,
                market,
                side,
            )
        });
        Ok(())
    }

    fn set_borrow_snapshot_removed(&mut self, slot: u32) {
        let pos = &self.positions[slot as usize];
        let c = &mut self.custodies[pos.collateral as usize];
        c.borrow_size_usd -= pos.size_usd;
        c.borrow_size_snap -= pos.size_usd * pos.borrow_snapshot;
    }

    fn reduce_short_aggregates(&mut self, m: usize, size_usd: f64, entry: f64) {
        let c = &mut self.custodies[m];
        c.short_size_usd -= size_usd;
        c.short_tokens -= size_usd / entry;
        if c.short_size_usd <= 1e-9 || c.short_tokens <= 0.0 {
            c.short_size_usd = c.short_size_usd.max(0.0);
            c.short_tokens = c.short_tokens.max(0.0);
        }
        c.short_avg_price = if c.short_tokens > 0.0 {
            c.short_size_usd / c.short_tokens
        } else {
            0.0
        };
    }

    /// Closes a position below maintenance: fees are paid from what equity
    /// remains, the rest of the collateral goes to the pool, and any loss
    /// beyond the collateral is bad debt.
    fn liquidate_slot(&mut self, slot: u32, cx: &mut Cx) {
        let t = cx.t_s;
        let pos = self.positions[slot as usize].clone();
        let (m, k) = (pos.market as usize, pos.collateral as usize);
        let price = cx.prices[self.token(m)];
        let cprice = cx.prices[self.token(k)];
        let (pnl, borrow, fee) = self.close_terms(slot, pos.size_usd, t, cx.prices, false);
        let equity = pos.collateral_usd + pnl;
        let paid = equity.clamp(0.0, borrow + fee.total());
        let borrow_paid = paid.min(borrow);
        let fee_paid = fee.first(paid - borrow_paid);
        let seized = (equity - borrow - fee.total()).max(0.0);
        let bad_debt = (-equity).max(0.0);
        self.accrue(k, cx);
        match pos.side {
            Side::Long => {
                self.book_fees(k, paid, price);
                let c = &mut self.custodies[k];
                c.guaranteed_usd -= pos.size_usd - pos.collateral_usd;
                c.long_size_usd = (c.long_size_usd - pos.size_usd).max(0.0);
            }
            Side::Short => {
                self.escrow_to_pool(slot, f64::INFINITY, cprice);
                self.book_fees(k, paid, cprice);
                self.reduce_short_aggregates(m, pos.size_usd, pos.entry_price);
            }
        }
        self.custodies[k].locked -= pos.locked_tokens;
        self.counters.fees_to_pool_usd += seized;
        self.counters.fees_borrow_usd += borrow_paid;
        self.counters.fees_open_close_usd += fee_paid.base_usd;
        self.counters.fees_impact_usd += fee_paid.impact();
        self.counters.fees_liquidation_usd += seized;
        self.counters.bad_debt_usd += bad_debt;
        self.counters.liquidations += 1;
        self.counters.liquidated_usd += pos.size_usd;
        self.counters.volume_usd += pos.size_usd;
        self.counters.trades += 1;
        self.set_borrow_snapshot_removed(slot);
        self.remove(slot);
        self.refresh_rate(k);
        self.custodies[m]
            .window
            .add(t, Self::close_delta(pos.side, pos.size_usd));
        self.update_oi(-pos.size_usd);
        let market = self.token(m);
        cx.trace.event(|| Event {
            size_usd: pos.size_usd,
            price,
            base_fee_usd: fee_paid.base_usd,
            linear_impact_usd: fee_paid.linear_usd,
            additive_impact_usd: fee_paid.additive_usd,
            borrow_fee_usd: borrow_paid,
            liquidation_fee_usd: seized,
            pnl_usd: pnl,
            bad_debt_usd: bad_debt,
            ..Event::new(t, EventKind::Liquidation, pos.account, market, pos.side)
        });
    }

    fn change_collateral(&mut self, slot: u32, delta_usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        let t = cx.t_s;
        if !delta_usd.is_finite() || delta_usd == 0.0 {
            return Err(Reject::Invalid);
        }
        if self.is_liquidatable(slot, t, cx.prices) {
            return Err(Reject::Liquidatable);
        }
        let pos = &self.positions[slot as usize];
        let (m, k, side) = (pos.market as usize, pos.collateral as usize, pos.side);
        let (size, col, snap) = (pos.size_usd, pos.collateral_usd, pos.borrow_snapshot);
        let price = cx.prices[self.token(m)];
        let cprice = cx.prices[self.token(k)];
        let (pnl, borrow, close_fee) = self.close_terms(slot, size, t, cx.prices, cx.warm_start);
        let new_col = col - borrow + delta_usd;
        if delta_usd > 0.0 && size < new_col * self.p.min_leverage * (1.0 - 1e-12) {
            return Err(Reject::Leverage);
        }
        if delta_usd < 0.0 {
            let lev_ok = new_col > 0.0 && size <= new_col * self.p.max_leverage * (1.0 + 1e-12);
            let healthy = new_col + pnl - close_fee.total() >= self.p.maintenance_margin * size;
            if !lev_ok || !healthy {
                return Err(Reject::Collateral);
            }
        }
        self.accrue(k, cx);
        let index = self.custodies[k].index;
        let tok = self.token(k);
        let (from, to) = match side {
            Side::Long => (Account::Traders, Account::Pool),
            Side::Short => (Account::Traders, Account::Escrow),
        };
        if delta_usd > 0.0 {
            self.counters.trader_deposits_usd += delta_usd;
        } else {
            self.counters.trader_payouts_usd -= delta_usd;
        }
        match side {
            Side::Long => {
                let tokens = delta_usd / price;
                self.ledger.transfer(tok, from, to, tokens);
                self.custodies[k].owned += tokens;
                self.book_fees(k, borrow, price);
                self.custodies[k].guaranteed_usd -= new_col - col;
            }
            Side::Short => {
                self.escrow_to_pool(slot, borrow, cprice);
                self.book_fees(k, borrow, cprice);
                if delta_usd > 0.0 {
                    let tokens = delta_usd / cprice;
                    self.ledger.transfer(tok, from, to, tokens);
                    self.positions[slot as usize].escrow_tokens += tokens;
                } else {
                    // Withdraw from escrow; the pool covers any shortfall of a depegged stable.
                    let want = -delta_usd / cprice;
                    let pos = &mut self.positions[slot as usize];
                    let from_escrow = want.min(pos.escrow_tokens);
                    pos.escrow_tokens -= from_escrow;
                    self.ledger
                        .transfer(tok, Account::Escrow, Account::Traders, from_escrow);
                    self.ledger
                        .transfer(tok, Account::Pool, Account::Traders, want - from_escrow);
                    self.custodies[k].owned -= want - from_escrow;
                }
            }
        }
        let pos = &mut self.positions[slot as usize];
        pos.collateral_usd = new_col;
        pos.borrow_snapshot = index;
        let account = pos.account;
        self.set_borrow_snapshot(slot, size, snap);
        self.counters.fees_borrow_usd += borrow;
        self.refresh_rate(k);
        self.arm(slot);
        let market = self.token(m);
        let kind = if delta_usd > 0.0 {
            EventKind::AddCollateral
        } else {
            EventKind::WithdrawCollateral
        };
        cx.trace.event(|| Event {
            size_usd: size,
            price,
            collateral_usd: new_col,
            borrow_fee_usd: borrow,
            payout_usd: -delta_usd,
            ..Event::new(t, kind, account, market, side)
        });
        Ok(())
    }

    fn fire_exits(&mut self, m: usize, dir: Dir, price: f64, cx: &mut Cx) {
        let mut fired = std::mem::take(&mut self.scratch);
        let mut deferred = std::mem::take(&mut self.deferred);
        fired.clear();
        deferred.clear();
        {
            let heap = match dir {
                Dir::Below => &mut self.exits_below[m],
                Dir::Above => &mut self.exits_above[m],
            };
            while let Some(e) = heap.pop_crossed(price) {
                fired.push(e);
            }
        }
        for &e in &fired {
            if !self.is_current(e.slot, e.generation) {
                continue;
            }
            let side = self.positions[e.slot as usize].side;
            let note = match (side, dir) {
                (Side::Long, Dir::Below) | (Side::Short, Dir::Above) => "stop_loss",
                _ => "take_profit",
            };
            if self.close(e.slot, None, note, cx).is_err() {
                deferred.push(e);
            }
        }
        let heap = match dir {
            Dir::Below => &mut self.exits_below[m],
            Dir::Above => &mut self.exits_above[m],
        };
        for &e in &deferred {
            heap.push(e);
        }
        self.scratch = fired;
        self.deferred = deferred;
    }

    fn liquidate_side(&mut self, m: usize, side: Side, cx: &mut Cx) {
        let t = cx.t_s;
        let price = cx.prices[self.token(m)];
        let s = side_ix(side);
        let mut heap = std::mem::replace(&mut self.liq[m][s].heap, TriggerHeap::new(Dir::Below));
        let mut near = std::mem::take(&mut self.liq[m][s].near);
        let mut cand = std::mem::take(&mut self.scratch);
        cand.clear();
        let dir = heap.dir();
        let mut i = 0;
        while i < near.len() {
            let e = near[i];
            if !self.is_current(e.slot, e.generation) {
                near.swap_remove(i);
            } else if !dir.crossed(price, e.key) {
                heap.push(e);
                near.swap_remove(i);
            } else if self.is_liquidatable(e.slot, t, cx.prices) {
                cand.push(e);
                near.swap_remove(i);
            } else {
                i += 1;
            }
        }
        while let Some(e) = heap.pop_crossed(price) {
            if !self.is_current(e.slot, e.generation) {
                continue;
            }
            if self.is_liquidatable(e.slot, t, cx.prices) {
                cand.push(e);
            } else {
                near.push(e);
            }
        }
        // Most endangered first: highest long key, lowest short key.
        match side {
            Side::Long => cand.sort_by(|a, b| b.key.total_cmp(&a.key).then(a.slot.cmp(&b.slot))),
            Side::Short => cand.sort_by(|a, b| a.key.total_cmp(&b.key).then(a.slot.cmp(&b.slot))),
        }
        for &e in &cand {
            // Earlier liquidations move the impact window; re-check.
            if self.is_liquidatable(e.slot, t, cx.prices) {
                self.liquidate_slot(e.slot, cx);
            } else {
                near.push(e);
            }
        }
        self.liq[m][s].heap = heap;
        self.liq[m][s].near = near;
        self.scratch = cand;
    }

    /// Equity of an open position net of pending borrow fees (no close fee), USD.
    fn equity_usd(&self, pos: &Position, t_s: u64, prices: &[f64]) -> f64 {
        let price = prices[self.token(pos.market as usize)];
        let index = self.custodies[pos.collateral as usize].index_at(t_s);
        pos.collateral_usd + position_pnl_usd(pos.side, pos.size_usd, pos.entry_price, price)
            - pos.size_usd * (index - pos.borrow_snapshot).max(0.0)
    }

    fn custody_aum(&self, k: usize, prices: &[f64]) -> f64 {
        let c = &self.custodies[k];
        custody_aum_usd(
            c.p.stable,
            c.owned,
            c.locked,
            prices[c.p.asset],
            c.guaranteed_usd,
            c.short_size_usd,
            c.short_avg_price,
        )
    }
}

impl Venue for JlpVenue {
    fn name(&self) -> &str {
        &self.p.name
    }

    fn kind(&self) -> &'static str {
        "jlp"
    }

    fn reset(&mut self, prices: &[f64], clock: Clock) {
        self.ledger.reset();
        self.counters = Counters::default();
        self.positions.clear();
        self.tags.reset();
        self.index.fill(NO_SLOT);
        self.total_oi_usd = 0.0;
        for w in self.liq.iter_mut().flatten() {
            w.heap.clear();
            w.near.clear();
        }
        for h in self.exits_below.iter_mut().chain(self.exits_above.iter_mut()) {
            h.clear();
        }
        self.deadlines.configure(clock.step_s, clock.steps);
        self.watch_lo.fill(f64::NEG_INFINITY);
        self.watch_hi.fill(f64::INFINITY);
        self.hold.fill(0.0);
        for k in 0..self.custodies.len() {
            let tok = self.token(k);
            let c = &mut self.custodies[k];
            let tokens = self.p.aum_usd * c.p.weight / prices[tok];
            self.ledger.transfer(tok, Account::Lps, Account::Pool, tokens);
            self.hold[tok] = tokens;
            c.owned = tokens;
            c.locked = 0.0;
            c.guaranteed_usd = 0.0;
            c.long_size_usd = 0.0;
            c.short_size_usd = 0.0;
            c.short_tokens = 0.0;
            c.short_avg_price = 0.0;
            c.index = 0.0;
            c.accrued_to_s = 0;
            c.key_index = KEY_INDEX_WINDOW;
            c.borrow_size_usd = 0.0;
            c.borrow_size_snap = 0.0;
            c.window.reset();
            self.refresh_rate(k);
        }
        self.counters.peak_utilization = 0.0;
        self.lp_supply = self.p.aum_usd / self.p.lp_price_usd;
    }

    fn end_warm_start(&mut self, t_s: u64, prices: &[f64]) {
        let equity = self.open_equity_usd(t_s, prices);
        self.counters = Counters {
            trader_deposits_usd: equity,
            peak_oi_usd: self.total_oi_usd,
            ..Counters::default()
        };
        for k in 0..self.custodies.len() {
            self.custodies[k].window.reset();
            self.refresh_rate(k);
        }
    }

    fn markets(&self) -> &[usize] {
        &self.markets
    }

    fn collateral_for(&self, market: usize, side: Side, hint: usize) -> Option<usize> {
        let m = *self.custody_of.get(market)?;
        if m == usize::MAX || self.custodies[m].p.stable {
            return None;
        }
        match side {
            Side::Long => Some(market),
            Side::Short if self.stables.contains(&hint) => Some(hint),
            Side::Short => self.stables.first().copied(),
        }
    }

    fn leverage_range(&self, _market: usize) -> (f64, f64) {
        (self.p.min_leverage, self.p.max_leverage)
    }

    fn submit(&mut self, o: &Order, cx: &mut Cx) -> Result<(), Reject> {
        let result = match o.kind {
            OrderKind::Increase {
                size_usd,
                collateral_usd,
            } => self.increase(o, size_usd, collateral_usd, cx),
            kind => match self.resolve(o).map(|(m, k)| self.lookup(o.account, m, k)) {
                Err(r) => Err(r),
                Ok(None) => Err(Reject::NoPosition),
                Ok(Some(slot)) => match kind {
                    OrderKind::Decrease { size_usd } => self.close(slot, size_usd, "", cx),
                    OrderKind::AddCollateral { usd } if usd > 0.0 => self.change_collateral(slot, usd, cx),
                    OrderKind::WithdrawCollateral { usd } if usd > 0.0 => self.change_collateral(slot, -usd, cx),
                    _ => Err(Reject::Invalid),
                },
            },
        };
        result.map_err(|r| record_reject(&mut self.counters, o, r, cx))
    }

    fn run_exits(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        for i in 0..self.markets.len() {
            let m = self.custody_of[self.markets[i]];
            let price = cx.prices[self.markets[i]];
            if !self.may_trigger(m, price) {
                continue;
            }
            if self.exits_below[m].peek_crossed(price) {
                self.fire_exits(m, Dir::Below, price, cx);
            }
            if self.exits_above[m].peek_crossed(price) {
                self.fire_exits(m, Dir::Above, price, cx);
            }
            self.refresh_watch(m);
        }
        if self.deadlines.is_empty() {
            return;
        }
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        self.deadlines.take_due(t, &mut due);
        for &(slot, tag) in &due {
            if self.deadline_current(slot, tag) && self.close(slot, None, "deadline", cx).is_err() {
                self.deadlines.push(t + 1, slot, tag);
            }
        }
        self.due = due;
    }

    fn liquidate(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        if self.expiry_stale && t as f64 >= self.next_key_expiry_s {
            self.next_key_expiry_s = self
                .custodies
                .iter()
                .map(|c| c.key_expiry_s)
                .fold(f64::INFINITY, f64::min);
            self.expiry_stale = false;
        }
        if t as f64 >= self.next_key_expiry_s {
            for k in 0..self.custodies.len() {
                if t as f64 >= self.custodies[k].key_expiry_s {
                    self.accrue(k, cx);
                    let c = &mut self.custodies[k];
                    c.key_index = c.index + KEY_INDEX_WINDOW;
                    self.refresh_rate(k);
                    self.rebuild_liq_keys(k);
                }
            }
        }
        for i in 0..self.markets.len() {
            let m = self.custody_of[self.markets[i]];
            let price = cx.prices[self.markets[i]];
            if !self.may_trigger(m, price) {
                continue;
            }
            for side in [Side::Long, Side::Short] {
                let w = &self.liq[m][side_ix(side)];
                if !w.near.is_empty() || w.heap.peek_crossed(price) {
                    self.liquidate_side(m, side, cx);
                }
            }
            self.refresh_watch(m);
        }
    }

    fn lp_value_usd(&self, prices: &[f64]) -> f64 {
        (0..self.custodies.len()).map(|k| self.custody_aum(k, prices)).sum()
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

    fn open_equity_usd(&self, t_s: u64, prices: &[f64]) -> f64 {
        self.positions
            .iter()
            .filter(|p| p.live)
            .map(|p| self.equity_usd(p, t_s, prices))
            .sum()
    }

    fn conservation_error_usd(&self, t_s: u64, prices: &[f64]) -> f64 {
        let n = self.custodies.len();
        let mut locked = vec![0.0; n];
        let mut escrow = vec![0.0; n];
        let mut guaranteed = vec![0.0; n];
        let mut long_size = vec![0.0; n];
        let mut short_size = vec![0.0; n];
        let mut short_tokens = vec![0.0; n];
        let mut borrow_size = vec![0.0; n];
        let mut borrow_snap = vec![0.0; n];
        let mut gross_equity = 0.0;
        let mut short_collateral = 0.0;
        for p in self.positions.iter().filter(|p| p.live) {
            let (m, k) = (p.market as usize, p.collateral as usize);
            locked[k] += p.locked_tokens;
            escrow[k] += p.escrow_tokens;
            borrow_size[k] += p.size_usd;
            borrow_snap[k] += p.size_usd * p.borrow_snapshot;
            let price = prices[self.token(m)];
            gross_equity += p.collateral_usd + position_pnl_usd(p.side, p.size_usd, p.entry_price, price);
            match p.side {
                Side::Long => {
                    guaranteed[m] += p.size_usd - p.collateral_usd;
                    long_size[m] += p.size_usd;
                }
                Side::Short => {
                    short_size[m] += p.size_usd;
                    short_tokens[m] += p.size_usd / p.entry_price;
                    short_collateral += p.collateral_usd;
                }
            }
        }
        let mut err = 0.0;
        let mut holdings = 0.0;
        for (k, c) in self.custodies.iter().enumerate() {
            let tok = c.p.asset;
            let px = prices[tok];
            holdings += c.owned * px;
            err += self.ledger.residual_tokens(tok) * px;
            err += (self.ledger.balance(tok, Account::Pool) - c.owned).abs() * px;
            err += (self.ledger.balance(tok, Account::Escrow) - escrow[k]).abs() * px;
            err += (c.locked - locked[k]).abs() * px;
            err += (c.guaranteed_usd - guaranteed[k]).abs();
            err += (c.long_size_usd - long_size[k]).abs();
            err += (c.short_size_usd - short_size[k]).abs();
            err += (c.short_tokens - short_tokens[k]).abs() * px;
            err += (c.borrow_size_usd - borrow_size[k]).abs() * c.index_at(t_s);
            err += (c.borrow_size_snap - borrow_snap[k]).abs();
        }
        // Pool value plus what open positions are worth to traders equals the
        // tokens the pool holds plus short collateral (at its USD book value).
        err += (self.lp_value_usd(prices) + gross_equity - (holdings + short_collateral)).abs();
        err
    }

    fn trace_columns(&self, asset_names: &[String]) -> Vec<String> {
        let mut cols = vec![
            "lp_price_usd".to_string(),
            "aum_usd".into(),
            "open_positions".into(),
            "open_interest_usd".into(),
        ];
        for c in &self.custodies {
            let a = &asset_names[c.p.asset];
            cols.push(format!("owned_{a}"));
            cols.push(format!("weight_{a}"));
            cols.push(format!("utilization_{a}"));
            cols.push(format!("borrow_apr_{a}"));
            cols.push(format!("borrow_index_{a}"));
            cols.push(format!("pending_borrow_usd_{a}"));
            if !c.p.stable {
                cols.push(format!("oi_long_usd_{a}"));
                cols.push(format!("oi_short_usd_{a}"));
                cols.push(format!("short_avg_price_{a}"));
                cols.push(format!("impact_window_usd_{a}"));
            }
        }
        cols
    }

    fn trace_row(&self, t_s: u64, prices: &[f64], out: &mut Vec<f64>) {
        let aum = self.lp_value_usd(prices);
        out.push(aum / self.lp_supply);
        out.push(aum);
        out.push(self.positions.live() as f64);
        out.push(self.total_oi_usd);
        for (k, c) in self.custodies.iter().enumerate() {
            let index = c.index_at(t_s);
            out.push(c.owned);
            out.push(if aum != 0.0 {
                self.custody_aum(k, prices) / aum
            } else {
                0.0
            });
            out.push(utilization(c.locked, c.owned));
            out.push(c.rate_apr);
            out.push(index);
            out.push(index * c.borrow_size_usd - c.borrow_size_snap);
            if !c.p.stable {
                out.push(c.long_size_usd);
                out.push(c.short_size_usd);
                out.push(c.short_avg_price);
                out.push(c.window.sum);
            }
        }
    }

    fn open_positions(&self) -> usize {
        self.positions.live()
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::trace::Trace;
    use crate::venue::jlp::formulas::{BorrowCurve, ImpactParams};

    fn venue() -> JlpVenue {
        let custody = |asset, stable, weight| CustodyParams {
            asset,
            stable,
            weight,
            target_weight: weight,
            borrow: BorrowCurve::JUPITER_J1,
            impact: ImpactParams::JUPITER_SOL_2025,
            max_position_usd: 2.5e6,
            max_global_long_usd: f64::INFINITY,
            max_global_short_usd: f64::INFINITY,
        };
        let p = JlpParams {
            name: "jlp".into(),
            aum_usd: 1e6,
            lp_price_usd: 1.0,
            max_leverage: 100.0,
            min_leverage: 1.1,
            maintenance_margin: 0.002,
            base_fee_bps: 6.0,
            protocol_share: 0.25,
            max_utilization: 1.0,
            custodies: vec![custody(0, false, 0.5), custody(1, true, 0.5)],
        };
        JlpVenue::new(p, 2, 1)
    }

    /// Submits `o` at `t_s`, or runs the exit triggers if there is no order.
    fn at(v: &mut JlpVenue, prices: &[f64], t_s: u64, o: Option<Order>) {
        let mut trace = Trace::off();
        let mut cx = Cx {
            t_s,
            prices,
            trace: &mut trace,
            warm_start: false,
        };
        match o {
            Some(o) => v.submit(&o, &mut cx).unwrap(),
            None => v.run_exits(&mut cx),
        }
    }

    fn open(deadline_s: u64) -> Order {
        Order {
            account: 0,
            market: 0,
            side: Side::Long,
            collateral: 0,
            kind: OrderKind::Increase {
                size_usd: 10_000.0,
                collateral_usd: 1_000.0,
            },
            exit: ExitPlan {
                deadline_s,
                ..ExitPlan::NONE
            },
            cross: false,
        }
    }

    /// A position that left a deadline entry behind must not close the
    /// position that reuses its slot (regression: new positions started with
    /// the tag of the first deadline ever issued).
    #[test]
    fn a_stale_deadline_does_not_close_the_next_occupant_of_its_slot() {
        let mut v = venue();
        let prices = [100.0, 1.0];
        v.reset(&prices, Clock { step_s: 60, steps: 100 });
        at(&mut v, &prices, 60, Some(open(600)));
        let close = Order {
            kind: OrderKind::Decrease { size_usd: None },
            ..open(u64::MAX)
        };
        at(&mut v, &prices, 120, Some(close));
        at(&mut v, &prices, 180, Some(open(u64::MAX)));
        assert_eq!(v.open_positions(), 1);
        for t in (240..=1200).step_by(60) {
            at(&mut v, &prices, t, None);
        }
        assert_eq!(v.open_positions(), 1, "the stale deadline closed the new position");
        assert_eq!(v.counters().trades, 3);
    }

    /// An increase without a deadline (a scripted order merging into a
    /// population position) drops the deadline; one with a later deadline
    /// moves it.
    #[test]
    fn a_merge_replaces_the_deadline() {
        let prices = [100.0, 1.0];
        for (second, want_open_after_600) in [(u64::MAX, 1), (900, 1), (300, 0)] {
            let mut v = venue();
            v.reset(&prices, Clock { step_s: 60, steps: 100 });
            at(&mut v, &prices, 60, Some(open(600)));
            at(&mut v, &prices, 120, Some(open(second)));
            for t in (180..=600).step_by(60) {
                at(&mut v, &prices, t, None);
            }
            assert_eq!(v.open_positions(), want_open_after_600, "second deadline {second}");
        }
    }
}
