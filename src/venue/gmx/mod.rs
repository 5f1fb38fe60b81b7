//! A GMX v2-style venue: GM markets, each its own pool of a long and a short
//! token, optionally wrapped in a GLV (MECHANISMS.md section 1).
//!
//! A market is (index, long token, short token): fully backed when the long
//! token is the index (ETH/USD [WETH-USDC]), synthetic when it is not
//! (DOGE/USD [WETH-USDC]: long profits are paid in WETH whatever DOGE does),
//! single-token when long and short token are the same (pool divisor 2).
//!
//! Token flows go through the venue's [`Ledger`]:
//! - the pool amounts of every market sit in `Pool` (with the swap impact
//!   pools, which are not in pool value);
//! - position collateral sits in `Escrow`; profits and positive impact are
//!   paid from the pool in the side's PnL token, losses, fees and negative
//!   impact are paid into it in the collateral token, as in GMX's
//!   `processCollateral` waterfall;
//! - funding moves every step from the paying side's collateral (`Escrow`)
//!   to `Claimable`, and receivers collect it whenever their position is
//!   touched; impact beyond the cap waits in `Claimable` for the claim delay;
//! - the fee receiver's share goes to `Protocol`.
//!
//! Borrowing, funding and impact-pool distribution accrue every step at the
//! state's current rates (an Euler step; GMX updates them at every action).
//! Positions are checked for liquidation through price bands: a position
//! cannot become liquidatable while the index and collateral prices stay
//! inside its band and its fees accrue below a bound, so only positions whose
//! band was crossed or has expired are checked exactly.

pub mod formulas;
mod lp;
mod market;
mod params;

pub use params::{
    AdlRanking, FeeReceivers, GlvParams, GmMarketParams, GmParams, ImpactFlow, MarketPreset, PnlCap, PnlCaps,
};

use self::formulas::{
    cap_decrease_impact, position_impact_usd, position_pnl_after_cap, side_pnl_usd, split_position_fee,
};
use self::market::{Market, sx};
use crate::engine::ledger::{Account, Ledger};
use crate::engine::trace::{Event, EventKind};
use crate::units::SECONDS_PER_YEAR;
use crate::units::{ge0, gt0};
use crate::venue::book::{
    DeadlineTags, Slab, exit_prices, impl_slot, push_exit_triggers, record_reject, trigger_entries,
};
use crate::venue::triggers::{DeadlineWheel, Dir, Entry, TriggerHeap};
use crate::venue::{AUTO_COLLATERAL, Clock, Counters, Cx, ExitPlan, Order, OrderKind, Reject, Side, Venue};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

const NO_SLOT: u32 = u32::MAX;
/// Smallest borrowing-rate bound used for liquidation bands, per second (about 3 %/year).
const MIN_RATE_BOUND: f64 = 1e-9;

/// Why a position is decreased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Close,
    Liquidation,
    Adl,
}

#[derive(Debug, Clone)]
struct Position {
    live: bool,
    generation: u32,
    account: u32,
    market: u16,
    side: Side,
    /// Collateral token kind (0 long token, 1 short token).
    kind: u8,
    size_usd: f64,
    /// Size in index tokens (v2.2: excluding impact).
    size_tokens: f64,
    /// Collateral, tokens of `kind`, before unsettled funding.
    coll_tokens: f64,
    borrow_snap: f64,
    fund_paid_snap: f64,
    fund_claim_snap: [f64; 2],
    /// Pending price impact, index tokens (v2.2 flow).
    pending_impact: f64,
    /// Collateral value when the exit plan was set, USD (for stop and target prices).
    plan_collateral_usd: f64,
    exit: ExitPlan,
    deadline_armed_s: u64,
    deadline_tag: u32,
}

impl_slot!(Position);

/// What a position owes and is owed now.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    /// Borrowing fee, USD.
    borrow_usd: f64,
    /// Funding owed, collateral tokens.
    funding_tokens: f64,
    /// Funding receivable, tokens per kind.
    claims: [f64; 2],
}

/// Impact beyond the cap, claimable after the delay.
#[derive(Debug, Clone, Copy)]
struct Claim {
    release_s: u64,
    token: usize,
    amount: f64,
}

/// Where a decrease's tokens go; computed before anything changes so a
/// refused order leaves no trace.
#[derive(Debug, Clone, Copy, Default)]
struct DecreasePlan {
    size_delta: f64,
    full: bool,
    tokens_delta: f64,
    pending_delta: f64,
    base_pnl_usd: f64,
    applied_impact_usd: f64,
    /// Funding the collateral could not cover, collateral tokens (the pool fronts it).
    funding_shortfall: f64,
    /// Pool pays out, tokens of the PnL kind (profit and positive impact).
    pool_out: f64,
    /// Impact pool reduction, index tokens.
    impact_pool_out: f64,
    /// Paid into the pool, per kind.
    pool_in: [f64; 2],
    /// Paid to the fee receiver, per kind.
    protocol_in: [f64; 2],
    /// Paid to affiliates, per kind.
    affiliate_out: [f64; 2],
    /// Negative impact into the impact pool, index tokens.
    impact_pool_in: f64,
    /// Claimable collateral, per kind.
    claimable: [f64; 2],
    /// Paid to the trader, per kind (output and, on a full close, collateral).
    payout: [f64; 2],
    /// Collateral left on the position, tokens.
    remaining_coll: f64,
    /// Costs nobody paid, USD (GMX's `remainingCostUsd`).
    unpaid_usd: f64,
    /// The part of them already counted in pool value, USD (bad debt):
    /// funding the pool fronted, losses beyond the collateral and the LPs'
    /// share of unpaid borrowing fees. Unpaid position and liquidation fees
    /// and impact are revenue not received, not a loss of pool value.
    bad_debt_usd: f64,
    position_fee_usd: f64,
    borrow_usd: f64,
    liquidation_fee_usd: f64,
    impact_paid_usd: f64,
    fees_pool_usd: f64,
    fees_protocol_usd: f64,
    claimable_usd: f64,
}

impl DecreasePlan {
    /// Pays `usd` from the purse into the pool (collateral kind, PnL kind);
    /// returns the tokens paid and whether part was left unpaid.
    fn pay_to_pool(&mut self, purse: &mut Purse, usd: f64, [kind, pnl_kind]: [usize; 2]) -> (f64, f64, bool) {
        let (a, b, rem) = purse.pay(usd);
        self.pool_in[kind] += a;
        self.pool_in[pnl_kind] += b;
        self.unpaid_usd += rem;
        (a, b, rem > 0.0)
    }
}

/// The three pots a decrease pays costs from (GMX `payForCost`): output in
/// the collateral token, then collateral, then output in the PnL token.
struct Purse {
    out: f64,
    coll: f64,
    sec: f64,
    pc: f64,
    ppnl: f64,
}

impl Purse {
    /// Pays `usd`; returns (collateral-kind tokens, PnL-kind tokens, unpaid USD).
    fn pay(&mut self, usd: f64) -> (f64, f64, f64) {
        if !gt0(usd) {
            return (0.0, 0.0, 0.0);
        }
        let mut need = usd / self.pc;
        let mut a = 0.0;
        for pot in [&mut self.out, &mut self.coll] {
            let take = pot.min(need).max(0.0);
            *pot -= take;
            need -= take;
            a += take;
        }
        let mut need_sec = need * self.pc / self.ppnl;
        let b = self.sec.min(need_sec).max(0.0);
        self.sec -= b;
        need_sec -= b;
        (a, b, (need_sec * self.ppnl).max(0.0))
    }
}

/// The GM/GLV venue. See the module documentation.
pub struct GmVenue {
    p: GmParams,
    n_assets: usize,
    mk: Vec<Market>,
    /// Market of each scenario asset as index (`usize::MAX` if none).
    market_of: Vec<usize>,
    /// Index assets traded.
    markets: Vec<usize>,
    /// Assets whose prices move triggers (indices and tokens).
    watched: Vec<usize>,
    positions: Slab<Position>,
    index: Vec<u32>,
    max_accounts: u32,
    /// Liquidation bands per asset: [below, above].
    liq: Vec<[TriggerHeap; 2]>,
    /// Stop-loss and take-profit triggers per index asset: [below, above].
    exits: Vec<[TriggerHeap; 2]>,
    watch_lo: Vec<f64>,
    watch_hi: Vec<f64>,
    deadlines: DeadlineWheel,
    tags: DeadlineTags,
    /// Liquidation bands' fee expiries: (time, slot, generation), soonest on top.
    rechecks: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// Borrowing-rate bound per market and side used by bands, per second.
    rate_bound: Vec<[f64; 2]>,
    claims: VecDeque<Claim>,
    /// Claimable collateral waiting, per asset.
    claimable_waiting: Vec<f64>,
    /// GLV or basket LP token supply.
    lp_supply: f64,
    last_keeper_check_s: Option<u64>,
    step_s: u64,
    ledger: Ledger,
    counters: Counters,
    hold: Vec<f64>,
    total_oi_usd: f64,
    scratch: Vec<Entry>,
    cand: Vec<(f64, u32, u32)>,
    due: Vec<(u32, u32)>,
    order: Vec<(f64, usize)>,
    weights: Vec<f64>,
    touched: Vec<usize>,
}

/// A finite number above zero (false for NaN).
fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

impl GmVenue {
    /// A venue for `n_assets` scenario assets and trader accounts `0..max_accounts`.
    pub fn new(p: GmParams, n_assets: usize, max_accounts: u32) -> GmVenue {
        let mut market_of = vec![usize::MAX; n_assets];
        let mut watched = Vec::new();
        for (i, m) in p.markets.iter().enumerate() {
            market_of[m.index] = i;
            for a in [m.index, m.long_token, m.short_token] {
                if !watched.contains(&a) {
                    watched.push(a);
                }
            }
        }
        let mk: Vec<Market> = p.markets.iter().cloned().map(Market::new).collect();
        let markets = p.markets.iter().map(|m| m.index).collect();
        let heaps = || [TriggerHeap::new(Dir::Below), TriggerHeap::new(Dir::Above)];
        let n = mk.len();
        GmVenue {
            n_assets,
            market_of,
            markets,
            watched,
            positions: Slab::new(),
            index: vec![NO_SLOT; max_accounts as usize * n * 4],
            max_accounts,
            liq: (0..n_assets).map(|_| heaps()).collect(),
            exits: (0..n_assets).map(|_| heaps()).collect(),
            watch_lo: vec![f64::NEG_INFINITY; n_assets],
            watch_hi: vec![f64::INFINITY; n_assets],
            deadlines: DeadlineWheel::default(),
            tags: DeadlineTags::default(),
            rechecks: BinaryHeap::new(),
            rate_bound: vec![[MIN_RATE_BOUND; 2]; n],
            claims: VecDeque::new(),
            claimable_waiting: vec![0.0; n_assets],
            lp_supply: 0.0,
            last_keeper_check_s: None,
            step_s: 1,
            ledger: Ledger::new(n_assets),
            counters: Counters::default(),
            hold: vec![0.0; n_assets],
            total_oi_usd: 0.0,
            scratch: Vec::new(),
            cand: Vec::new(),
            due: Vec::new(),
            order: Vec::new(),
            weights: Vec::new(),
            touched: Vec::new(),
            mk,
            p,
        }
    }

    /// The venue's parameters.
    pub fn params(&self) -> &GmParams {
        &self.p
    }

    /// `pnl / pool` of a market side (MECHANISMS.md 1.13).
    pub fn pnl_to_pool_factor(&self, market: usize, side: Side, prices: &[f64]) -> f64 {
        self.mk[market].pnl_to_pool_factor(side, prices)
    }

    /// Whether a market side still has a profitable open position.
    pub fn has_profitable(&self, market: usize, side: Side, prices: &[f64]) -> bool {
        let price = prices[self.mk[market].p.index];
        self.positions.iter().any(|p| {
            p.live
                && p.market as usize == market
                && p.side == side
                && side_pnl_usd(side, p.size_usd, p.size_tokens, price) > 0.0
        })
    }

    /// Number of open positions the exact liquidation rule would liquidate
    /// now (a check for tests: after [`Venue::liquidate`] it is 0).
    pub fn liquidatable_positions(&self, prices: &[f64]) -> usize {
        self.positions
            .iter()
            .filter(|p| p.live && self.is_liquidatable(p, prices))
            .count()
    }

    /// Number of markets.
    pub fn market_count(&self) -> usize {
        self.mk.len()
    }

    /// Pool value of a market, USD, with PnL capped as `cap`.
    pub fn pool_value_usd(&self, market: usize, prices: &[f64], cap: PnlCap) -> f64 {
        self.mk[market].pool_value(prices, cap, self.p.fee_receivers.borrowing)
    }

    /// GM token supply of a market.
    pub fn gm_supply(&self, market: usize) -> f64 {
        self.mk[market].supply
    }

    /// Pool amounts of a market per token kind (single-token markets use kind 0), tokens.
    pub fn pool_amounts(&self, market: usize) -> [f64; 2] {
        self.mk[market].amount
    }

    /// Position impact pool of a market, index tokens.
    pub fn impact_pool_tokens(&self, market: usize) -> f64 {
        self.mk[market].impact_pool
    }

    /// Collateral claimable later (impact beyond the cap), tokens of `asset`.
    pub fn claimable_collateral(&self, asset: usize) -> f64 {
        self.claimable_waiting[asset]
    }

    /// Size (USD), size in tokens, collateral tokens and pending impact tokens of a position.
    pub fn position(&self, account: u32, market: usize, side: Side, collateral: usize) -> Option<[f64; 4]> {
        let m = self.market_of.get(market).copied().filter(|&m| m != usize::MAX)?;
        let kind = self.kind_of(m, collateral)?;
        let slot = self.lookup(account, m, side, kind)?;
        let p = &self.positions[slot as usize];
        Some([p.size_usd, p.size_tokens, p.coll_tokens, p.pending_impact])
    }

    fn kind_of(&self, m: usize, asset: usize) -> Option<usize> {
        let mk = &self.mk[m];
        if asset == mk.tokens[0] {
            Some(0)
        } else if asset == mk.tokens[1] {
            Some(1)
        } else {
            None
        }
    }

    fn key_of(&self, account: u32, m: usize, side: Side, kind: usize) -> usize {
        ((account as usize * self.mk.len() + m) * 2 + sx(side)) * 2 + kind
    }

    fn lookup(&self, account: u32, m: usize, side: Side, kind: usize) -> Option<u32> {
        let s = self.index[self.key_of(account, m, side, kind)];
        (s != NO_SLOT).then_some(s)
    }

    fn resolve(&self, o: &Order) -> Result<(usize, usize), Reject> {
        if o.account >= self.max_accounts || o.market >= self.n_assets {
            return Err(Reject::Invalid);
        }
        let m = self.market_of[o.market];
        if m == usize::MAX {
            return Err(Reject::Invalid);
        }
        let c = if o.collateral == AUTO_COLLATERAL {
            self.mk[m].tokens[sx(o.side)]
        } else {
            o.collateral
        };
        let kind = self.kind_of(m, c).ok_or(Reject::Invalid)?;
        Ok((m, self.mk[m].slot(kind)))
    }

    fn pending(&self, pos: &Position) -> Pending {
        let m = &self.mk[pos.market as usize];
        let s = sx(pos.side);
        let k = pos.kind as usize;
        let mut claims = [0.0; 2];
        for (j, c) in claims.iter_mut().enumerate().take(m.kinds()) {
            *c = pos.size_usd * (m.fund_claim[s][j] - pos.fund_claim_snap[j]).max(0.0);
        }
        Pending {
            borrow_usd: pos.size_usd * (m.cum_borrow[s] - pos.borrow_snap).max(0.0),
            funding_tokens: pos.size_usd * (m.fund_paid[s][k] - pos.fund_paid_snap).max(0.0),
            claims,
        }
    }

    /// Position fee (net of discounts) for a trade of `size_usd` whose impact is `impact_usd`, USD.
    fn position_fee_usd(&self, m: usize, size_usd: f64, impact_usd: f64) -> formulas::FeeSplit {
        let mp = &self.mk[m].p;
        let factor = if impact_usd > 0.0 {
            mp.position_fee_positive
        } else {
            mp.position_fee_negative
        };
        split_position_fee(size_usd * factor, self.p.fee_receivers.position, &self.p.referral)
    }

    /// Remaining collateral value as the liquidation check sees it (MECHANISMS.md
    /// 1.10), USD: collateral after funding + capped PnL + impact (if counted) −
    /// close fee − borrowing fee.
    fn remaining_usd(&self, pos: &Position, prices: &[f64]) -> f64 {
        let m = pos.market as usize;
        let mk = &self.mk[m];
        let price = prices[mk.p.index];
        let pc = prices[mk.tokens[pos.kind as usize]];
        let pend = self.pending(pos);
        let pnl = side_pnl_usd(pos.side, pos.size_usd, pos.size_tokens, price);
        let pnl = position_pnl_after_cap(
            pnl,
            mk.side_pnl(pos.side, prices),
            mk.side_pool_usd(pos.side, prices),
            mk.p.pnl_caps.traders,
        );
        let close = position_impact_usd(
            mk.oi_usd[0],
            mk.oi_usd[1],
            pos.side,
            -pos.size_usd,
            &mk.p.position_impact,
        )
        .min(mk.p.max_positive_impact * pos.size_usd);
        let total_impact = close + pos.pending_impact * price;
        let impact_term = if total_impact >= 0.0 {
            0.0
        } else {
            total_impact.max(-pos.size_usd * mk.p.max_impact_for_liquidations)
        };
        let fee = self.position_fee_usd(m, pos.size_usd, total_impact).paid();
        (pos.coll_tokens - pend.funding_tokens) * pc + pnl + impact_term - fee - pend.borrow_usd
    }

    fn liquidation_threshold(&self, pos: &Position) -> f64 {
        let mp = &self.mk[pos.market as usize].p;
        (pos.size_usd * mp.min_collateral_factor_for_liquidation).max(mp.min_collateral_usd)
    }

    fn is_liquidatable(&self, pos: &Position, prices: &[f64]) -> bool {
        let r = self.remaining_usd(pos, prices);
        !gt0(r) || r < self.liquidation_threshold(pos)
    }

    /// The threshold an increase or collateral withdrawal must keep: size ·
    /// max(min collateral factor, side OI · multiplier), at least the minimum USD.
    fn open_threshold(&self, m: usize, size_usd: f64, oi_after: f64) -> f64 {
        let mp = &self.mk[m].p;
        (size_usd * mp.min_collateral_factor.max(oi_after * mp.min_collateral_oi_multiplier)).max(mp.min_collateral_usd)
    }

    /// Bumps the position's generation and pushes its liquidation band, exit
    /// triggers and (if changed) deadline.
    fn arm(&mut self, slot: u32, t_s: u64, prices: &[f64]) {
        let generation = self.positions.bump(slot);
        let pos = &self.positions[slot as usize];
        let m = pos.market as usize;
        let mk = &self.mk[m];
        let (index, coll_asset) = (mk.p.index, mk.tokens[pos.kind as usize]);
        let side = pos.side;
        let price = prices[index];
        let pc = prices[coll_asset];
        let pend = self.pending(pos);
        let theta = self.liquidation_threshold(pos);
        let fee_bound = pos.size_usd * mk.p.position_fee_positive.max(mk.p.position_fee_negative);
        let k = fee_bound + pend.borrow_usd + pos.size_usd * mk.p.max_impact_for_liquidations;
        let c = (pos.coll_tokens - pend.funding_tokens) * pc;
        let t = pos.size_tokens * price;
        let s = pos.size_usd;
        let pnl_lb = (match side {
            Side::Long => t - s,
            Side::Short => s - t,
        })
        .min(0.0);
        let slack = c + pnl_lb - k - theta;
        let rate = self.rate_bound[m][sx(side)] + mk.p.funding.max_per_s.max(0.0);
        if slack > 0.0 {
            let h = 0.5 * slack;
            // Largest relative move δ keeping the lower bound above θ + h.
            let root = |num: f64, den: f64| if den > 0.0 { num / den } else { f64::INFINITY };
            let piece_b = root(c - k - theta - h, c);
            let piece_a = match side {
                Side::Long => root(c + t - s - k - theta - h, c + t),
                Side::Short => root(c + s - t - k - theta - h, c + t),
            };
            let delta = piece_a.min(piece_b).clamp(0.0, 0.999);
            let ix_key = match side {
                Side::Long => price * (1.0 - delta),
                Side::Short => price * (1.0 + delta),
            };
            let entry = Entry {
                key: ix_key,
                slot,
                generation,
            };
            match side {
                Side::Long => {
                    self.liq[index][0].push(entry);
                    self.watch_lo[index] = self.watch_lo[index].max(ix_key);
                }
                Side::Short => {
                    self.liq[index][1].push(entry);
                    self.watch_hi[index] = self.watch_hi[index].min(ix_key);
                }
            }
            if c > 0.0 && !(coll_asset == index && side == Side::Long) {
                let key = pc * (1.0 - delta);
                self.liq[coll_asset][0].push(Entry { key, slot, generation });
                self.watch_lo[coll_asset] = self.watch_lo[coll_asset].max(key);
            }
            if rate > 0.0 {
                let dt = h / (s * rate);
                if dt < 1e15 {
                    let due = t_s.saturating_add((dt.floor() as u64).max(1));
                    self.rechecks.push(Reverse((due, slot, generation)));
                }
            }
        } else {
            // No band: check exactly at the next liquidation pass (this step's, if still to come).
            self.rechecks.push(Reverse((t_s, slot, generation)));
        }
        // Exit triggers on the index price from the plan.
        let pos = &self.positions[slot as usize];
        let entry = if pos.size_tokens > 0.0 {
            pos.size_usd / pos.size_tokens
        } else {
            price
        };
        let (below, above) = exit_prices(side, entry, pos.plan_collateral_usd / pos.size_usd, &pos.exit);
        let [below_heap, above_heap] = &mut self.exits[index];
        push_exit_triggers(below_heap, above_heap, (below, above), slot, generation);
        if below > 0.0 {
            self.watch_lo[index] = self.watch_lo[index].max(below);
        }
        // A missing take profit is +infinity: no change.
        self.watch_hi[index] = self.watch_hi[index].min(above);
        let deadline = pos.exit.deadline_s;
        if deadline != pos.deadline_armed_s {
            let tag = self.tags.issue(&mut self.deadlines, deadline, slot);
            let pos = &mut self.positions[slot as usize];
            pos.deadline_armed_s = deadline;
            pos.deadline_tag = tag;
        }
        let entries = trigger_entries(&self.liq) + trigger_entries(&self.exits);
        if entries > 6 * self.positions.live() + 4096 || self.rechecks.len() > 4 * self.positions.live() + 4096 {
            self.compact_triggers();
        }
    }

    fn is_current(&self, slot: u32, generation: u32) -> bool {
        self.positions.is_current(slot, generation)
    }

    fn refresh_watch(&mut self, a: usize) {
        let top = |h: &TriggerHeap, none: f64| h.top_key().unwrap_or(none);
        self.watch_lo[a] = top(&self.liq[a][0], f64::NEG_INFINITY).max(top(&self.exits[a][0], f64::NEG_INFINITY));
        self.watch_hi[a] = top(&self.liq[a][1], f64::INFINITY).min(top(&self.exits[a][1], f64::INFINITY));
    }

    fn compact_triggers(&mut self) {
        let positions = &self.positions;
        let live = |slot: u32, generation: u32| {
            let p = &positions[slot as usize];
            p.live && p.generation == generation
        };
        for h in self.liq.iter_mut().chain(self.exits.iter_mut()).flatten() {
            h.retain(live);
        }
        self.rechecks
            .retain(|Reverse((_, slot, generation))| live(*slot, *generation));
        for a in 0..self.n_assets {
            self.refresh_watch(a);
        }
    }

    /// Re-arms every position of a market side (after its rate bound was raised).
    fn rearm_side(&mut self, m: usize, side: Side, t_s: u64, prices: &[f64]) {
        for slot in 0..self.positions.len() {
            let p = &self.positions[slot];
            if p.live && p.market as usize == m && p.side == side {
                self.arm(slot as u32, t_s, prices);
            }
        }
    }

    fn alloc(&mut self, pos: Position) -> u32 {
        let key = self.key_of(pos.account, pos.market as usize, pos.side, pos.kind as usize);
        self.mk[pos.market as usize].count_position(pos.side, pos.kind as usize, 1);
        let slot = self.positions.alloc(pos);
        self.index[key] = slot;
        slot
    }

    fn remove(&mut self, slot: u32) {
        let p = &self.positions[slot as usize];
        let key = self.key_of(p.account, p.market as usize, p.side, p.kind as usize);
        self.index[key] = NO_SLOT;
        self.mk[p.market as usize].count_position(p.side, p.kind as usize, -1);
        self.positions.remove(slot);
    }

    /// Moves a market's pool amount of kind `k` by `delta` tokens against `other_acc`.
    fn pool_flow(&mut self, m: usize, k: usize, other_acc: Account, delta_into_pool: f64) {
        let mk = &mut self.mk[m];
        let slot = mk.slot(k);
        mk.amount[slot] += delta_into_pool;
        let tok = mk.tokens[slot];
        self.ledger.transfer(tok, other_acc, Account::Pool, delta_into_pool);
    }

    /// Pays a position's funding claims out of the claimable pot.
    fn pay_claims(&mut self, m: usize, claims: [f64; 2], prices: &[f64]) -> f64 {
        let mut usd = 0.0;
        for (k, &c) in claims.iter().enumerate().take(self.mk[m].kinds()) {
            if c > 0.0 {
                let tok = self.mk[m].tokens[k];
                self.ledger.transfer(tok, Account::Claimable, Account::Traders, c);
                usd += c * prices[tok];
            }
        }
        self.counters.trader_payouts_usd += usd;
        usd
    }

    fn update_oi(&mut self) {
        self.total_oi_usd = self.mk.iter().map(|m| m.oi_usd[0] + m.oi_usd[1]).sum();
        if self.total_oi_usd > self.counters.peak_oi_usd {
            self.counters.peak_oi_usd = self.total_oi_usd;
        }
    }

    fn track_utilization(&mut self, m: usize, prices: &[f64]) {
        let mk = &self.mk[m];
        for side in [Side::Long, Side::Short] {
            let u = mk.usage(side, prices);
            if u.is_finite() && u > self.counters.peak_utilization {
                self.counters.peak_utilization = u;
            }
        }
    }

    /// Resets the position's fee snapshots to the market's current indices.
    fn snap(&mut self, slot: u32, old_size: f64, old_borrow_snap: f64) {
        let pos = &self.positions[slot as usize];
        let (m, s, k, size) = (pos.market as usize, sx(pos.side), pos.kind as usize, pos.size_usd);
        let mk = &mut self.mk[m];
        mk.borrow_snap_sum[s] += size * mk.cum_borrow[s] - old_size * old_borrow_snap;
        let (cum, paid, claim) = (mk.cum_borrow[s], mk.fund_paid[s][k], mk.fund_claim[s]);
        let pos = &mut self.positions[slot as usize];
        pos.borrow_snap = cum;
        pos.fund_paid_snap = paid;
        pos.fund_claim_snap = claim;
    }

    /// Splits `tokens` of fees collected in kind `k`: receiver share to the
    /// protocol, affiliate share out, the rest into the pool.
    fn book_fee(&mut self, m: usize, k: usize, tokens: f64, receiver: f64, affiliate: f64, price: f64) {
        if !gt0(tokens) {
            return;
        }
        let tok = self.mk[m].tokens[k];
        let to_protocol = tokens * receiver;
        let to_affiliate = tokens * affiliate;
        self.ledger
            .transfer(tok, Account::Escrow, Account::Protocol, to_protocol);
        self.ledger
            .transfer(tok, Account::Escrow, Account::Traders, to_affiliate);
        self.pool_flow(m, k, Account::Escrow, tokens - to_protocol - to_affiliate);
        self.counters.fees_to_protocol_usd += to_protocol * price;
        self.counters.fees_to_pool_usd += (tokens - to_protocol - to_affiliate) * price;
    }

    fn increase(&mut self, o: &Order, size_usd: f64, deposit_usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        let (m, kind) = self.resolve(o)?;
        if !(positive(size_usd) || size_usd == 0.0) || !(positive(deposit_usd) || deposit_usd == 0.0) {
            return Err(Reject::Invalid);
        }
        let t = cx.t_s;
        let prices = cx.prices;
        let side = o.side;
        let s = sx(side);
        let mk = &self.mk[m];
        let price = prices[mk.p.index];
        let pc = prices[mk.tokens[kind]];
        if !positive(price) || !positive(pc) {
            return Err(Reject::Invalid);
        }
        let slot = self.lookup(o.account, m, side, kind);
        if slot.is_none() && (deposit_usd <= 0.0 || size_usd <= 0.0) {
            return Err(if size_usd > 0.0 {
                Reject::Collateral
            } else {
                Reject::NoPosition
            });
        }
        if let Some(sl) = slot
            && self.is_liquidatable(&self.positions[sl as usize], prices)
        {
            return Err(Reject::Liquidatable);
        }
        // Price impact of the increase.
        let mut impact = if size_usd > 0.0 {
            position_impact_usd(mk.oi_usd[0], mk.oi_usd[1], side, size_usd, &mk.p.position_impact)
                .min(mk.p.max_positive_impact * size_usd)
        } else {
            0.0
        };
        if mk.p.impact_flow == ImpactFlow::OpenTime && impact > 0.0 {
            impact = impact.min(mk.impact_pool * price);
        }
        let base_tokens = size_usd / price;
        let impact_tokens = impact / price;
        let tokens_delta = match (mk.p.impact_flow, side) {
            (ImpactFlow::Pending, _) => base_tokens,
            (ImpactFlow::OpenTime, Side::Long) => base_tokens + impact_tokens,
            (ImpactFlow::OpenTime, Side::Short) => base_tokens - impact_tokens,
        };
        if size_usd > 0.0 && !gt0(tokens_delta) {
            return Err(Reject::Invalid);
        }
        let fee = if size_usd > 0.0 {
            self.position_fee_usd(m, size_usd, impact)
        } else {
            split_position_fee(0.0, 0.0, &self.p.referral)
        };
        let (old_size, old_tokens, old_coll, old_snap, old_pending) = match slot {
            Some(sl) => {
                let p = &self.positions[sl as usize];
                (
                    p.size_usd,
                    p.size_tokens,
                    p.coll_tokens,
                    p.borrow_snap,
                    p.pending_impact,
                )
            }
            None => (0.0, 0.0, 0.0, 0.0, 0.0),
        };
        let pend = match slot {
            Some(sl) => self.pending(&self.positions[sl as usize]),
            None => Pending::default(),
        };
        let deposit_tokens = deposit_usd / pc;
        let fee_tokens = fee.paid() / pc;
        let borrow_tokens = pend.borrow_usd / pc;
        let new_coll = old_coll + deposit_tokens - pend.funding_tokens - borrow_tokens - fee_tokens;
        if !gt0(new_coll) {
            return Err(Reject::Collateral);
        }
        let new_size = old_size + size_usd;
        let new_tokens = old_tokens + tokens_delta;
        let new_pending = match mk.p.impact_flow {
            ImpactFlow::Pending => old_pending + impact_tokens,
            ImpactFlow::OpenTime => old_pending,
        };
        // Open interest and reserve limits.
        let oi_after = mk.oi_usd[s] + size_usd;
        let max_oi = match side {
            Side::Long => mk.p.max_oi_long_usd,
            Side::Short => mk.p.max_oi_short_usd,
        };
        if size_usd > 0.0 && oi_after > max_oi {
            return Err(match side {
                Side::Long => Reject::MaxGlobalLong,
                Side::Short => Reject::MaxGlobalShort,
            });
        }
        if size_usd > 0.0 {
            let reserved_after = match side {
                Side::Long => (mk.oi_tokens[0] + tokens_delta) * price,
                Side::Short => mk.oi_usd[1] + size_usd,
            };
            let pool = mk.side_pool_usd(side, prices);
            if reserved_after > mk.p.reserve_factor * pool || reserved_after > mk.p.oi_reserve_factor * pool {
                return Err(Reject::Reserve);
            }
        }
        // The position after the increase must be above the opening threshold.
        let trial = Position {
            live: true,
            generation: 0,
            account: o.account,
            market: m as u16,
            side,
            kind: kind as u8,
            size_usd: new_size,
            size_tokens: new_tokens,
            coll_tokens: new_coll,
            borrow_snap: mk.cum_borrow[s],
            fund_paid_snap: mk.fund_paid[s][kind],
            fund_claim_snap: mk.fund_claim[s],
            pending_impact: new_pending,
            plan_collateral_usd: new_coll * pc,
            exit: o.exit,
            deadline_armed_s: u64::MAX,
            deadline_tag: DeadlineTags::NONE,
        };
        let remaining = self.remaining_usd(&trial, prices);
        if !gt0(remaining) || remaining < self.open_threshold(m, new_size, oi_after) {
            return Err(Reject::Leverage);
        }

        // Execute.
        let coll_asset = self.mk[m].tokens[kind];
        self.ledger
            .transfer(coll_asset, Account::Traders, Account::Escrow, deposit_tokens);
        self.book_fee(m, kind, borrow_tokens, self.p.fee_receivers.borrowing, 0.0, pc);
        let fee_receiver_share = if fee.paid() > 0.0 {
            fee.fee_receiver / fee.paid()
        } else {
            0.0
        };
        let affiliate_share = if fee.paid() > 0.0 {
            fee.affiliate_reward / fee.paid()
        } else {
            0.0
        };
        self.book_fee(m, kind, fee_tokens, fee_receiver_share, affiliate_share, pc);
        let claims_usd = self.pay_claims(m, pend.claims, prices);
        let mk = &mut self.mk[m];
        match mk.p.impact_flow {
            ImpactFlow::Pending => mk.pending_impact += impact_tokens,
            ImpactFlow::OpenTime => mk.impact_pool = (mk.impact_pool - impact_tokens).max(0.0),
        }
        mk.oi_usd[s] += size_usd;
        mk.oi_tokens[s] += tokens_delta;
        mk.oi_coll[s][kind] += size_usd;
        let slot = match slot {
            Some(sl) => {
                let p = &mut self.positions[sl as usize];
                p.size_usd = new_size;
                p.size_tokens = new_tokens;
                p.coll_tokens = new_coll;
                p.pending_impact = new_pending;
                if size_usd > 0.0 {
                    p.exit = o.exit;
                    p.plan_collateral_usd = new_coll * pc;
                }
                sl
            }
            None => self.alloc(Position {
                deadline_armed_s: u64::MAX,
                deadline_tag: DeadlineTags::NONE,
                ..trial
            }),
        };
        self.snap(slot, old_size, old_snap);
        self.arm(slot, t, prices);
        // Counters.
        let c = &mut self.counters;
        if size_usd > 0.0 {
            c.volume_usd += size_usd;
            c.trades += 1;
            c.fees_open_close_usd += fee.paid();
            if impact < 0.0 && self.mk[m].p.impact_flow == ImpactFlow::OpenTime {
                c.fees_impact_usd += -impact;
            }
        }
        c.fees_borrow_usd += pend.borrow_usd;
        c.trader_deposits_usd += deposit_usd;
        self.update_oi();
        self.track_utilization(m, prices);
        let index = self.mk[m].p.index;
        cx.trace.event(|| Event {
            size_usd: if size_usd > 0.0 { size_usd } else { deposit_usd },
            price,
            collateral_usd: new_coll * pc,
            base_fee_usd: fee.paid(),
            impact_usd: impact,
            borrow_fee_usd: pend.borrow_usd,
            funding_fee_usd: pend.funding_tokens * pc,
            payout_usd: claims_usd - deposit_usd,
            note: match self.mk[m].p.impact_flow {
                ImpactFlow::Pending => "impact_pending",
                ImpactFlow::OpenTime => "",
            },
            ..Event::new(
                t,
                if size_usd == 0.0 {
                    EventKind::AddCollateral
                } else if old_size > 0.0 {
                    EventKind::Increase
                } else {
                    EventKind::Open
                },
                o.account,
                index,
                side,
            )
        });
        Ok(())
    }

    /// Works out a decrease of `size_delta` without changing anything.
    fn plan_decrease(&self, slot: u32, size_delta: f64, reason: Reason, prices: &[f64]) -> DecreasePlan {
        let pos = &self.positions[slot as usize];
        let m = pos.market as usize;
        let mk = &self.mk[m];
        let side = pos.side;
        let kind = pos.kind as usize;
        let pnl_kind = mk.pnl_kind(side);
        let price = prices[mk.p.index];
        let pc = prices[mk.tokens[kind]];
        let ppnl = prices[mk.tokens[pnl_kind]];
        let full = size_delta >= pos.size_usd * (1.0 - 1e-12);
        let delta = if full { pos.size_usd } else { size_delta };
        let frac = delta / pos.size_usd;
        let mut plan = DecreasePlan {
            size_delta: delta,
            full,
            tokens_delta: if full { pos.size_tokens } else { pos.size_tokens * frac },
            pending_delta: if full {
                pos.pending_impact
            } else {
                pos.pending_impact * frac
            },
            ..DecreasePlan::default()
        };
        let pnl_total = side_pnl_usd(side, pos.size_usd, pos.size_tokens, price);
        plan.base_pnl_usd = position_pnl_after_cap(
            pnl_total * frac,
            mk.side_pnl(side, prices),
            mk.side_pool_usd(side, prices),
            mk.p.pnl_caps.traders,
        );
        let close = position_impact_usd(mk.oi_usd[0], mk.oi_usd[1], side, -delta, &mk.p.position_impact);
        let pending_usd = plan.pending_delta * price;
        let impact = cap_decrease_impact(
            close,
            pending_usd,
            delta,
            mk.p.max_positive_impact,
            mk.p.max_negative_impact,
            mk.impact_pool * price,
        );
        plan.applied_impact_usd = impact.applied_usd;
        let pend = self.pending(pos);
        let mut purse = Purse {
            out: 0.0,
            coll: pos.coll_tokens - pend.funding_tokens,
            sec: 0.0,
            pc,
            ppnl,
        };
        // Funding the collateral cannot cover is fronted by the pool and paid back from profit.
        let mut early_stop = false;
        if purse.coll < 0.0 {
            plan.funding_shortfall = -purse.coll;
            purse.coll = 0.0;
        }
        // Profit and positive impact come out of the pool in the PnL token.
        let mut gain_tokens = 0.0;
        if plan.base_pnl_usd > 0.0 {
            gain_tokens += plan.base_pnl_usd / ppnl;
        }
        if impact.applied_usd > 0.0 {
            gain_tokens += impact.applied_usd / ppnl;
            plan.impact_pool_out = (impact.applied_usd / price).min(mk.impact_pool);
        }
        plan.pool_out = gain_tokens;
        if pnl_kind == kind {
            purse.out += gain_tokens;
        } else {
            purse.sec += gain_tokens;
        }
        let kinds = [kind, pnl_kind];
        if plan.funding_shortfall > 0.0 {
            early_stop = plan.pay_to_pool(&mut purse, plan.funding_shortfall * pc, kinds).2;
        }
        // Negative PnL into the pool (all of it unpaid after an early stop).
        if plan.base_pnl_usd < 0.0 {
            if early_stop {
                plan.unpaid_usd += -plan.base_pnl_usd;
            } else {
                early_stop = plan.pay_to_pool(&mut purse, -plan.base_pnl_usd, kinds).2;
            }
        }
        plan.bad_debt_usd = plan.unpaid_usd;
        // Fees: position, borrowing, liquidation.
        let fee = self.position_fee_usd(m, delta, impact.applied_usd);
        let liq_fee = if reason == Reason::Liquidation {
            delta * mk.p.liquidation_fee
        } else {
            0.0
        };
        let r = &self.p.fee_receivers;
        let total_fee = fee.paid() + pend.borrow_usd + liq_fee;
        if !early_stop && total_fee > 0.0 {
            let (a, b, rem) = purse.pay(total_fee);
            let paid_frac = ((total_fee - rem) / total_fee).clamp(0.0, 1.0);
            let receiver_usd = fee.fee_receiver + pend.borrow_usd * r.borrowing + liq_fee * r.liquidation;
            let affiliate_usd = fee.affiliate_reward;
            let (w_recv, w_aff) = (receiver_usd / total_fee, affiliate_usd / total_fee);
            for (k, tokens) in [(kind, a), (pnl_kind, b)] {
                plan.protocol_in[k] += tokens * w_recv;
                plan.affiliate_out[k] += tokens * w_aff;
                plan.pool_in[k] += tokens * (1.0 - w_recv - w_aff);
            }
            plan.position_fee_usd = fee.paid() * paid_frac;
            plan.borrow_usd = pend.borrow_usd * paid_frac;
            plan.liquidation_fee_usd = liq_fee * paid_frac;
            plan.fees_protocol_usd = receiver_usd * paid_frac;
            plan.fees_pool_usd = (total_fee - receiver_usd - affiliate_usd) * paid_frac;
            plan.bad_debt_usd += pend.borrow_usd * (1.0 - paid_frac) * (1.0 - r.borrowing);
            plan.unpaid_usd += rem;
            early_stop = rem > 0.0;
        } else if early_stop {
            plan.bad_debt_usd += pend.borrow_usd * (1.0 - r.borrowing);
            plan.unpaid_usd += total_fee;
        }
        // Negative impact into the pool; the impact pool books its value.
        if !early_stop && impact.applied_usd < 0.0 {
            let (a, b, stop) = plan.pay_to_pool(&mut purse, -impact.applied_usd, kinds);
            plan.impact_pool_in = (a * pc + b * ppnl) / price;
            plan.impact_paid_usd = a * pc + b * ppnl;
            early_stop = stop;
        }
        // Impact beyond the cap becomes claimable collateral.
        if !early_stop && impact.claimable_usd > 0.0 {
            let (a, b, rem) = purse.pay(impact.claimable_usd);
            plan.claimable[kind] += a;
            plan.claimable[pnl_kind] += b;
            plan.claimable_usd = a * pc + b * ppnl;
            plan.unpaid_usd += rem;
        }
        plan.payout[kind] += purse.out;
        plan.payout[pnl_kind] += purse.sec;
        if full {
            plan.payout[kind] += purse.coll;
            plan.remaining_coll = 0.0;
        } else {
            plan.remaining_coll = purse.coll;
        }
        plan
    }

    /// Decreases a position. Liquidations and ADL of the full size may be
    /// insolvent (the shortfall is bad debt); any other decrease that cannot
    /// pay its costs is refused. A partial close that would leave the
    /// position below its opening threshold closes it fully.
    fn decrease(
        &mut self,
        slot: u32,
        size_usd: Option<f64>,
        reason: Reason,
        note: &'static str,
        cx: &mut Cx,
    ) -> Result<(), Reject> {
        let prices = cx.prices;
        let t = cx.t_s;
        let pos = &self.positions[slot as usize];
        let want = size_usd.unwrap_or(pos.size_usd);
        if !positive(want) {
            return Err(Reject::Invalid);
        }
        let m = pos.market as usize;
        if reason == Reason::Close && self.is_liquidatable(pos, prices) {
            return Err(Reject::Liquidatable);
        }
        let mut plan = self.plan_decrease(slot, want.min(pos.size_usd), reason, prices);
        if !plan.full {
            let pos = &self.positions[slot as usize];
            let mut trial = pos.clone();
            trial.size_usd -= plan.size_delta;
            trial.size_tokens -= plan.tokens_delta;
            trial.pending_impact -= plan.pending_delta;
            trial.coll_tokens = plan.remaining_coll;
            trial.borrow_snap = self.mk[m].cum_borrow[sx(pos.side)];
            trial.fund_paid_snap = self.mk[m].fund_paid[sx(pos.side)][pos.kind as usize];
            let oi_after = self.mk[m].oi_usd[sx(pos.side)] - plan.size_delta;
            let r = self.remaining_usd(&trial, prices);
            if !gt0(r) || r < self.open_threshold(m, trial.size_usd, oi_after) {
                plan = self.plan_decrease(slot, pos.size_usd, reason, prices);
            }
        }
        let insolvent_ok = plan.full && reason != Reason::Close;
        if plan.unpaid_usd > 1e-9 * plan.size_delta.max(1.0) && !insolvent_ok {
            return Err(Reject::Collateral);
        }
        self.apply_decrease(slot, &plan, reason, note, t, prices, cx);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_decrease(
        &mut self,
        slot: u32,
        plan: &DecreasePlan,
        reason: Reason,
        note: &'static str,
        t: u64,
        prices: &[f64],
        cx: &mut Cx,
    ) {
        let pos = self.positions[slot as usize].clone();
        let m = pos.market as usize;
        let side = pos.side;
        let s = sx(side);
        let kind = pos.kind as usize;
        let pend = self.pending(&pos);
        let (price, tokens) = (prices[self.mk[m].p.index], self.mk[m].tokens);
        let pnl_kind = self.mk[m].pnl_kind(side);
        // Funding fronted by the pool.
        if plan.funding_shortfall > 0.0 {
            self.pool_flow(m, kind, Account::Escrow, -plan.funding_shortfall);
        }
        // Pool payouts of profit and positive impact, held in escrow until paid.
        if plan.pool_out > 0.0 {
            self.pool_flow(m, pnl_kind, Account::Escrow, -plan.pool_out);
            let mk = &mut self.mk[m];
            mk.impact_pool = (mk.impact_pool - plan.impact_pool_out).max(0.0);
        }
        for (k, &tok) in tokens.iter().enumerate() {
            if plan.pool_in[k] > 0.0 {
                self.pool_flow(m, k, Account::Escrow, plan.pool_in[k]);
            }
            self.ledger
                .transfer(tok, Account::Escrow, Account::Protocol, plan.protocol_in[k]);
            self.ledger
                .transfer(tok, Account::Escrow, Account::Traders, plan.affiliate_out[k]);
            if plan.claimable[k] > 0.0 {
                self.ledger
                    .transfer(tok, Account::Escrow, Account::Claimable, plan.claimable[k]);
                self.claimable_waiting[tok] += plan.claimable[k];
                self.claims.push_back(Claim {
                    release_s: t.saturating_add(self.p.claimable_delay_s),
                    token: tok,
                    amount: plan.claimable[k],
                });
            }
            self.ledger
                .transfer(tok, Account::Escrow, Account::Traders, plan.payout[k]);
        }
        self.mk[m].impact_pool += plan.impact_pool_in;
        let claims_usd = self.pay_claims(m, pend.claims, prices);
        let payout_usd = plan.payout[0] * prices[tokens[0]] + plan.payout[1] * prices[tokens[1]];
        // Market aggregates.
        let mk = &mut self.mk[m];
        mk.oi_usd[s] = (mk.oi_usd[s] - plan.size_delta).max(0.0);
        mk.oi_tokens[s] = (mk.oi_tokens[s] - plan.tokens_delta).max(0.0);
        mk.oi_coll[s][kind] = (mk.oi_coll[s][kind] - plan.size_delta).max(0.0);
        mk.pending_impact -= plan.pending_delta;
        let mut bad_debt = plan.bad_debt_usd;
        if plan.full {
            mk.borrow_snap_sum[s] -= pos.size_usd * pos.borrow_snap;
            self.remove(slot);
        } else {
            let p = &mut self.positions[slot as usize];
            p.size_usd -= plan.size_delta;
            p.size_tokens -= plan.tokens_delta;
            p.pending_impact -= plan.pending_delta;
            p.coll_tokens = plan.remaining_coll;
            self.snap(slot, pos.size_usd, pos.borrow_snap);
            self.arm(slot, t, prices);
        }
        if !ge0(bad_debt) {
            bad_debt = 0.0;
        }
        let c = &mut self.counters;
        c.volume_usd += plan.size_delta;
        c.trades += 1;
        c.fees_open_close_usd += plan.position_fee_usd;
        c.fees_borrow_usd += plan.borrow_usd;
        c.fees_liquidation_usd += plan.liquidation_fee_usd;
        c.fees_impact_usd += plan.impact_paid_usd;
        c.fees_to_pool_usd += plan.fees_pool_usd;
        c.fees_to_protocol_usd += plan.fees_protocol_usd;
        c.trader_payouts_usd += payout_usd;
        c.bad_debt_usd += bad_debt;
        match reason {
            Reason::Liquidation => {
                c.liquidations += 1;
                c.liquidated_usd += plan.size_delta;
            }
            Reason::Adl => {
                c.adl_events += 1;
                c.adl_usd += plan.size_delta;
            }
            Reason::Close => {}
        }
        self.update_oi();
        let index = self.mk[m].p.index;
        let kind_ev = match reason {
            Reason::Liquidation => EventKind::Liquidation,
            Reason::Adl => EventKind::Adl,
            Reason::Close if plan.full => EventKind::Close,
            Reason::Close => EventKind::PartialClose,
        };
        let pc = prices[tokens[kind]];
        cx.trace.event(|| Event {
            size_usd: plan.size_delta,
            price,
            collateral_usd: plan.remaining_coll * pc,
            base_fee_usd: plan.position_fee_usd,
            impact_usd: plan.applied_impact_usd,
            borrow_fee_usd: plan.borrow_usd,
            funding_fee_usd: pend.funding_tokens * pc,
            liquidation_fee_usd: plan.liquidation_fee_usd,
            claimable_usd: plan.claimable_usd,
            pnl_usd: plan.base_pnl_usd,
            payout_usd: payout_usd + claims_usd,
            bad_debt_usd: bad_debt,
            note,
            ..Event::new(t, kind_ev, pos.account, index, side)
        });
    }

    fn withdraw_collateral(&mut self, slot: u32, usd: f64, cx: &mut Cx) -> Result<(), Reject> {
        let prices = cx.prices;
        let t = cx.t_s;
        let pos = self.positions[slot as usize].clone();
        let m = pos.market as usize;
        let kind = pos.kind as usize;
        let pc = prices[self.mk[m].tokens[kind]];
        if !positive(pc) {
            return Err(Reject::Invalid);
        }
        let pend = self.pending(&pos);
        let borrow_tokens = pend.borrow_usd / pc;
        let out = usd / pc;
        let new_coll = pos.coll_tokens - pend.funding_tokens - borrow_tokens - out;
        if !gt0(new_coll) {
            return Err(Reject::Collateral);
        }
        let mut trial = pos.clone();
        trial.coll_tokens = new_coll;
        trial.borrow_snap = self.mk[m].cum_borrow[sx(pos.side)];
        trial.fund_paid_snap = self.mk[m].fund_paid[sx(pos.side)][kind];
        let oi = self.mk[m].oi_usd[sx(pos.side)];
        let r = self.remaining_usd(&trial, prices);
        if !gt0(r) || r < self.open_threshold(m, pos.size_usd, oi) {
            return Err(Reject::Leverage);
        }
        let tok = self.mk[m].tokens[kind];
        self.book_fee(m, kind, borrow_tokens, self.p.fee_receivers.borrowing, 0.0, pc);
        self.ledger.transfer(tok, Account::Escrow, Account::Traders, out);
        let claims_usd = self.pay_claims(m, pend.claims, prices);
        self.positions[slot as usize].coll_tokens = new_coll;
        self.snap(slot, pos.size_usd, pos.borrow_snap);
        self.arm(slot, t, prices);
        self.counters.fees_borrow_usd += pend.borrow_usd;
        self.counters.trader_payouts_usd += usd;
        let price = prices[self.mk[m].p.index];
        let index = self.mk[m].p.index;
        cx.trace.event(|| Event {
            size_usd: usd,
            price,
            collateral_usd: new_coll * pc,
            borrow_fee_usd: pend.borrow_usd,
            funding_fee_usd: pend.funding_tokens * pc,
            payout_usd: usd + claims_usd,
            ..Event::new(t, EventKind::WithdrawCollateral, pos.account, index, pos.side)
        });
        Ok(())
    }

    /// Pays out claimable collateral whose delay has passed.
    fn release_claims(&mut self, t_s: u64, prices: &[f64]) {
        while let Some(c) = self.claims.front().copied() {
            if c.release_s > t_s {
                break;
            }
            self.claims.pop_front();
            self.ledger
                .transfer(c.token, Account::Claimable, Account::Traders, c.amount);
            self.claimable_waiting[c.token] -= c.amount;
            self.counters.trader_payouts_usd += c.amount * prices[c.token];
        }
    }

    fn fire_exits(&mut self, a: usize, d: usize, price: f64, cx: &mut Cx) {
        let mut fired = std::mem::take(&mut self.scratch);
        fired.clear();
        while let Some(e) = self.exits[a][d].pop_crossed(price) {
            fired.push(e);
        }
        for &e in &fired {
            if !self.is_current(e.slot, e.generation) {
                continue;
            }
            let side = self.positions[e.slot as usize].side;
            let note = match (side, d) {
                (Side::Long, 0) | (Side::Short, 1) => "stop_loss",
                _ => "take_profit",
            };
            if self.decrease(e.slot, None, Reason::Close, note, cx).is_err() && self.is_current(e.slot, e.generation) {
                self.exits[a][d].push(e);
            }
        }
        self.scratch = fired;
    }

    /// Equity of an open position, USD: collateral after funding owed, capped
    /// PnL, pending impact and funding receivable, less borrowing; no close
    /// fee or close impact.
    fn equity_usd(&self, pos: &Position, prices: &[f64]) -> f64 {
        let mk = &self.mk[pos.market as usize];
        let price = prices[mk.p.index];
        let pc = prices[mk.tokens[pos.kind as usize]];
        let pend = self.pending(pos);
        let pnl = position_pnl_after_cap(
            side_pnl_usd(pos.side, pos.size_usd, pos.size_tokens, price),
            mk.side_pnl(pos.side, prices),
            mk.side_pool_usd(pos.side, prices),
            mk.p.pnl_caps.traders,
        );
        let claims: f64 = (0..mk.kinds()).map(|k| pend.claims[k] * prices[mk.tokens[k]]).sum();
        (pos.coll_tokens - pend.funding_tokens) * pc + pnl - pend.borrow_usd + claims + pos.pending_impact * price
    }

    /// Runs the ADL keeper on one market side until its PnL-to-pool factor is
    /// at or below the after-ADL level or no profitable position is left.
    /// Returns whether it closed anything.
    fn deleverage_side(&mut self, m: usize, side: Side, cx: &mut Cx) -> bool {
        let prices = cx.prices;
        let caps = self.mk[m].p.pnl_caps;
        // Cheap test first: only a profitable side can need ADL.
        if self.mk[m].side_pnl(side, prices) <= 0.0 || self.mk[m].pnl_to_pool_factor(side, prices) <= caps.adl {
            return false;
        }
        let events = self.counters.adl_events;
        let price = prices[self.mk[m].p.index];
        let mut order = std::mem::take(&mut self.cand);
        order.clear();
        for (slot, p) in self.positions.iter().enumerate() {
            if !(p.live && p.market as usize == m && p.side == side) {
                continue;
            }
            let pnl = side_pnl_usd(side, p.size_usd, p.size_tokens, price);
            if pnl <= 0.0 {
                continue;
            }
            let pc = prices[self.mk[m].tokens[p.kind as usize]];
            let score = match self.p.adl_ranking {
                AdlRanking::MostProfitable => pnl,
                AdlRanking::HighestRoe => pnl / (p.coll_tokens * pc).max(1e-12),
                AdlRanking::Largest => p.size_usd,
            };
            order.push((score, slot as u32, p.generation));
        }
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let target = caps.after_adl;
        for &(_, slot, _) in &order {
            // Two partial closes sized to land on the target (fees, impact and
            // the traders' cap make the first one inexact), then the rest.
            for attempt in 0..3 {
                let mk = &self.mk[m];
                let factor = mk.pnl_to_pool_factor(side, prices);
                if factor <= target || !self.positions[slot as usize].live {
                    break;
                }
                let p = &self.positions[slot as usize];
                let pnl = side_pnl_usd(side, p.size_usd, p.size_tokens, price);
                if pnl <= 0.0 {
                    break;
                }
                let big_p = mk.side_pnl(side, prices);
                let v = mk.side_pool_usd(side, prices);
                let capped = mk.side_pnl_capped(side, prices);
                let scale = if big_p > 0.0 { (capped / big_p).min(1.0) } else { 1.0 };
                let denom = pnl * (1.0 - target * scale);
                let need = if attempt < 2 && gt0(v) && v.is_finite() && gt0(denom) {
                    (big_p - target * v) / denom
                } else {
                    1.0
                };
                let frac = (need * 1.001).clamp(0.0, 1.0);
                let size = p.size_usd;
                let delta = if frac >= 1.0 || !gt0(frac) {
                    None
                } else {
                    Some(size * frac)
                };
                // A partial ADL that cannot pay its costs closes the position fully.
                if self.decrease(slot, delta, Reason::Adl, "adl", cx).is_err()
                    && (delta.is_none() || self.decrease(slot, None, Reason::Adl, "adl", cx).is_err())
                {
                    break;
                }
            }
            if self.mk[m].pnl_to_pool_factor(side, prices) <= target {
                break;
            }
        }
        self.cand = order;
        self.counters.adl_events > events
    }
}

impl Venue for GmVenue {
    fn name(&self) -> &str {
        &self.p.name
    }

    fn kind(&self) -> &'static str {
        if self.p.glv.is_some() { "glv" } else { "gm" }
    }

    fn reset(&mut self, prices: &[f64], clock: Clock) {
        self.ledger.reset();
        self.counters = Counters::default();
        self.positions.clear();
        self.tags.reset();
        self.index.fill(NO_SLOT);
        self.total_oi_usd = 0.0;
        for h in self.liq.iter_mut().chain(self.exits.iter_mut()).flatten() {
            h.clear();
        }
        self.watch_lo.fill(f64::NEG_INFINITY);
        self.watch_hi.fill(f64::INFINITY);
        self.deadlines.configure(clock.step_s, clock.steps);
        self.rechecks.clear();
        self.step_s = clock.step_s.max(1);
        self.claims.clear();
        self.claimable_waiting.fill(0.0);
        self.hold.fill(0.0);
        self.last_keeper_check_s = None;
        let mut total = 0.0;
        for m in 0..self.mk.len() {
            self.mk[m].reset();
            self.rate_bound[m] = [MIN_RATE_BOUND; 2];
            let mk = &self.mk[m];
            let usd = self.p.pool_usd * mk.p.weight;
            let (long_usd, short_usd) = if mk.single() {
                (usd, 0.0)
            } else {
                (usd * mk.p.long_share, usd * (1.0 - mk.p.long_share))
            };
            let tokens = mk.tokens;
            for (k, v) in [(0, long_usd), (1, short_usd)] {
                if v > 0.0 {
                    let amount = v / prices[tokens[k]];
                    self.pool_flow(m, k, Account::Lps, amount);
                    self.hold[tokens[k]] += amount;
                }
            }
            // First deposit: GM at $1.
            self.mk[m].supply = usd;
            total += usd;
        }
        self.lp_supply = total;
    }

    fn end_warm_start(&mut self, t_s: u64, prices: &[f64]) {
        let equity = self.open_equity_usd(t_s, prices);
        self.counters = Counters {
            trader_deposits_usd: equity,
            peak_oi_usd: self.total_oi_usd,
            ..Counters::default()
        };
        for m in 0..self.mk.len() {
            self.track_utilization(m, prices);
        }
    }

    fn markets(&self) -> &[usize] {
        &self.markets
    }

    fn collateral_for(&self, market: usize, side: Side, _hint: usize) -> Option<usize> {
        let m = *self.market_of.get(market)?;
        (m != usize::MAX).then(|| self.mk[m].tokens[sx(side)])
    }

    fn leverage_range(&self, market: usize) -> (f64, f64) {
        match self.market_of.get(market) {
            Some(&m) if m != usize::MAX => (1.0, 1.0 / self.mk[m].p.min_collateral_factor),
            _ => (1.0, 1.0),
        }
    }

    fn accrue(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        let prices = cx.prices;
        let skip = self.p.skip_borrowing_for_smaller_side;
        for m in 0..self.mk.len() {
            let before = self.mk[m].cum_borrow;
            let flow = self.mk[m].accrue(t, prices, skip);
            let tokens = self.mk[m].tokens;
            for (k, &amount) in flow.tokens.iter().enumerate() {
                if amount > 0.0 {
                    self.ledger
                        .transfer(tokens[k], Account::Escrow, Account::Claimable, amount);
                }
            }
            self.counters.funding_usd += flow.usd;
            let mk = &self.mk[m];
            let borrow_usd =
                (mk.cum_borrow[0] - before[0]) * mk.oi_usd[0] + (mk.cum_borrow[1] - before[1]) * mk.oi_usd[1];
            if (borrow_usd > 0.0 || flow.usd > 0.0) && cx.trace.on {
                let (index, oi) = (mk.p.index, mk.oi_usd[0] + mk.oi_usd[1]);
                cx.trace.event(|| Event {
                    size_usd: oi,
                    borrow_fee_usd: borrow_usd,
                    funding_fee_usd: flow.usd,
                    ..Event::new(t, EventKind::Accrual, u32::MAX, index, Side::Long)
                });
            }
            for u in self.mk[m].usage {
                if u.is_finite() && u > self.counters.peak_utilization {
                    self.counters.peak_utilization = u;
                }
            }
            for side in [Side::Long, Side::Short] {
                let s = sx(side);
                let r = self.mk[m].borrow_rate[s];
                if r > self.rate_bound[m][s] {
                    self.rate_bound[m][s] = (2.0 * r).max(MIN_RATE_BOUND);
                    self.rearm_side(m, side, t, prices);
                }
            }
        }
        self.release_claims(t, prices);
    }

    fn submit(&mut self, o: &Order, cx: &mut Cx) -> Result<(), Reject> {
        let result = match o.kind {
            OrderKind::Increase {
                size_usd,
                collateral_usd,
            } => self.increase(o, size_usd, collateral_usd, cx),
            OrderKind::AddCollateral { usd } if usd > 0.0 => self.increase(o, 0.0, usd, cx),
            kind => match self.resolve(o).map(|(m, k)| self.lookup(o.account, m, o.side, k)) {
                Err(r) => Err(r),
                Ok(None) => Err(Reject::NoPosition),
                Ok(Some(slot)) => match kind {
                    OrderKind::Decrease { size_usd } => self.decrease(slot, size_usd, Reason::Close, "", cx),
                    OrderKind::WithdrawCollateral { usd } if usd > 0.0 => self.withdraw_collateral(slot, usd, cx),
                    _ => Err(Reject::Invalid),
                },
            },
        };
        result.map_err(|r| record_reject(&mut self.counters, o, r, cx))
    }

    fn run_exits(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        for i in 0..self.markets.len() {
            let a = self.markets[i];
            let price = cx.prices[a];
            if !(price <= self.watch_lo[a] || price >= self.watch_hi[a]) {
                continue;
            }
            for d in 0..2 {
                if self.exits[a][d].peek_crossed(price) {
                    self.fire_exits(a, d, price, cx);
                }
            }
            self.refresh_watch(a);
        }
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
                && self.decrease(slot, None, Reason::Close, "deadline", cx).is_err()
                && self.positions[slot as usize].live
            {
                self.deadlines.push(t + 1, slot, tag);
            }
        }
        self.due = due;
    }

    fn liquidate(&mut self, cx: &mut Cx) {
        let t = cx.t_s;
        let prices = cx.prices;
        let mut cand = std::mem::take(&mut self.cand);
        cand.clear();
        let mut touched = std::mem::take(&mut self.touched);
        touched.clear();
        for i in 0..self.watched.len() {
            let a = self.watched[i];
            let price = prices[a];
            if !(price <= self.watch_lo[a] || price >= self.watch_hi[a]) {
                continue;
            }
            touched.push(a);
            for d in 0..2 {
                while let Some(e) = self.liq[a][d].pop_crossed(price) {
                    if self.is_current(e.slot, e.generation) {
                        cand.push((0.0, e.slot, e.generation));
                    }
                }
            }
        }
        while let Some(&Reverse((due, slot, generation))) = self.rechecks.peek() {
            if due > t {
                break;
            }
            self.rechecks.pop();
            if self.is_current(slot, generation) {
                cand.push((0.0, slot, generation));
            }
        }
        if !cand.is_empty() {
            for c in cand.iter_mut() {
                let p = &self.positions[c.1 as usize];
                c.0 = self.remaining_usd(p, prices) / p.size_usd;
            }
            // Most endangered first; each position once.
            cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cand.dedup_by_key(|c| c.1);
            for &(_, slot, generation) in &cand {
                if !self.is_current(slot, generation) {
                    continue;
                }
                if self.is_liquidatable(&self.positions[slot as usize], prices) {
                    let _ = self.decrease(slot, None, Reason::Liquidation, "", cx);
                } else {
                    self.arm(slot, t, prices);
                }
            }
        }
        self.cand = cand;
        for &a in &touched {
            self.refresh_watch(a);
        }
        self.touched = touched;
    }

    fn deleverage(&mut self, cx: &mut Cx) {
        for m in 0..self.mk.len() {
            // In a single-token market both sides draw on one pool, so paying
            // one side's profits can push the other over its cap: repeat
            // until neither side needs ADL (each round closes positions, so
            // it ends).
            for _round in 0..8 {
                let mut acted = false;
                for side in [Side::Long, Side::Short] {
                    acted |= self.deleverage_side(m, side, cx);
                }
                if !acted {
                    break;
                }
            }
        }
    }

    fn maintain(&mut self, cx: &mut Cx) {
        self.glv_shift(cx);
    }

    fn lp_deposit(&mut self, usd: f64, mix: crate::venue::DepositMix, cx: &mut Cx) -> Result<f64, Reject> {
        self.deposit_lp(usd, mix, cx)
    }

    fn lp_withdraw(&mut self, lp_tokens: f64, cx: &mut Cx) -> Result<f64, Reject> {
        self.withdraw_lp(lp_tokens, cx)
    }

    fn lp_value_usd(&self, prices: &[f64]) -> f64 {
        let cap = self.p.lp_price_cap;
        (0..self.mk.len()).map(|m| self.pool_value_usd(m, prices, cap)).sum()
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

    fn open_equity_usd(&self, _t_s: u64, prices: &[f64]) -> f64 {
        self.positions
            .iter()
            .filter(|p| p.live)
            .map(|p| self.equity_usd(p, prices))
            .sum()
    }

    fn conservation_error_usd(&self, _t_s: u64, prices: &[f64]) -> f64 {
        let n = self.n_assets;
        let mut pool = vec![0.0; n];
        let mut escrow = vec![0.0; n];
        let mut claimable = self.claimable_waiting.clone();
        let nm = self.mk.len();
        let mut oi_usd = vec![[0.0; 2]; nm];
        let mut oi_tokens = vec![[0.0; 2]; nm];
        let mut oi_coll = vec![[[0.0; 2]; 2]; nm];
        let mut snap = vec![[0.0; 2]; nm];
        let mut pending = vec![0.0; nm];
        let mut err = 0.0;
        for mk in &self.mk {
            for k in 0..mk.kinds() {
                pool[mk.tokens[k]] += mk.amount[k] + mk.swap_pool[k];
            }
            if !mk.impact_pool.is_finite() || mk.impact_pool < -1e-9 {
                err += 1.0;
            }
        }
        for p in self.positions.iter().filter(|p| p.live) {
            let m = p.market as usize;
            let mk = &self.mk[m];
            let s = sx(p.side);
            let pend = self.pending(p);
            escrow[mk.tokens[p.kind as usize]] += p.coll_tokens - pend.funding_tokens;
            for k in 0..mk.kinds() {
                claimable[mk.tokens[k]] += pend.claims[k];
            }
            oi_usd[m][s] += p.size_usd;
            oi_tokens[m][s] += p.size_tokens;
            oi_coll[m][s][p.kind as usize] += p.size_usd;
            snap[m][s] += p.size_usd * p.borrow_snap;
            pending[m] += p.pending_impact;
        }
        for a in 0..n {
            let px = prices[a];
            err += self.ledger.residual_tokens(a) * px;
            err += (self.ledger.balance(a, Account::Pool) - pool[a]).abs() * px;
            err += (self.ledger.balance(a, Account::Escrow) - escrow[a]).abs() * px;
            err += (self.ledger.balance(a, Account::Claimable) - claimable[a]).abs() * px;
        }
        for (m, mk) in self.mk.iter().enumerate() {
            let pi = prices[mk.p.index];
            for s in 0..2 {
                err += (mk.oi_usd[s] - oi_usd[m][s]).abs();
                err += (mk.oi_tokens[s] - oi_tokens[m][s]).abs() * pi;
                err += (mk.oi_coll[s][0] - oi_coll[m][s][0]).abs() + (mk.oi_coll[s][1] - oi_coll[m][s][1]).abs();
                err += (mk.borrow_snap_sum[s] - snap[m][s]).abs();
            }
            err += (mk.pending_impact - pending[m]).abs() * pi;
            let pv = mk.pool_value(prices, PnlCap::Uncapped, self.p.fee_receivers.borrowing);
            if !pv.is_finite() {
                err += 1.0;
            }
        }
        err
    }

    fn trace_columns(&self, _asset_names: &[String]) -> Vec<String> {
        let mut cols = vec![
            "lp_price_usd".to_string(),
            "lp_value_usd".into(),
            "open_positions".into(),
            "open_interest_usd".into(),
        ];
        for mk in &self.mk {
            let n = &mk.p.name;
            for c in [
                "pool_value_usd",
                "gm_price_usd",
                "long_pool_tokens",
                "short_pool_tokens",
                "oi_long_usd",
                "oi_short_usd",
                "pnl_to_pool_long",
                "pnl_to_pool_short",
                "utilization_long",
                "utilization_short",
                "borrow_apr_long",
                "borrow_apr_short",
                "funding_apr_longs_pay",
                "impact_pool_tokens",
                "pending_impact_tokens",
            ] {
                cols.push(format!("{c}_{n}"));
            }
        }
        cols
    }

    fn trace_row(&self, _t_s: u64, prices: &[f64], out: &mut Vec<f64>) {
        let value = self.lp_value_usd(prices);
        out.push(value / self.lp_supply);
        out.push(value);
        out.push(self.positions.live() as f64);
        out.push(self.total_oi_usd);
        for (m, mk) in self.mk.iter().enumerate() {
            let pv = self.pool_value_usd(m, prices, self.p.lp_price_cap);
            out.push(pv);
            out.push(if mk.supply > 0.0 { pv / mk.supply } else { 0.0 });
            out.push(mk.side_tokens(Side::Long));
            out.push(mk.side_tokens(Side::Short));
            out.push(mk.oi_usd[0]);
            out.push(mk.oi_usd[1]);
            let f = |side| {
                let x = mk.pnl_to_pool_factor(side, prices);
                if x.is_finite() { x } else { f64::MAX }
            };
            out.push(f(Side::Long));
            out.push(f(Side::Short));
            for side in [Side::Long, Side::Short] {
                let u = mk.usage(side, prices);
                out.push(if u.is_finite() { u } else { f64::MAX });
            }
            out.push(mk.borrow_rate[0] * SECONDS_PER_YEAR);
            out.push(mk.borrow_rate[1] * SECONDS_PER_YEAR);
            let sign = if mk.longs_pay { 1.0 } else { -1.0 };
            out.push(sign * mk.funding_rate * SECONDS_PER_YEAR);
            out.push(mk.impact_pool);
            out.push(mk.pending_impact);
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
    //! Venue-level checks against GMX's own tests (MECHANISMS.md section 5),
    //! driven order by order.
    use super::formulas::{BorrowModel, FundingParams, ImpactFactors, Referral};
    use super::*;
    use crate::engine::trace::Trace;

    const ETH: usize = 0;
    const USDC: usize = 1;

    /// A fee-free ETH/USD market with the hardhat fixture's caps.
    fn market(long: usize, short: usize) -> GmMarketParams {
        let mut p = MarketPreset::Base.params();
        p.name = "ETH".into();
        p.index = ETH;
        p.long_token = long;
        p.short_token = short;
        p.position_impact = ImpactFactors::ZERO;
        p.max_positive_impact = 0.02;
        p.max_negative_impact = 0.02;
        p.position_fee_positive = 0.0;
        p.position_fee_negative = 0.0;
        p.liquidation_fee = 0.0;
        p.borrow = BorrowModel::Curve {
            factor: 0.0,
            exponent: 1.0,
        };
        p.funding = FundingParams::NONE;
        p.reserve_factor = 1.0;
        p.oi_reserve_factor = 1.0;
        p.min_collateral_oi_multiplier = 0.0;
        p.pnl_caps = PnlCaps {
            traders: 0.9,
            adl: 10.0,
            after_adl: 9.0,
            deposits: 0.9,
            withdrawals: 0.9,
        };
        p
    }

    fn venue(m: GmMarketParams, pool_usd: f64) -> GmVenue {
        let p = GmParams {
            name: "gm".into(),
            pool_usd,
            glv: None,
            lp_price_cap: PnlCap::Withdrawals,
            fee_receivers: FeeReceivers {
                position: 0.0,
                swap: 0.0,
                borrowing: 0.0,
                liquidation: 0.0,
            },
            referral: Referral::default(),
            skip_borrowing_for_smaller_side: false,
            claimable_delay_s: 5 * 86_400,
            adl_ranking: AdlRanking::MostProfitable,
            markets: vec![m],
        };
        GmVenue::new(p, 2, 4)
    }

    fn start(v: &mut GmVenue, prices: &[f64]) {
        v.reset(
            prices,
            Clock {
                step_s: 60,
                steps: 100_000,
            },
        );
        v.end_warm_start(0, prices);
    }

    fn order(account: u32, side: Side, collateral: usize, kind: OrderKind) -> Order {
        Order {
            account,
            market: ETH,
            side,
            collateral,
            kind,
            exit: ExitPlan::NONE,
            cross: false,
        }
    }

    /// Runs `f` in a context at `t_s` that records nothing.
    fn at<R>(prices: &[f64], t_s: u64, f: impl FnOnce(&mut Cx<'_>) -> R) -> R {
        let mut trace = Trace::off();
        let mut cx = Cx {
            t_s,
            prices,
            trace: &mut trace,
            warm_start: false,
        };
        f(&mut cx)
    }

    fn submit(v: &mut GmVenue, prices: &[f64], t_s: u64, o: Order) -> Result<(), Reject> {
        at(prices, t_s, |cx| {
            v.accrue(cx);
            v.submit(&o, cx)
        })
    }

    /// Accrues to `t_s` without an order.
    fn tick(v: &mut GmVenue, prices: &[f64], t_s: u64) {
        at(prices, t_s, |cx| v.accrue(cx));
    }

    fn quadratic(positive: f64, negative: f64) -> ImpactFactors {
        ImpactFactors {
            positive,
            negative,
            positive_exponent: 2.0,
            negative_exponent: 2.0,
        }
    }

    fn dec(size_usd: Option<f64>) -> OrderKind {
        OrderKind::Decrease { size_usd }
    }

    fn open(size_usd: f64, collateral_usd: f64) -> OrderKind {
        OrderKind::Increase {
            size_usd,
            collateral_usd,
        }
    }

    #[track_caller]
    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want}");
    }

    /// G10's setup (`CappedPriceImpact.ts`): 1000 ETH + 1M USDC at $5000,
    /// impact 5e-8 / 1e-7 with exponent 2 and the given caps; a $200k long
    /// on 50k USDC and a $200k short on 10 ETH, then $20k of the long closed.
    fn g10(max_positive: f64, max_negative: f64) -> (GmVenue, [f64; 2]) {
        let mut m = market(ETH, USDC);
        m.position_impact = quadratic(5e-8, 1e-7);
        m.max_positive_impact = max_positive;
        m.max_negative_impact = max_negative;
        m.long_share = 5.0 / 6.0;
        let mut v = venue(m, 6_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        close(v.pool_amounts(0)[0], 1000.0, 1e-9);
        close(v.pool_amounts(0)[1], 1_000_000.0, 1e-6);
        submit(&mut v, &px, 60, order(0, Side::Long, USDC, open(200_000.0, 50_000.0))).unwrap();
        submit(&mut v, &px, 60, order(0, Side::Short, ETH, open(200_000.0, 50_000.0))).unwrap();
        let long = v.position(0, ETH, Side::Long, USDC).unwrap();
        close(long[1], 40.0, 1e-12);
        close(long[3], -0.8, 1e-12);
        close(v.impact_pool_tokens(0), 0.0, 0.0);
        close(v.pool_value_usd(0, &px, PnlCap::Deposits), 6_000_000.0, 1e-6);
        let pending_short = v.position(0, ETH, Side::Short, ETH).unwrap()[3];
        close(pending_short, (2000f64).min(max_positive * 200_000.0) / 5000.0, 1e-12);
        submit(&mut v, &px, 120, order(0, Side::Long, USDC, dec(Some(20_000.0)))).unwrap();
        let long = v.position(0, ETH, Side::Long, USDC).unwrap();
        close(long[1], 36.0, 1e-12);
        close(long[2], 49_560.0, 1e-6);
        close(long[3], -0.72, 1e-12);
        close(v.pool_amounts(0)[0], 1000.0, 1e-9);
        close(v.pool_value_usd(0, &px, PnlCap::Deposits), 6_000_000.0, 1e-6);
        close(v.pool_value_usd(0, &px, PnlCap::Deposits) / v.gm_supply(0), 1.0, 1e-12);
        assert!(v.conservation_error_usd(120, &px) < 1e-6);
        (v, px)
    }

    /// G10 "uncapped" (the fixture's 2 % caps): pending impact stays off the
    /// pool until the close, which pays $400 into the pool and the impact
    /// pool and leaves $40 claimable; pool value and GM price do not move.
    #[test]
    fn g10_uncapped_partial_close() {
        let (v, _) = g10(0.02, 0.02);
        close(v.position(0, ETH, Side::Short, ETH).unwrap()[3], 0.4, 1e-12);
        close(v.impact_pool_tokens(0), 0.08, 1e-12);
        close(v.pool_amounts(0)[1], 1_000_400.0, 1e-6);
        close(v.claimable_collateral(USDC), 40.0, 1e-9);
    }

    /// G10 "capped": max positive 0.05 %, max negative 0.1 %: the short's
    /// pending impact is capped at 0.02 ETH; the close charges $20 and makes
    /// $420 claimable; the impact pool gains 0.004 ETH and the USDC pool $20.
    #[test]
    fn g10_capped_partial_close() {
        let (mut v, px) = g10(5e-4, 1e-3);
        close(v.position(0, ETH, Side::Short, ETH).unwrap()[3], 0.02, 1e-12);
        close(v.claimable_collateral(USDC), 420.0, 1e-9);
        close(v.impact_pool_tokens(0), 0.004, 1e-12);
        close(v.pool_amounts(0)[1], 1_000_020.0, 1e-6);
        // After the 5-day delay the claimable collateral is paid out.
        let t = 120 + 5 * 86_400;
        tick(&mut v, &px, t);
        close(v.claimable_collateral(USDC), 0.0, 1e-9);
        assert!(v.conservation_error_usd(t, &px) < 1e-6);
    }

    /// G2: pending impact amounts and the decrease's proportional pending impact.
    #[test]
    fn g2_pending_impact_amounts() {
        let mut m = market(ETH, USDC);
        m.position_impact = quadratic(5e-9, 1e-8);
        m.long_share = 0.5 * 10_000_000.0 / 7_000_000.0;
        let mut v = venue(m, 7_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        submit(&mut v, &px, 60, order(0, Side::Long, ETH, open(200_000.0, 50_000.0))).unwrap();
        let p = v.position(0, ETH, Side::Long, ETH).unwrap();
        close(p[3], -0.08, 1e-12);
        close(p[1], 40.0, 1e-12);
        submit(&mut v, &px, 60, order(1, Side::Long, ETH, open(200_000.0, 50_000.0))).unwrap();
        close(v.position(1, ETH, Side::Long, ETH).unwrap()[3], -0.24, 1e-12);
        submit(&mut v, &px, 60, order(2, Side::Short, USDC, open(10_000.0, 5_000.0))).unwrap();
        close(v.position(2, ETH, Side::Short, USDC).unwrap()[3], 0.0079, 1e-12);
        // Closing it: close impact -$79 plus pending +$39.5 = -$39.5 charged, $0 PnL.
        let before = v.position(2, ETH, Side::Short, USDC).unwrap()[2];
        submit(&mut v, &px, 120, order(2, Side::Short, USDC, dec(None))).unwrap();
        assert!(v.position(2, ETH, Side::Short, USDC).is_none());
        close(v.impact_pool_tokens(0), 39.5 / 5000.0, 1e-12);
        close(v.counters().trader_payouts_usd, before - 39.5, 1e-6);
    }

    /// G3: a lone $200k long on 1000 ETH at $5000 with factor 1e-7 pays
    /// $967.68 in 14 days; the pool value (no receiver share) is
    /// $6,000,967.68 and the GM price 1.00016128. A second long doubles the
    /// rate: the first long's fees come to $2903.04 after 28 days.
    #[test]
    fn g3_borrowing_into_pool_value() {
        let mut m = market(ETH, USDC);
        m.borrow = BorrowModel::Curve {
            factor: 1e-7,
            exponent: 1.0,
        };
        m.long_share = 5.0 / 6.0;
        let mut v = venue(m, 6_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        let d14 = 14 * 86_400;
        submit(&mut v, &px, 0, order(0, Side::Long, ETH, open(200_000.0, 50_000.0))).unwrap();
        tick(&mut v, &px, d14);
        close(v.pool_value_usd(0, &px, PnlCap::Deposits), 6_000_967.68, 1e-6);
        close(
            v.pool_value_usd(0, &px, PnlCap::Deposits) / v.gm_supply(0),
            1.00016128,
            1e-12,
        );
        submit(&mut v, &px, d14, order(1, Side::Long, ETH, open(200_000.0, 50_000.0))).unwrap();
        submit(&mut v, &px, 2 * d14, order(0, Side::Long, ETH, dec(None))).unwrap();
        close(v.counters().fees_borrow_usd, 2903.04, 1e-6);
    }

    /// G7: a USDC-USDC market with $1M per side, two $250k longs at $5000
    /// with $100k collateral; ETH rises 50 %. Traders' cap 7 %, withdrawal cap 50 %.
    #[test]
    fn g7_capped_pnl_payouts_and_gm_price() {
        let mut m = market(USDC, USDC);
        m.pnl_caps.traders = 0.07;
        m.pnl_caps.withdrawals = 0.5;
        let mut v = venue(m, 2_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        submit(&mut v, &px, 60, order(0, Side::Long, USDC, open(250_000.0, 100_000.0))).unwrap();
        submit(&mut v, &px, 60, order(1, Side::Long, USDC, open(250_000.0, 100_000.0))).unwrap();
        let up = [7500.0, 1.0];
        let gm_price = |v: &GmVenue| v.pool_value_usd(0, &up, PnlCap::Withdrawals) / v.gm_supply(0);
        close(gm_price(&v), 0.875, 1e-12);
        let traders = |v: &GmVenue| v.ledger().balance(USDC, Account::Traders);
        close(traders(&v), -200_000.0, 1e-6);
        submit(&mut v, &up, 120, order(0, Side::Long, USDC, dec(None))).unwrap();
        close(traders(&v), -200_000.0 + 135_000.0, 1e-6);
        close(gm_price(&v), 0.92, 1e-12);
        submit(&mut v, &up, 120, order(1, Side::Long, USDC, dec(None))).unwrap();
        close(traders(&v), -200_000.0 + 135_000.0 + 168_775.0, 1e-6);
        close(gm_price(&v), 0.9481125, 1e-12);
        assert!(v.conservation_error_usd(120, &up) < 1e-6);
    }

    /// G7 without caps: each user receives $225,000.
    #[test]
    fn g7_uncapped_payouts() {
        let mut v = venue(market(USDC, USDC), 2_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        submit(&mut v, &px, 60, order(0, Side::Long, USDC, open(250_000.0, 100_000.0))).unwrap();
        let up = [7500.0, 1.0];
        submit(&mut v, &up, 120, order(0, Side::Long, USDC, dec(None))).unwrap();
        close(v.ledger().balance(USDC, Account::Traders), 125_000.0, 1e-6);
    }

    /// G4 (`test/exchange/FundingFees/PairMarket.ts`): factor 1e-10,
    /// exponent 1; a $200k long on WETH pays a $100k short on USDC for 14
    /// days: 1e-10 · (100k / 300k) · 1,209,600 s · 200k = $8.064 =
    /// 0.0016128 ETH, taken from the long's collateral when it decreases and
    /// paid to the short (in ETH, the payer's token) when it closes.
    #[test]
    fn g4_funding_between_the_sides() {
        let mut m = market(ETH, USDC);
        m.funding = FundingParams {
            factor: 1e-10,
            ..FundingParams::NONE
        };
        m.long_share = 5.0 / 6.0;
        let mut v = venue(m, 6_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        submit(&mut v, &px, 0, order(0, Side::Long, ETH, open(200_000.0, 50_000.0))).unwrap();
        submit(&mut v, &px, 0, order(1, Side::Short, USDC, open(100_000.0, 50_000.0))).unwrap();
        let d14 = 14 * 86_400;
        tick(&mut v, &px, d14);
        close(v.counters().funding_usd, 8.064, 1e-9);
        submit(&mut v, &px, d14, order(0, Side::Long, ETH, dec(Some(190_000.0)))).unwrap();
        close(v.position(0, ETH, Side::Long, ETH).unwrap()[2], 10.0 - 0.0016128, 1e-12);
        let eth_before = v.ledger().balance(ETH, Account::Traders);
        submit(&mut v, &px, d14, order(1, Side::Short, USDC, dec(None))).unwrap();
        close(v.ledger().balance(ETH, Account::Traders) - eth_before, 0.0016128, 1e-12);
        assert!(v.conservation_error_usd(d14, &px) < 1e-6);
    }

    /// G9 (pre-v2.2): a $50k long at $5000 with -0.1 % impact holds 9.99
    /// ETH and puts 0.01 ETH in the impact pool at once.
    #[test]
    fn g9_open_time_flow() {
        let mut m = market(ETH, USDC);
        m.impact_flow = ImpactFlow::OpenTime;
        m.position_impact = quadratic(2e-8, 2e-8);
        let mut v = venue(m, 6_000_000.0);
        let px = [5000.0, 1.0];
        start(&mut v, &px);
        submit(&mut v, &px, 60, order(0, Side::Long, ETH, open(50_000.0, 10_000.0))).unwrap();
        let p = v.position(0, ETH, Side::Long, ETH).unwrap();
        close(p[1], 9.99, 1e-12);
        close(p[0] / p[1], 5005.005005005005, 1e-9);
        close(p[3], 0.0, 0.0);
        close(v.impact_pool_tokens(0), 0.01, 1e-12);
        // Pool value unchanged: the impact pool's value equals the trader's loss.
        close(v.pool_value_usd(0, &px, PnlCap::Uncapped), 6_000_000.0, 1e-6);
    }
}
