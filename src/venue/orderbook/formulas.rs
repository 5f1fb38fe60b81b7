//! Order-book venue formulas (Hyperliquid, Lighter) as pure functions.
//!
//! Each follows MECHANISMS.md sections 3 and 4.1 and is tested against the
//! vectors of section 5 (H1, H2, L1) or against a hand calculation.

use crate::units::gt0;

use crate::venue::Side;

/// One margin tier: from `lower_bound_usd` of notional up, at most `max_leverage`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    /// Notional at which the tier starts, USD (0 for the first tier).
    pub lower_bound_usd: f64,
    /// Largest leverage in the tier (x).
    pub max_leverage: f64,
}

/// Maintenance margin rate of a tier: half the initial margin at max
/// leverage, `(1 / maxLev) / 2` (Hyperliquid "Margin tiers").
pub fn maintenance_rate(t: &Tier) -> f64 {
    0.5 / t.max_leverage
}

/// Deduction of tier `k`: `d_0 = 0`, `d_n = d_{n−1} + lowerBound_n · (mmr_n − mmr_{n−1})`, USD.
pub fn tier_deduction(tiers: &[Tier], k: usize) -> f64 {
    let mut d = 0.0;
    for n in 1..=k.min(tiers.len().saturating_sub(1)) {
        d += tiers[n].lower_bound_usd * (maintenance_rate(&tiers[n]) - maintenance_rate(&tiers[n - 1]));
    }
    d
}

/// Index of the tier a notional falls in (tiers sorted by lower bound).
pub fn tier_of(tiers: &[Tier], notional_usd: f64) -> usize {
    tiers
        .iter()
        .rposition(|t| notional_usd >= t.lower_bound_usd)
        .unwrap_or(0)
}

/// Maintenance margin of a position of `notional_usd`: `notional · mmr − deduction`
/// of its tier (H2: $200M of BTC needs $3.125M).
pub fn maintenance_margin_usd(tiers: &[Tier], notional_usd: f64) -> f64 {
    if tiers.is_empty() {
        return 0.0;
    }
    let k = tier_of(tiers, notional_usd);
    notional_usd * maintenance_rate(&tiers[k]) - tier_deduction(tiers, k)
}

/// Largest leverage allowed for a position of `notional_usd`.
pub fn max_leverage(tiers: &[Tier], notional_usd: f64) -> f64 {
    tiers.get(tier_of(tiers, notional_usd)).map_or(1.0, |t| t.max_leverage)
}

/// Liquidation price of an isolated position (or a cross account with one
/// position) of `size` coins (> 0) on `side`, entered at `entry` with
/// `margin_usd`: the price where equity `margin + side·size·(p − entry)`
/// equals the tiered maintenance margin. In one tier it is the official
/// `liq = price − side·margin_available/size/(1 − l·side)`, `l = mmr`
/// (MECHANISMS.md 3.5); across tiers each tier's linear equation is solved
/// and the root inside its tier kept. `None` if the position cannot be
/// liquidated at any positive price (a long with margin above its entry
/// value, say).
pub fn liquidation_price(side: Side, entry: f64, size: f64, margin_usd: f64, tiers: &[Tier]) -> Option<f64> {
    if !gt0(size) || tiers.is_empty() {
        return None;
    }
    let mut best: Option<f64> = None;
    for (k, t) in tiers.iter().enumerate() {
        let r = maintenance_rate(t);
        let d = tier_deduction(tiers, k);
        // long: m + q(p − e) = q p r − d  →  p = (q e − m − d) / (q (1 − r))
        // short: m + q(e − p) = q p r − d →  p = (m + q e + d) / (q (1 + r))
        let p = match side {
            Side::Long => (size * entry - margin_usd - d) / (size * (1.0 - r)),
            Side::Short => (margin_usd + size * entry + d) / (size * (1.0 + r)),
        };
        if !gt0(p) || !p.is_finite() {
            continue;
        }
        let hi = tiers.get(k + 1).map_or(f64::INFINITY, |n| n.lower_bound_usd);
        let notional = size * p;
        if notional >= t.lower_bound_usd && notional < hi {
            best = Some(match (best, side) {
                (None, _) => p,
                (Some(b), Side::Long) => b.max(p),
                (Some(b), Side::Short) => b.min(p),
            });
        }
    }
    best
}

/// Hyperliquid funding (MECHANISMS.md 3.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FundingRule {
    /// Interest component per 8 hours (0.0001 = 0.01 %).
    pub interest_8h: f64,
    /// Clamp on `interest − premium`, per 8 hours (0.0005).
    pub clamp_8h: f64,
    /// Cap on the hourly rate (0.04 = 4 %/hour).
    pub cap_hourly: f64,
}

impl FundingRule {
    /// Hyperliquid's published constants.
    pub const HYPERLIQUID: FundingRule = FundingRule {
        interest_8h: 0.0001,
        clamp_8h: 0.0005,
        cap_hourly: 0.04,
    };
}

/// One premium sample: `[max(impactBid − oracle, 0) − max(oracle − impactAsk, 0)] / oracle`.
pub fn premium_sample(impact_bid: f64, impact_ask: f64, oracle: f64) -> f64 {
    let gap = (impact_bid - oracle).max(0.0) - (oracle - impact_ask).max(0.0);
    if gap == 0.0 || !gt0(oracle) {
        return 0.0;
    }
    gap / oracle
}

/// The 8-hour funding rate from the hour's mean premium `p`:
/// `F = p + clamp(I − p, −c, +c)`.
pub fn funding_rate_8h(mean_premium: f64, rule: &FundingRule) -> f64 {
    mean_premium + (rule.interest_8h - mean_premium).clamp(-rule.clamp_8h, rule.clamp_8h)
}

/// The hourly rate paid by longs (negative: paid by shorts): `F_8h / 8`,
/// capped at `cap_hourly` in magnitude.
pub fn hourly_rate(rate_8h: f64, rule: &FundingRule) -> f64 {
    (rate_8h / 8.0).clamp(-rule.cap_hourly, rule.cap_hourly)
}

/// Lighter's "zero price" of a long (short: `+`): `mark · (1 ∓ M · AV / MMR)`,
/// where a fill leaves the account's AV / MMR unchanged (inferred; L1).
pub fn zero_price(side: Side, mark: f64, maintenance_fraction: f64, account_value: f64, mmr_usd: f64) -> f64 {
    if !gt0(mmr_usd) {
        return mark;
    }
    let k = maintenance_fraction * account_value / mmr_usd;
    match side {
        Side::Long => mark * (1.0 - k),
        Side::Short => mark * (1.0 + k),
    }
}

/// Median of three numbers.
pub fn median3(a: f64, b: f64, c: f64) -> f64 {
    a.max(b).min(a.min(b).max(c))
}

/// Hyperliquid's ADL ranking of a position: `(mark / entry) · (notional /
/// account value)` for longs, `(entry / mark) · (notional / account value)`
/// for shorts (profit ratio times leverage); higher is deleveraged first.
pub fn adl_score(side: Side, mark: f64, entry: f64, notional_usd: f64, account_value_usd: f64) -> f64 {
    let profit = match side {
        Side::Long => mark / entry,
        Side::Short => entry / mark,
    };
    let lev = if account_value_usd > 0.0 {
        notional_usd / account_value_usd
    } else {
        f64::INFINITY
    };
    let s = profit * lev;
    if s.is_nan() { 0.0 } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got}, want {want}"
        );
    }

    fn btc() -> Vec<Tier> {
        vec![
            Tier {
                lower_bound_usd: 0.0,
                max_leverage: 40.0,
            },
            Tier {
                lower_bound_usd: 150e6,
                max_leverage: 20.0,
            },
        ]
    }

    /// H1: interest 0.01 %, impact bid $10,100, oracle $10,000: premium 1 %,
    /// F_8h = 0.95 %, hourly 0.11875 %, 10 BTC pay $118.75 an hour.
    #[test]
    fn h1_funding_example() {
        let rule = FundingRule::HYPERLIQUID;
        let p = premium_sample(10_100.0, 10_150.0, 10_000.0);
        check(p, 0.01, 1e-12);
        let f = funding_rate_8h(p, &rule);
        check(f, 0.0095, 1e-12);
        let h = hourly_rate(f, &rule);
        check(h, 0.0011875, 1e-12);
        check(10.0 * 10_000.0 * h, 118.75, 1e-12);
        // A huge premium is capped at 4 %/hour.
        check(hourly_rate(funding_rate_8h(1.0, &rule), &rule), 0.04, 1e-12);
        // No premium: the interest rate alone.
        check(funding_rate_8h(0.0, &rule), 0.0001, 1e-12);
    }

    /// H2: BTC tiers 40x to $150M, then 20x: mmr 1.25 % → 2.5 %, deduction
    /// $1.875M; a $200M position needs $3.125M of maintenance margin.
    #[test]
    fn h2_tiered_maintenance_margin() {
        let t = btc();
        check(maintenance_rate(&t[0]), 0.0125, 1e-15);
        check(maintenance_rate(&t[1]), 0.025, 1e-15);
        check(tier_deduction(&t, 1), 1.875e6, 1e-12);
        check(maintenance_margin_usd(&t, 200e6), 3.125e6, 1e-12);
        check(maintenance_margin_usd(&t, 100e6), 1.25e6, 1e-12);
        // Continuous at the boundary.
        check(maintenance_margin_usd(&t, 150e6), 150e6 * 0.0125, 1e-12);
        assert_eq!(max_leverage(&t, 200e6), 20.0);
    }

    /// The liquidation price satisfies equity = maintenance margin, and in
    /// one tier it is the official formula. By hand: a 10x long of 1 BTC at
    /// $100,000 with $10,000 margin, mmr 1.25 %: p = (100,000 − 10,000) /
    /// 0.9875 = $91,139.24.
    #[test]
    fn liquidation_price_by_hand_and_by_definition() {
        let t = btc();
        let p = liquidation_price(Side::Long, 100_000.0, 1.0, 10_000.0, &t).unwrap();
        check(p, 90_000.0 / 0.9875, 1e-12);
        // The official form from the current price P0 = 100,000.
        let (p0, q, m, r) = (100_000.0, 1.0, 10_000.0, 0.0125);
        let avail = m + q * (p0 - 100_000.0) - r * q * p0;
        check(p, p0 - avail / q / (1.0 - r), 1e-12);
        let s = liquidation_price(Side::Short, 100_000.0, 1.0, 10_000.0, &t).unwrap();
        check(s, 110_000.0 / 1.0125, 1e-12);
        // Across tiers: a 2,000 BTC long ($200M at $100k) with $12M margin.
        let big = liquidation_price(Side::Long, 100_000.0, 2000.0, 12e6, &t).unwrap();
        let equity = 12e6 + 2000.0 * (big - 100_000.0);
        check(equity, maintenance_margin_usd(&t, 2000.0 * big), 1e-9);
        // Over-collateralized long: no positive liquidation price.
        assert_eq!(liquidation_price(Side::Long, 100.0, 1.0, 150.0, &t), None);
    }

    /// L1: a single long of 10 at mark $100, M = 5 %, AV $30, MMR $50:
    /// z = 100 · (1 − 0.05 · 30 / 50) = $97; closing fully at $97 leaves AV = 0.
    #[test]
    fn l1_zero_price() {
        let z = zero_price(Side::Long, 100.0, 0.05, 30.0, 50.0);
        check(z, 97.0, 1e-12);
        check(30.0 - 10.0 * (100.0 - z), 0.0, 1e-9);
        check(zero_price(Side::Short, 100.0, 0.05, 30.0, 50.0), 103.0, 1e-12);
    }

    #[test]
    fn median_and_adl_score() {
        assert_eq!(median3(1.0, 3.0, 2.0), 2.0);
        assert_eq!(median3(3.0, 1.0, 2.0), 2.0);
        assert_eq!(median3(2.0, 2.0, 9.0), 2.0);
        // A 2x long up 50 % ranks above a 5x long up 10 %? 1.5·2 = 3 < 1.1·5 = 5.5.
        let a = adl_score(Side::Long, 150.0, 100.0, 300.0, 150.0);
        let b = adl_score(Side::Long, 110.0, 100.0, 550.0, 110.0);
        check(a, 3.0, 1e-12);
        check(b, 5.5, 1e-12);
        check(adl_score(Side::Short, 80.0, 100.0, 400.0, 100.0), 5.0, 1e-12);
    }
}
