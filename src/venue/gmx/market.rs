//! State of one GM market: pool amounts, open interest, borrowing and
//! funding indices, the impact pools and the GM supply (MECHANISMS.md 1.17).
//!
//! Token amounts are in token units; "kind" 0 is the long token and 1 the
//! short token. A single-token market keeps its whole pool in kind 0 and
//! counts half of it for each side (GMX's pool divisor of 2).

use super::formulas::{
    PoolValueInputs, borrowing_factor_per_s, capped_pnl_usd, next_funding, pool_value_usd, side_pnl_usd, usage_factor,
};
use super::params::{GmMarketParams, PnlCap};
use crate::units::gt0;
use crate::venue::Side;

/// Index of a side in per-side arrays.
pub(crate) fn sx(side: Side) -> usize {
    match side {
        Side::Long => 0,
        Side::Short => 1,
    }
}

/// Funding moved by one accrual, per collateral kind of the paying side.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct FundingFlow {
    /// Tokens moved from payers' collateral to the receivers' claimable pot, per kind.
    pub tokens: [f64; 2],
    /// USD value of the flow.
    pub usd: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Market {
    pub p: GmMarketParams,
    /// Scenario assets of kind 0 and kind 1.
    pub tokens: [usize; 2],
    /// 2 for a single-token market, else 1.
    pub divisor: f64,
    /// Pool amounts per token kind (kind 1 unused in a single-token market).
    pub amount: [f64; 2],
    /// Swap impact pools per token kind (held by the venue, not in pool value).
    pub swap_pool: [f64; 2],
    /// GM token supply.
    pub supply: f64,
    /// Open interest per side, USD.
    pub oi_usd: [f64; 2],
    /// Open interest per side, index tokens.
    pub oi_tokens: [f64; 2],
    /// Open interest per side and collateral kind, USD.
    pub oi_coll: [[f64; 2]; 2],
    /// Open positions per side and collateral kind: when a count falls to
    /// zero its aggregates are zeroed, so rounding leaves no phantom interest.
    pub count: [[u32; 2]; 2],
    /// Cumulative borrowing factor per side (fraction of size).
    pub cum_borrow: [f64; 2],
    /// Σ size · borrowing snapshot per side.
    pub borrow_snap_sum: [f64; 2],
    /// Current borrowing rate per side, per second.
    pub borrow_rate: [f64; 2],
    /// Reserve usage per side at the last accrual (the kink's usage).
    pub usage: [f64; 2],
    /// Saved (signed) funding factor per second.
    pub saved_funding: f64,
    /// Funding rate in force, per second, and who pays.
    pub funding_rate: f64,
    pub longs_pay: bool,
    /// Funding paid per USD of size, per (side, collateral kind), in that kind's tokens.
    pub fund_paid: [[f64; 2]; 2],
    /// Funding claimable per USD of size, per (side, token kind), in tokens.
    pub fund_claim: [[f64; 2]; 2],
    /// Position impact pool, index tokens (a liability valued in pool value, no tokens of its own).
    pub impact_pool: f64,
    /// Σ pending impact of open positions, index tokens (v2.2 flow).
    pub pending_impact: f64,
    pub accrued_to_s: u64,
}

impl Market {
    pub fn new(p: GmMarketParams) -> Market {
        let single = p.single_token();
        Market {
            tokens: [p.long_token, p.short_token],
            divisor: if single { 2.0 } else { 1.0 },
            p,
            amount: [0.0; 2],
            swap_pool: [0.0; 2],
            supply: 0.0,
            oi_usd: [0.0; 2],
            oi_tokens: [0.0; 2],
            oi_coll: [[0.0; 2]; 2],
            count: [[0; 2]; 2],
            cum_borrow: [0.0; 2],
            borrow_snap_sum: [0.0; 2],
            borrow_rate: [0.0; 2],
            usage: [0.0; 2],
            saved_funding: 0.0,
            funding_rate: 0.0,
            longs_pay: true,
            fund_paid: [[0.0; 2]; 2],
            fund_claim: [[0.0; 2]; 2],
            impact_pool: 0.0,
            pending_impact: 0.0,
            accrued_to_s: 0,
        }
    }

    /// Zeroes the state (start of a path).
    pub fn reset(&mut self) {
        self.amount = [0.0; 2];
        self.swap_pool = [0.0; 2];
        self.supply = 0.0;
        self.oi_usd = [0.0; 2];
        self.oi_tokens = [0.0; 2];
        self.oi_coll = [[0.0; 2]; 2];
        self.count = [[0; 2]; 2];
        self.cum_borrow = [0.0; 2];
        self.borrow_snap_sum = [0.0; 2];
        self.borrow_rate = [0.0; 2];
        self.usage = [0.0; 2];
        self.saved_funding = 0.0;
        self.funding_rate = 0.0;
        self.longs_pay = true;
        self.fund_paid = [[0.0; 2]; 2];
        self.fund_claim = [[0.0; 2]; 2];
        self.impact_pool = 0.0;
        self.pending_impact = 0.0;
        self.accrued_to_s = 0;
    }

    pub fn single(&self) -> bool {
        self.divisor == 2.0
    }

    /// Token kinds in use: 1 for a single-token market, else 2.
    pub fn kinds(&self) -> usize {
        if self.single() { 1 } else { 2 }
    }

    /// The pool slot that holds kind `k` (kind 1 of a single-token market is kind 0).
    pub fn slot(&self, k: usize) -> usize {
        if self.single() { 0 } else { k }
    }

    /// Token kind backing `side` (the PnL token): long token for longs, short token for shorts.
    pub fn pnl_kind(&self, side: Side) -> usize {
        self.slot(sx(side))
    }

    /// Open positions on a side.
    pub fn positions(&self, side: Side) -> u32 {
        let c = self.count[sx(side)];
        c[0] + c[1]
    }

    /// Counts a position leaving (`delta` −1) or joining (+1) a side and
    /// kind; zeroes aggregates that no position holds any more.
    pub fn count_position(&mut self, side: Side, kind: usize, delta: i32) {
        let s = sx(side);
        let c = &mut self.count[s][kind];
        *c = c.saturating_add_signed(delta);
        if *c == 0 {
            self.oi_coll[s][kind] = 0.0;
        }
        if self.count[s] == [0, 0] {
            self.oi_usd[s] = 0.0;
            self.oi_tokens[s] = 0.0;
            self.borrow_snap_sum[s] = 0.0;
        }
        if self.count == [[0; 2]; 2] {
            self.pending_impact = 0.0;
        }
    }

    /// Tokens backing one side (the pool divisor applied).
    pub fn side_tokens(&self, side: Side) -> f64 {
        self.amount[self.pnl_kind(side)] / self.divisor
    }

    /// USD value of the tokens backing one side.
    pub fn side_pool_usd(&self, side: Side, prices: &[f64]) -> f64 {
        self.side_tokens(side) * prices[self.tokens[self.pnl_kind(side)]]
    }

    /// Reserved USD of a side: longs `OI_tokens · P_index`, shorts `OI_usd`.
    pub fn reserved_usd(&self, side: Side, prices: &[f64]) -> f64 {
        match side {
            Side::Long => self.oi_tokens[0] * prices[self.p.index],
            Side::Short => self.oi_usd[1],
        }
    }

    /// Uncapped trader PnL of a side, USD.
    pub fn side_pnl(&self, side: Side, prices: &[f64]) -> f64 {
        let s = sx(side);
        side_pnl_usd(side, self.oi_usd[s], self.oi_tokens[s], prices[self.p.index])
    }

    /// Pending borrowing fees of a side, USD.
    pub fn pending_borrow_usd(&self, side: Side) -> f64 {
        let s = sx(side);
        (self.oi_usd[s] * self.cum_borrow[s] - self.borrow_snap_sum[s]).max(0.0)
    }

    /// `pnl / pool` of a side (MECHANISMS.md 1.13); infinite when profitable with no pool.
    pub fn pnl_to_pool_factor(&self, side: Side, prices: &[f64]) -> f64 {
        let pnl = self.side_pnl(side, prices);
        let pool = self.side_pool_usd(side, prices);
        if pool > 0.0 {
            pnl / pool
        } else if pnl > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }

    /// Pool value, USD, with PnL capped as `cap` (MECHANISMS.md 1.2).
    pub fn pool_value(&self, prices: &[f64], cap: PnlCap, borrowing_receiver: f64) -> f64 {
        pool_value_usd(&PoolValueInputs {
            long_pool_usd: self.side_pool_usd(Side::Long, prices),
            short_pool_usd: self.side_pool_usd(Side::Short, prices),
            pending_borrowing_usd: self.pending_borrow_usd(Side::Long) + self.pending_borrow_usd(Side::Short),
            borrowing_receiver_factor: borrowing_receiver,
            long_pnl_usd: self.side_pnl(Side::Long, prices),
            short_pnl_usd: self.side_pnl(Side::Short, prices),
            max_pnl_factor: self.p.pnl_caps.factor(cap),
            impact_pool_usd: self.impact_pool * prices[self.p.index],
        })
    }

    /// A side's PnL after the traders' cap, USD.
    pub fn side_pnl_capped(&self, side: Side, prices: &[f64]) -> f64 {
        capped_pnl_usd(
            self.side_pnl(side, prices),
            self.side_pool_usd(side, prices),
            self.p.pnl_caps.traders,
        )
    }

    /// Kink usage of a side.
    pub fn usage(&self, side: Side, prices: &[f64]) -> f64 {
        self.usage_of(side, self.reserved_usd(side, prices), self.side_pool_usd(side, prices))
    }

    fn usage_of(&self, side: Side, reserved_usd: f64, pool_usd: f64) -> f64 {
        let max_oi = match side {
            Side::Long => self.p.max_oi_long_usd,
            Side::Short => self.p.max_oi_short_usd,
        };
        usage_factor(
            reserved_usd,
            pool_usd,
            self.p.oi_reserve_factor,
            self.oi_usd[sx(side)],
            max_oi,
            self.p.ignore_oi_for_usage,
        )
    }

    /// Accrues borrowing, funding and impact-pool distribution up to `t_s`
    /// at the rates of the current state (one Euler step). Returns the
    /// funding moved from payers' collateral to the claimable pot.
    pub fn accrue(&mut self, t_s: u64, prices: &[f64], skip_smaller: bool) -> FundingFlow {
        let dt = t_s.saturating_sub(self.accrued_to_s) as f64;
        self.accrued_to_s = self.accrued_to_s.max(t_s);
        for side in [Side::Long, Side::Short] {
            let s = sx(side);
            let r = if self.oi_usd[s] > 0.0 {
                let (reserved, pool) = (self.reserved_usd(side, prices), self.side_pool_usd(side, prices));
                let u = self.usage_of(side, reserved, pool);
                self.usage[s] = u;
                if skip_smaller && self.oi_usd[s] < self.oi_usd[1 - s] {
                    0.0
                } else {
                    borrowing_factor_per_s(&self.p.borrow, reserved, pool, u)
                }
            } else {
                self.usage[s] = 0.0;
                0.0
            };
            self.borrow_rate[s] = r;
            self.cum_borrow[s] += r * dt;
        }
        if self.p.impact_pool_distribution_per_s > 0.0 {
            let room = self.impact_pool - self.p.min_impact_pool_tokens;
            if room > 0.0 {
                self.impact_pool -= (self.p.impact_pool_distribution_per_s * dt).min(room);
            }
        }
        let mut flow = FundingFlow::default();
        let (long_oi, short_oi) = (self.oi_usd[0], self.oi_usd[1]);
        let both = self.positions(Side::Long) > 0 && self.positions(Side::Short) > 0;
        if !(both && gt0(long_oi) && gt0(short_oi)) || dt <= 0.0 {
            self.funding_rate = 0.0;
            return flow;
        }
        let r = next_funding(self.saved_funding, long_oi, short_oi, dt, &self.p.funding);
        self.saved_funding = r.saved_per_s;
        self.funding_rate = r.per_s;
        self.longs_pay = r.longs_pay;
        let (payer, receiver) = if r.longs_pay { (0, 1) } else { (1, 0) };
        let usd_per_size = r.per_s * dt;
        if !gt0(usd_per_size) {
            return flow;
        }
        for k in 0..self.kinds() {
            let oi_k = self.oi_coll[payer][k];
            if oi_k <= 0.0 || self.count[payer][k] == 0 {
                continue;
            }
            let price = prices[self.tokens[k]];
            let per_size = usd_per_size / price;
            let tokens = oi_k * per_size;
            self.fund_paid[payer][k] += per_size;
            self.fund_claim[receiver][k] += tokens / self.oi_usd[receiver];
            flow.tokens[k] += tokens;
            flow.usd += oi_k * usd_per_size;
        }
        flow
    }
}
