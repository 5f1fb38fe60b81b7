//! A limit order book described by its resting depth, walked by takers in
//! closed form.
//!
//! Each side's depth density, in USD (at the mid) per basis point of
//! distance from the mid, is `a` at the touch (half a spread from the mid)
//! and either flat or decaying exponentially with distance, out to a last
//! level; beyond it the side is empty. `a` is the other makers' depth times
//! the scenario's depth multiplier plus the vault's own quotes. Within a
//! step each side remembers how much depth takers have consumed; the book
//! re-forms around the step's mid at the next step.

use crate::units::gt0;

/// Shape of resting depth on each side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthProfile {
    /// Other makers' depth at the touch, USD per bps.
    pub touch_usd_per_bps: f64,
    /// E-folding distance of the depth, bps (0: flat).
    pub decay_bps: f64,
    /// Distance of the last resting level, bps (< 10,000).
    pub max_bps: f64,
    /// Half the bid-ask spread, bps.
    pub half_spread_bps: f64,
}

/// Depth consumed from one side with density `a` at the touch: the
/// marginal distance and the integral of distance over consumed notional.
#[derive(Debug, Clone, Copy)]
struct Side {
    a: f64,
    decay: f64,
    s: f64,
    x_max: f64,
}

impl Side {
    fn capacity(&self) -> f64 {
        if !gt0(self.a) || self.x_max <= self.s {
            return 0.0;
        }
        let w = self.x_max - self.s;
        if self.decay > 0.0 {
            self.a * self.decay * (1.0 - (-w / self.decay).exp())
        } else {
            self.a * w
        }
    }

    /// Distance (bps) of the marginal level after consuming `q` (≤ capacity).
    fn distance(&self, q: f64) -> f64 {
        if !gt0(self.a) {
            return self.x_max;
        }
        if q <= 0.0 {
            return self.s;
        }
        let x = if self.decay > 0.0 {
            let u = (1.0 - q / (self.a * self.decay)).max(f64::MIN_POSITIVE);
            self.s - self.decay * u.ln()
        } else {
            self.s + q / self.a
        };
        x.min(self.x_max)
    }

    /// Depth within distance `x` (bps) and ∫₀^that distance dq', without a logarithm.
    fn to_distance(self, x: f64) -> (f64, f64) {
        let x = x.min(self.x_max);
        if x <= self.s || !gt0(self.a) {
            return (0.0, 0.0);
        }
        let w = x - self.s;
        if self.decay > 0.0 {
            let c = self.a * self.decay;
            let z = w / self.decay;
            let u = (-z).exp();
            let q = c * (1.0 - u);
            // u ln u with ln u = −z.
            (q, self.s * q + self.decay * c * (1.0 - u - u * z))
        } else {
            let q = self.a * w;
            (q, self.s * q + q * q / (2.0 * self.a))
        }
    }

    /// ∫₀^q distance(q') dq', bps·USD.
    fn integral(&self, q: f64) -> f64 {
        if !gt0(q) || !gt0(self.a) {
            return 0.0;
        }
        if self.decay > 0.0 {
            let c = self.a * self.decay;
            let u = (1.0 - q / c).max(0.0);
            let ulnu = if u > 0.0 { u * u.ln() } else { 0.0 };
            self.s * q + self.decay * c * (ulnu - u + 1.0)
        } else {
            self.s * q + q * q / (2.0 * self.a)
        }
    }
}

/// A taker fill.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fill {
    /// Notional filled, USD at the step's mid (coins = this / mid).
    pub depth_usd: f64,
    /// Coins filled.
    pub coins: f64,
    /// Average price of the fill, USD.
    pub vwap: f64,
    /// Price of the last level reached, USD.
    pub last: f64,
    /// Coins the vault's quotes took (the other side of the taker).
    pub vault_coins: f64,
}

/// One market's book within a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Book {
    /// The mid the book is centred on this step, USD.
    pub mid: f64,
    /// Depth consumed by takers: [bids (by sells), asks (by buys)], USD at the mid.
    pub consumed: [f64; 2],
    /// Density at the touch per side, USD per bps: [bids, asks].
    pub scale: [f64; 2],
    /// Vault's share of each side's depth.
    pub vault_share: [f64; 2],
    /// Depth each side holds when untouched, USD at the mid.
    pub capacity: [f64; 2],
    /// Last taker fill price (the mid when none since the book re-formed), USD.
    pub last: f64,
    /// Resting depth shape.
    pub profile: DepthProfile,
    /// Depth a side holds per USD/bps of density at the touch, bps.
    unit_capacity: f64,
}

impl Book {
    /// A book centred on `mid` with nothing consumed.
    pub fn new(profile: DepthProfile, mid: f64) -> Book {
        Book {
            mid,
            consumed: [0.0; 2],
            scale: [profile.touch_usd_per_bps; 2],
            vault_share: [0.0; 2],
            capacity: [0.0; 2],
            last: mid,
            profile,
            unit_capacity: Side {
                a: 1.0,
                decay: profile.decay_bps,
                s: profile.half_spread_bps,
                x_max: profile.max_bps,
            }
            .capacity(),
        }
    }

    /// Re-forms the book around `mid`: others' depth times `multiplier`
    /// ([bids, asks]), plus the vault's `vault_usd_per_bps` per side.
    pub fn reform(&mut self, mid: f64, multiplier: [f64; 2], vault_usd_per_bps: [f64; 2]) {
        self.mid = mid;
        self.consumed = [0.0; 2];
        self.last = mid;
        for k in 0..2 {
            let others = (self.profile.touch_usd_per_bps * multiplier[k]).max(0.0);
            let v = vault_usd_per_bps[k].max(0.0);
            self.scale[k] = others + v;
            self.vault_share[k] = if self.scale[k] > 0.0 { v / self.scale[k] } else { 0.0 };
            self.capacity[k] = self.scale[k] * self.unit_capacity;
        }
    }

    fn side(&self, k: usize) -> Side {
        Side {
            a: self.scale[k],
            decay: self.profile.decay_bps,
            s: self.profile.half_spread_bps,
            x_max: self.profile.max_bps,
        }
    }

    fn price_at(&self, k: usize, bps: f64) -> f64 {
        match k {
            0 => self.mid * (1.0 - bps * 1e-4),
            _ => self.mid * (1.0 + bps * 1e-4),
        }
    }

    /// Best bid and best ask now, USD.
    pub fn best(&self) -> (f64, f64) {
        let bid = self.price_at(0, self.side(0).distance(self.consumed[0]));
        let ask = self.price_at(1, self.side(1).distance(self.consumed[1]));
        (bid, ask)
    }

    /// Depth left on a side (0 bids, 1 asks), USD at the mid.
    pub fn remaining(&self, k: usize) -> f64 {
        (self.capacity[k] - self.consumed[k]).max(0.0)
    }

    /// Price a taker would get for `depth_usd` now, without trading: (vwap, filled).
    pub fn quote(&self, buy: bool, depth_usd: f64) -> (f64, f64) {
        let k = usize::from(buy);
        let side = self.side(k);
        let c = self.consumed[k];
        let n = depth_usd.min(self.capacity[k] - c).max(0.0);
        if !gt0(n) {
            return (self.price_at(k, side.distance(c)), 0.0);
        }
        let bps = (side.integral(c + n) - side.integral(c)) / n;
        (self.price_at(k, bps), n)
    }

    /// A taker buys (`buy`) or sells `depth_usd` of notional at the mid,
    /// walking the book no further than `limit` (a price; `None`: the last
    /// level). Fills as much as the side holds within the limit.
    pub fn take(&mut self, buy: bool, depth_usd: f64, limit: Option<f64>) -> Fill {
        let k = usize::from(buy);
        let side = self.side(k);
        let c = self.consumed[k];
        let room = self.capacity[k] - c;
        let int_c = side.integral(c);
        if let Some(lim) = limit {
            // Depth available before the limit price.
            let lim_bps = match k {
                0 => (1.0 - lim / self.mid) * 1e4,
                _ => (lim / self.mid - 1.0) * 1e4,
            };
            let (reach, int_reach) = side.to_distance(lim_bps);
            if reach - c < room && reach - c <= depth_usd {
                // The limit binds: the walk ends at the limit's level.
                let n = reach - c;
                if !gt0(n) || !gt0(self.mid) {
                    return Fill::default();
                }
                return self.fill(k, n, (int_reach - int_c) / n, lim_bps.min(side.x_max));
            }
        }
        let n = depth_usd.min(room).max(0.0);
        if !gt0(n) || !gt0(self.mid) {
            return Fill::default();
        }
        let bps = (side.integral(c + n) - int_c) / n;
        self.fill(k, n, bps, side.distance(c + n))
    }

    /// Arbitrageurs move the book's mid to `target`: from the book as the
    /// step left it, re-formed around its mid with the other makers' depth
    /// times `multiplier` plus the vault's stale quotes `stale_usd_per_bps`,
    /// they take every quote on the side toward `target` priced through it
    /// (asks below it, bids above it); the rest of the book re-quotes around
    /// `target`. Only the vault's part of that fill is tracked, so the walk
    /// is skipped (an empty fill) when the vault has no stale quote on that
    /// side. The book is left for the caller to re-form at `target`.
    pub fn arbitrage(&mut self, target: f64, multiplier: [f64; 2], stale_usd_per_bps: [f64; 2]) -> Fill {
        self.arbitrage_from(self.mid_now(), target, multiplier, stale_usd_per_bps)
    }

    /// [`Book::arbitrage`] with the book's current mid, `mid`, already known.
    pub fn arbitrage_from(&mut self, mid: f64, target: f64, multiplier: [f64; 2], stale_usd_per_bps: [f64; 2]) -> Fill {
        if !gt0(mid) || !gt0(target) || target == mid {
            return Fill::default();
        }
        let buy = target > mid;
        let k = usize::from(buy);
        let v = stale_usd_per_bps[k].max(0.0);
        if !gt0(v) {
            return Fill::default();
        }
        let a = (self.profile.touch_usd_per_bps * multiplier[k]).max(0.0) + v;
        let side = Side {
            a,
            decay: self.profile.decay_bps,
            s: self.profile.half_spread_bps,
            x_max: self.profile.max_bps,
        };
        let reach_bps = (target / mid - 1.0).abs() * 1e4;
        let (n, int) = side.to_distance(reach_bps);
        if !gt0(n) {
            return Fill::default();
        }
        let bps = int / n;
        let sign = if buy { 1.0 } else { -1.0 };
        let coins = n / mid;
        let last = mid * (1.0 + sign * reach_bps.min(side.x_max) * 1e-4);
        self.last = last;
        Fill {
            depth_usd: n,
            coins,
            vwap: mid * (1.0 + sign * bps * 1e-4),
            last,
            vault_coins: coins * v / a,
        }
    }

    /// Books a fill of `n` USD on side `k` at an average distance of `bps`,
    /// ending at `last_bps`.
    fn fill(&mut self, k: usize, n: f64, bps: f64, last_bps: f64) -> Fill {
        self.consumed[k] += n;
        let vwap = self.price_at(k, bps);
        let last = self.price_at(k, last_bps);
        self.last = last;
        let coins = n / self.mid;
        Fill {
            depth_usd: n,
            coins,
            vwap,
            last,
            vault_coins: coins * self.vault_share[k],
        }
    }

    /// The mid between the best bid and ask now, USD.
    pub fn mid_now(&self) -> f64 {
        let (b, a) = self.best();
        0.5 * (b + a)
    }

    /// Median of best bid, best ask and the last fill, USD (the book's input to the mark).
    pub fn book_price(&self) -> f64 {
        let (b, a) = self.best();
        super::formulas::median3(b, a, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> DepthProfile {
        DepthProfile {
            touch_usd_per_bps: 10_000.0,
            decay_bps: 0.0,
            max_bps: 500.0,
            half_spread_bps: 1.0,
        }
    }

    #[track_caller]
    fn check(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got}, want {want}"
        );
    }

    /// Flat depth of $10k per bps from 1 bps: selling $100k reaches 11 bps;
    /// the average is 6 bps below the mid; the last price 11 bps below.
    #[test]
    fn flat_book_by_hand() {
        let mut b = Book::new(flat(), 100.0);
        b.reform(100.0, [1.0; 2], [0.0; 2]);
        let f = b.take(false, 100_000.0, None);
        check(f.depth_usd, 100_000.0, 1e-12);
        check(f.coins, 1000.0, 1e-12);
        check(f.vwap, 100.0 * (1.0 - 6e-4), 1e-12);
        check(f.last, 100.0 * (1.0 - 11e-4), 1e-12);
        check(b.best().0, f.last, 1e-12);
        check(b.best().1, 100.0 * 1.0001, 1e-12);
        // The book's input to the mark is the last fill.
        check(b.book_price(), f.last, 1e-12);
        // Capacity: 499 bps · $10k.
        check(b.remaining(0), 4_990_000.0 - 100_000.0, 1e-12);
        // More than the book holds fills partially.
        let g = b.take(false, 1e9, None);
        check(g.depth_usd, 4_890_000.0, 1e-12);
        check(g.last, 100.0 * (1.0 - 0.05), 1e-12);
        assert_eq!(b.take(false, 1.0, None).coins, 0.0);
    }

    /// With a limit the fill stops at the limit price.
    #[test]
    fn limits_stop_the_walk() {
        let mut b = Book::new(flat(), 100.0);
        b.reform(100.0, [1.0; 2], [0.0; 2]);
        let f = b.take(false, 1e9, Some(99.9)); // 10 bps: 9 bps of depth
        check(f.depth_usd, 90_000.0, 1e-12);
        check(f.last, 99.9, 1e-12);
        assert_eq!(b.take(true, 1e9, Some(99.0)).coins, 0.0);
    }

    /// Arbitrageurs moving the mid from 100 to 100.1 (10 bps) take the asks
    /// from 1 to 10 bps: with $10k/bps of others and $10k/bps of stale vault
    /// quotes that is 9 bps · $20k = $180k at 5.5 bps on average, half of it
    /// the vault's.
    #[test]
    fn arbitrage_takes_quotes_priced_through_the_target() {
        let mut b = Book::new(flat(), 100.0);
        b.reform(100.0, [1.0; 2], [0.0; 2]);
        let f = b.arbitrage(100.1, [1.0; 2], [0.0, 10_000.0]);
        check(f.depth_usd, 180_000.0, 1e-9);
        check(f.vwap, 100.0 * (1.0 + 5.5e-4), 1e-12);
        check(f.vault_coins, 900.0, 1e-9);
        check(f.last, 100.1, 1e-12);
        // No stale vault quote on the side: nothing tracked trades.
        assert_eq!(b.arbitrage(99.0, [1.0; 2], [0.0, 10_000.0]), Fill::default());
        // A move inside the spread takes nothing.
        assert_eq!(b.arbitrage(100.005, [1.0; 2], [0.0, 10_000.0]).coins, 0.0);
    }

    /// A limit order on an exponential book fills the same as the same
    /// depth without a limit (the closed form at the limit level and the
    /// logarithmic walk agree), from a fresh book and from a walked one.
    #[test]
    fn limit_walk_matches_the_depth_walk_on_exponential_depth() {
        let p = DepthProfile {
            decay_bps: 25.0,
            ..flat()
        };
        for pre in [0.0, 50_000.0] {
            let mut a = Book::new(p, 80.0);
            a.reform(80.0, [1.0; 2], [2_000.0; 2]);
            a.take(false, pre, None);
            let mut b = a;
            let fa = a.take(false, 1e12, Some(80.0 * (1.0 - 30e-4)));
            let fb = b.take(false, fa.depth_usd, None);
            check(fa.vwap, fb.vwap, 1e-12);
            check(fa.last, fb.last, 1e-9);
            check(fa.vault_coins, fb.vault_coins, 1e-12);
        }
    }

    /// Exponential depth: the integral matches a numerical sum, and the
    /// vault takes its share of every fill.
    #[test]
    fn exponential_book_and_vault_share() {
        let p = DepthProfile {
            decay_bps: 20.0,
            ..flat()
        };
        let mut b = Book::new(p, 50.0);
        b.reform(50.0, [0.5; 2], [5_000.0, 0.0]);
        check(b.scale[0], 10_000.0, 1e-12);
        check(b.vault_share[0], 0.5, 1e-12);
        let f = b.take(false, 150_000.0, None);
        // Numerically: march in $1 steps.
        let side = b.side(0);
        let mut sum = 0.0;
        let n = 150_000;
        for i in 0..n {
            sum += side.distance(i as f64 + 0.5);
        }
        check(f.vwap, 50.0 * (1.0 - sum / n as f64 * 1e-4), 1e-9);
        check(f.vault_coins, f.coins * 0.5, 1e-12);
        // A side emptied by the multiplier holds nothing.
        b.reform(50.0, [0.0; 2], [0.0; 2]);
        assert_eq!(b.take(true, 1.0, None).coins, 0.0);
        assert_eq!(b.remaining(1), 0.0);
    }

    /// One side emptied (bids vanish in a crash): sells fill nothing and
    /// the best bid sits at the last level; the asks still trade.
    #[test]
    fn one_sided_book() {
        let mut b = Book::new(flat(), 100.0);
        b.reform(100.0, [0.0, 1.0], [0.0; 2]);
        assert_eq!(b.remaining(0), 0.0);
        assert_eq!(b.take(false, 1e6, None), Fill::default());
        let (bid, ask) = b.best();
        check(bid, 100.0 * (1.0 - 0.05), 1e-12);
        check(ask, 100.0 * (1.0 + 1e-4), 1e-12);
        let f = b.take(true, 10_000.0, None);
        check(f.coins, 100.0, 1e-12);
        assert!(b.mid_now().is_finite() && b.book_price().is_finite());
    }
}
