//! Jupiter Perps (JLP) formulas as pure functions.
//!
//! Each follows MECHANISMS.md section 2 and is tested against the published
//! vectors of section 5 (J1, J3, J4).

use crate::units::BPS;
use crate::venue::Side;

/// Jupiter's dual-slope ("jump rate") borrow curve. Rates are APR fractions
/// (0.35 = 35 %/year); utilization is locked / owned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BorrowCurve {
    /// APR at zero utilization.
    pub min_rate: f64,
    /// APR at full utilization.
    pub max_rate: f64,
    /// APR at the target utilization (the kink).
    pub target_rate: f64,
    /// Utilization of the kink, in (0, 1).
    pub target_utilization: f64,
}

impl BorrowCurve {
    /// Jupiter's published example (MECHANISMS.md 2.3 and J1): 10 % APR at
    /// zero utilization, 60 % at the 80 % kink, 230 % at full utilization.
    pub const JUPITER_J1: BorrowCurve = BorrowCurve {
        min_rate: 0.10,
        max_rate: 2.30,
        target_rate: 0.60,
        target_utilization: 0.80,
    };
}

/// Borrow APR at utilization `u` (Jupiter dual slope, MECHANISMS.md 2.3):
/// `u < tU ? min + (target − min)/tU · u : target + (max − target)/(1 − tU) · (u − tU)`.
/// `u` is clamped to [0, 1].
pub fn borrow_rate_apr(u: f64, c: &BorrowCurve) -> f64 {
    let u = u.clamp(0.0, 1.0);
    if u < c.target_utilization {
        let lower = (c.target_rate - c.min_rate) / c.target_utilization;
        c.min_rate + lower * u
    } else {
        let upper = (c.max_rate - c.target_rate) / (1.0 - c.target_utilization);
        c.target_rate + upper * (u - c.target_utilization)
    }
}

/// Utilization of a custody: `locked / owned`, 0 if either is 0 (or negative).
pub fn utilization(locked_tokens: f64, owned_tokens: f64) -> f64 {
    if locked_tokens <= 0.0 || owned_tokens <= 0.0 {
        0.0
    } else {
        locked_tokens / owned_tokens
    }
}

/// Price-impact parameters of one market (MECHANISMS.md 2.4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImpactParams {
    /// Linear impact scalar S in USD: the linear fee fraction is size / S.
    /// 0 disables linear impact.
    pub scalar_usd: f64,
    /// Imbalance threshold of the additive impact, USD.
    pub additive_threshold_usd: f64,
    /// Additive factor: fee fraction per multiple of the threshold (1e-4 = 1 bps).
    /// 0 disables additive impact.
    pub additive_factor: f64,
    /// Exponent on (imbalance / threshold).
    pub additive_exponent: f64,
    /// Cap on the total fee (base + linear + additive), bps.
    pub max_fee_bps: f64,
    /// Length of the signed open-interest window, seconds (60 on Jupiter).
    pub window_s: u64,
}

impl ImpactParams {
    /// Jupiter's SOL market (docs.jup.ag "Fees" and Chaos Labs' June 2025
    /// recommendation): S = $1.25e9, additive 1e-4 per multiple of a $750k
    /// imbalance over 60 s, exponent 1, total fee capped at 50 bps.
    pub const JUPITER_SOL_2025: ImpactParams = ImpactParams {
        scalar_usd: 1.25e9,
        additive_threshold_usd: 750_000.0,
        additive_factor: 1e-4,
        additive_exponent: 1.0,
        max_fee_bps: 50.0,
        window_s: 60,
    };
}

/// Linear price-impact fee as a fraction of size: `size / S` (Jupiter,
/// MECHANISMS.md 2.4; fee = size² / S). 0 when `scalar_usd` is 0.
pub fn linear_impact_fraction(size_usd: f64, scalar_usd: f64) -> f64 {
    if scalar_usd > 0.0 { size_usd / scalar_usd } else { 0.0 }
}

/// Additive price-impact fee as a fraction of size:
/// `factor · (imbalance / threshold)^exponent` when the window imbalance
/// (including this trade) exceeds the threshold, else 0 (Jupiter "additive
/// on imbalance", Chaos Labs parameters; MECHANISMS.md 2.4).
pub fn additive_impact_fraction(imbalance_usd: f64, p: &ImpactParams) -> f64 {
    let d = imbalance_usd.abs();
    if p.additive_factor <= 0.0 || p.additive_threshold_usd <= 0.0 || d <= p.additive_threshold_usd {
        0.0
    } else {
        let x = d / p.additive_threshold_usd;
        p.additive_factor
            * if p.additive_exponent == 1.0 {
                x
            } else {
                x.powf(p.additive_exponent)
            }
    }
}

/// A position fee split by component, USD.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FeeSplit {
    /// Base open/close fee.
    pub base_usd: f64,
    /// Linear price impact.
    pub linear_usd: f64,
    /// Additive price impact.
    pub additive_usd: f64,
}

impl FeeSplit {
    /// Total fee, USD.
    pub fn total(&self) -> f64 {
        self.base_usd + self.linear_usd + self.additive_usd
    }

    /// Price-impact part, USD.
    pub fn impact(&self) -> f64 {
        self.linear_usd + self.additive_usd
    }

    /// The first `paid` USD of this fee, taken in order base, linear, additive.
    pub fn first(&self, paid: f64) -> FeeSplit {
        let base = self.base_usd.min(paid.max(0.0));
        let linear = self.linear_usd.min((paid - base).max(0.0));
        let additive = self.additive_usd.min((paid - base - linear).max(0.0));
        FeeSplit {
            base_usd: base,
            linear_usd: linear,
            additive_usd: additive,
        }
    }
}

/// Jupiter position fee on `size_usd`:
/// `totalBps = min(base + linear + additive, maxFee)`, `fee = size · totalBps`
/// (MECHANISMS.md 2.4). The cap is attributed to the impact components first:
/// the base fee is charged in full unless the cap is below it.
pub fn position_fee(size_usd: f64, base_bps: f64, linear_frac: f64, additive_frac: f64, max_fee_bps: f64) -> FeeSplit {
    let cap = max_fee_bps * BPS;
    let base = (base_bps * BPS).min(cap);
    let linear = linear_frac.min(cap - base).max(0.0);
    let additive = additive_frac.min(cap - base - linear).max(0.0);
    FeeSplit {
        base_usd: size_usd * base,
        linear_usd: size_usd * linear,
        additive_usd: size_usd * additive,
    }
}

/// Jupiter liquidation price (docs.jup.ag "Liquidation", MECHANISMS.md 2.5):
/// `entry ∓ (collateral − closeFee − borrowFee − maintenance·size) · entry / size`
/// (− for longs, + for shorts). The docs write the bracket in absolute value;
/// this keeps its sign, which agrees while the position is solvent and gives
/// a price already passed when it is not.
pub fn liquidation_price(
    side: Side,
    entry_price: f64,
    size_usd: f64,
    collateral_usd: f64,
    close_fee_usd: f64,
    borrow_fee_usd: f64,
    maintenance_margin: f64,
) -> f64 {
    let buffer = collateral_usd - close_fee_usd - borrow_fee_usd - maintenance_margin * size_usd;
    match side {
        Side::Long => entry_price - buffer * entry_price / size_usd,
        Side::Short => entry_price + buffer * entry_price / size_usd,
    }
}

/// Trader PnL of a position at `price` (no fees), USD.
pub fn position_pnl_usd(side: Side, size_usd: f64, entry_price: f64, price: f64) -> f64 {
    match side {
        Side::Long => size_usd * (price / entry_price - 1.0),
        Side::Short => size_usd * (1.0 - price / entry_price),
    }
}

/// AUM of one custody (Jupiter "JLP Economics", MECHANISMS.md 2.2).
///
/// Stable: `owned · price`. Non-stable:
/// `nav = (owned − locked) · price + guaranteedUsd`, then the global short
/// PnL `shortSize · |avg − price| / avg` is added when shorts are losing
/// (price > avg) and subtracted otherwise.
#[allow(clippy::too_many_arguments)]
pub fn custody_aum_usd(
    stable: bool,
    owned_tokens: f64,
    locked_tokens: f64,
    price: f64,
    guaranteed_usd: f64,
    global_short_size_usd: f64,
    global_short_avg_price: f64,
) -> f64 {
    if stable {
        return owned_tokens * price;
    }
    let nav = (owned_tokens - locked_tokens) * price + guaranteed_usd;
    if global_short_size_usd <= 0.0 || global_short_avg_price <= 0.0 {
        return nav;
    }
    let pnl = global_short_size_usd * (global_short_avg_price - price).abs() / global_short_avg_price;
    if price > global_short_avg_price {
        nav + pnl
    } else {
        nav - pnl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// J1 (space-station "how it works"): min 10 %, max 230 %, target 60 %,
    /// target utilization 80 % ⇒ 35 % APR at u = 40 % and 145 % at u = 90 %.
    #[test]
    fn j1_dual_slope_borrow_rates() {
        let c = BorrowCurve::JUPITER_J1;
        assert_eq!(
            (c.min_rate, c.target_rate, c.max_rate, c.target_utilization),
            (0.10, 0.60, 2.30, 0.80)
        );
        let cases = [(0.40, 0.35), (0.90, 1.45), (0.0, 0.10), (0.80, 0.60), (1.0, 2.30)];
        for (u, want) in cases {
            assert!(close(borrow_rate_apr(u, &c), want, 1e-12), "u={u}");
        }
        // "$0.40/h on $10k" at 35 % and "$1.66/h" at 145 % (rounded in the docs).
        let per_hour = |apr: f64| 10_000.0 * apr / 8760.0;
        assert!((per_hour(borrow_rate_apr(0.40, &c)) - 0.40).abs() < 0.005);
        assert!((per_hour(borrow_rate_apr(0.90, &c)) - 1.66).abs() < 0.005);
        // Third-party test: owned 100, locked 90 ⇒ 14500 bps.
        assert!(close(
            borrow_rate_apr(utilization(90.0, 100.0), &c) / BPS,
            14_500.0,
            1e-12
        ));
    }

    /// J3: $10,000 at S = $1.25e9 ⇒ 0.08 bps and a $0.08 fee; $100,000 at the
    /// on-chain scalar 3.75e15 (S = 3.75e9 USD) ⇒ 0.2667 bps.
    #[test]
    fn j3_linear_impact() {
        let f = linear_impact_fraction(10_000.0, 1.25e9);
        assert!(close(f / BPS, 0.08, 1e-12));
        assert!(close(10_000.0 * f, 0.08, 1e-12));
        let onchain_scalar = 3.75e15;
        let f2 = linear_impact_fraction(100_000.0, onchain_scalar / 1e6);
        assert!((f2 / BPS - 0.2667).abs() < 5e-5);
    }

    /// J4: 10x long, entry $100, size $1000, collateral $100, close fee $0.60,
    /// borrow $0 ⇒ liquidation price $90.26.
    #[test]
    fn j4_liquidation_price() {
        let p = liquidation_price(Side::Long, 100.0, 1000.0, 100.0, 0.60, 0.0, 1.0 / 500.0);
        assert!(close(p, 90.26, 1e-12), "{p}");
        let s = liquidation_price(Side::Short, 100.0, 1000.0, 100.0, 0.60, 0.0, 1.0 / 500.0);
        assert!(close(s, 109.74, 1e-12), "{s}");
    }

    /// Chaos Labs (June 2025): SOL, $100k trade at an imbalance of $5M
    /// (5.1M after the trade), threshold $750k, factor 1e-4, exponent 1,
    /// S = 1.25e9, base 6 bps ⇒ 13.6 bps in total.
    #[test]
    fn additive_impact_matches_the_published_sol_example() {
        let p = ImpactParams::JUPITER_SOL_2025;
        let size = 100_000.0;
        let fee = position_fee(
            size,
            6.0,
            linear_impact_fraction(size, p.scalar_usd),
            additive_impact_fraction(5_100_000.0, &p),
            p.max_fee_bps,
        );
        assert!(close(fee.total() / size / BPS, 13.6, 1e-12), "{fee:?}");
        assert_eq!(additive_impact_fraction(700_000.0, &p), 0.0);
    }

    #[test]
    fn fee_cap_applies_to_the_total_and_keeps_the_base() {
        let f = position_fee(1e6, 6.0, 40.0 * BPS, 30.0 * BPS, 50.0);
        assert!(close(f.total(), 1e6 * 50.0 * BPS, 1e-12));
        assert!(close(f.base_usd, 600.0, 1e-12));
        assert!(close(f.linear_usd, 4000.0, 1e-12));
        assert!(close(f.additive_usd, 400.0, 1e-12));
        let part = f.first(700.0);
        assert!(close(part.base_usd, 600.0, 1e-12) && close(part.linear_usd, 100.0, 1e-12));
        assert_eq!(part.additive_usd, 0.0);
    }

    /// The AUM formula equals the sum of custody holdings minus what open
    /// positions are worth to traders, computed position by position.
    #[test]
    fn custody_aum_nets_out_trader_claims() {
        // Longs: 2 positions; shorts: 2 positions; price 120.
        let price = 120.0;
        let longs = [(10_000.0, 1_000.0, 100.0), (5_000.0, 2_500.0, 110.0)]; // size, col, entry
        let shorts = [(8_000.0, 100.0), (4_000.0, 150.0)]; // size, entry
        let owned = 1_000.0;
        let locked: f64 = longs.iter().map(|(s, _, e)| s / e).sum();
        let guaranteed: f64 = longs.iter().map(|(s, c, _)| s - c).sum();
        let short_size: f64 = shorts.iter().map(|(s, _)| s).sum();
        let short_tokens: f64 = shorts.iter().map(|(s, e)| s / e).sum();
        let aum = custody_aum_usd(
            false,
            owned,
            locked,
            price,
            guaranteed,
            short_size,
            short_size / short_tokens,
        );
        let long_claims: f64 = longs
            .iter()
            .map(|(s, c, e)| c + position_pnl_usd(Side::Long, *s, *e, price))
            .sum();
        let short_pnl: f64 = shorts
            .iter()
            .map(|(s, e)| position_pnl_usd(Side::Short, *s, *e, price))
            .sum();
        let want = owned * price - long_claims - short_pnl;
        assert!(close(aum, want, 1e-12), "{aum} vs {want}");
    }
}
