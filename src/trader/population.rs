//! A population of traders: Poisson arrivals of new positions.

use crate::venue::{AUTO_COLLATERAL, Cx, ExitPlan, Order, OrderKind, Side, Venue};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Poisson, StandardNormal};

/// A one-dimensional distribution, clamped to `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dist {
    /// The shape.
    pub kind: DistKind,
    /// Values below are raised to this.
    pub min: f64,
    /// Values above are lowered to this.
    pub max: f64,
}

/// Distribution shapes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DistKind {
    /// Always `value`.
    Fixed { value: f64 },
    /// Uniform on [lo, hi].
    Uniform { lo: f64, hi: f64 },
    /// exp(N(ln median, sigma²)).
    LogNormal { median: f64, sigma: f64 },
    /// Pareto with scale `scale` (the minimum) and tail index `alpha`:
    /// P(X > x) = (scale / x)^alpha.
    Pareto { scale: f64, alpha: f64 },
    /// Exponential with mean `mean`.
    Exponential { mean: f64 },
}

impl Dist {
    /// Draws one value. Every shape uses one uniform or one normal draw.
    pub fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let v = match self.kind {
            DistKind::Fixed { value } => value,
            DistKind::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
            DistKind::LogNormal { median, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                median * (sigma * z).exp()
            }
            DistKind::Pareto { scale, alpha } => {
                let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
                scale * u.powf(-1.0 / alpha)
            }
            DistKind::Exponential { mean } => {
                let u: f64 = 1.0 - rng.random::<f64>();
                -mean * u.ln()
            }
        };
        v.clamp(self.min, self.max)
    }

    /// Mean of the unclamped shape (infinite for Pareto with alpha ≤ 1).
    pub fn mean(&self) -> f64 {
        match self.kind {
            DistKind::Fixed { value } => value,
            DistKind::Uniform { lo, hi } => 0.5 * (lo + hi),
            DistKind::LogNormal { median, sigma } => median * (0.5 * sigma * sigma).exp(),
            DistKind::Pareto { scale, alpha } => {
                if alpha > 1.0 {
                    scale * alpha / (alpha - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            DistKind::Exponential { mean } => mean,
        }
    }

    /// Readable form, values shown by `show` (e.g. as USD or a duration).
    pub fn describe(&self, show: impl Fn(f64) -> String) -> String {
        let shape = match self.kind {
            DistKind::Fixed { value } => show(value),
            DistKind::Uniform { lo, hi } => format!("uniform {} to {}", show(lo), show(hi)),
            DistKind::LogNormal { median, sigma } => format!("lognormal, median {}, sigma {sigma}", show(median)),
            DistKind::Pareto { scale, alpha } => format!("pareto from {}, alpha {alpha}", show(scale)),
            DistKind::Exponential { mean } => format!("exponential, mean {}", show(mean)),
        };
        let mut bounds = Vec::new();
        if self.min > 0.0 {
            bounds.push(format!("min {}", show(self.min)));
        }
        if self.max.is_finite() {
            bounds.push(format!("max {}", show(self.max)));
        }
        if bounds.is_empty() {
            shape
        } else {
            format!("{shape} ({})", bounds.join(", "))
        }
    }

    /// The 0.1th and 99.9th percentiles of the unclamped shape.
    fn tails(&self) -> (f64, f64) {
        match self.kind {
            DistKind::Fixed { value } => (value, value),
            DistKind::Uniform { lo, hi } => (lo + 0.001 * (hi - lo), hi - 0.001 * (hi - lo)),
            DistKind::LogNormal { median, sigma } => {
                (median * (-3.090_232 * sigma).exp(), median * (3.090_232 * sigma).exp())
            }
            DistKind::Pareto { scale, alpha } => (
                scale * (1.0 / 0.999f64).powf(1.0 / alpha),
                scale * 1000f64.powf(1.0 / alpha),
            ),
            DistKind::Exponential { mean } => (mean * -(0.999f64.ln()), mean * 1000f64.ln()),
        }
    }

    /// The 99.9th percentile of the clamped distribution.
    pub fn q999(&self) -> f64 {
        self.tails().1.clamp(self.min, self.max)
    }

    /// Whether the clamps touch at most 0.1 % of either tail.
    fn clamps_immaterial(&self) -> bool {
        let (lo, hi) = self.tails();
        self.min <= lo && self.max >= hi
    }

    /// A draw from the length-biased distribution (density ∝ x·f(x)): the
    /// total length of a holding that is in progress at a random moment.
    /// `None` when it has no finite mean (Pareto with alpha ≤ 1).
    fn sample_length_biased(&self, rng: &mut Xoshiro256PlusPlus) -> Option<f64> {
        let v = match self.kind {
            DistKind::Fixed { value } => value,
            DistKind::Uniform { lo, hi } => (lo * lo + rng.random::<f64>() * (hi * hi - lo * lo)).sqrt(),
            DistKind::LogNormal { median, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                median * (sigma * sigma + sigma * z).exp()
            }
            DistKind::Pareto { scale, alpha } if alpha > 1.0 => {
                let u: f64 = 1.0 - rng.random::<f64>();
                scale * u.powf(-1.0 / (alpha - 1.0))
            }
            DistKind::Pareto { .. } => return None,
            DistKind::Exponential { mean } => {
                let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), 1.0 - rng.random::<f64>());
                -mean * (u1.ln() + u2.ln())
            }
        };
        Some(v.clamp(self.min, self.max))
    }
}

/// A stop-loss or take-profit habit: the share of arrivals that set one,
/// and its level as a return on collateral (0.5 = half the collateral).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExitRule {
    /// Probability that an arrival sets this exit.
    pub probability: f64,
    /// Trigger as a fraction of collateral lost (stop) or gained (target).
    pub roe: f64,
}

/// The trader population of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationParams {
    /// Number of trader accounts; arrivals pick one uniformly, and positions
    /// of the same account, market, side and collateral merge.
    pub accounts: u32,
    /// Arrivals of new orders per hour (Poisson).
    pub arrival_rate_per_hour: f64,
    /// Markets traded (scenario asset indices) and their cumulative weights.
    pub markets: Vec<usize>,
    pub market_cum_weights: Vec<f64>,
    /// Probability that an arrival in each market (same order) is long.
    pub long_share: Vec<f64>,
    /// Stablecoins used as short collateral and their cumulative weights.
    pub short_collateral: Vec<usize>,
    pub short_collateral_cum_weights: Vec<f64>,
    /// Leverage (size / collateral), before the venue's cap.
    pub leverage: Dist,
    /// Position size, USD.
    pub notional_usd: Dist,
    /// Time until the trader closes, seconds.
    pub holding_s: Dist,
    /// Stop-loss habit, if any.
    pub stop_loss: Option<ExitRule>,
    /// Take-profit habit, if any.
    pub take_profit: Option<ExitRule>,
    /// Start each path with the stationary book (positions opened before
    /// t = 0 that are still open) rather than an empty one.
    pub warm_start: bool,
}

/// One arrival's random draws, made before the venue is consulted.
#[derive(Debug, Clone, Copy)]
struct Draw {
    account: u32,
    market: usize,
    long: bool,
    collateral: usize,
    notional_usd: f64,
    leverage: f64,
    holding_s: f64,
    stop: bool,
    target: bool,
}

/// The population's state on one path for one venue.
#[derive(Debug, Clone)]
pub struct Population<'a> {
    p: &'a PopulationParams,
    rng: Xoshiro256PlusPlus,
    /// A separate stream for the warm start, so the arrivals after t = 0
    /// are the same whether or not the book starts warm.
    warm_rng: Xoshiro256PlusPlus,
    rate_per_s: f64,
    next_arrival_s: f64,
}

impl<'a> Population<'a> {
    /// A population drawing from the stream seeded by `seed`.
    pub fn new(p: &'a PopulationParams, seed: u64) -> Population<'a> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let warm_rng = Xoshiro256PlusPlus::seed_from_u64(crate::montecarlo::seed::splitmix64(seed));
        let rate_per_s = p.arrival_rate_per_hour / 3600.0;
        let next_arrival_s = exp_gap(&mut rng, rate_per_s);
        Population {
            p,
            rng,
            warm_rng,
            rate_per_s,
            next_arrival_s,
        }
    }

    /// One arrival: the holding time first, then everything else.
    fn draw(p: &PopulationParams, rng: &mut Xoshiro256PlusPlus) -> Draw {
        let holding_s = p.holding_s.sample(rng);
        Self::draw_rest(p, rng, holding_s)
    }

    fn draw_rest(p: &PopulationParams, rng: &mut Xoshiro256PlusPlus, holding_s: f64) -> Draw {
        let account = rng.random_range(0..p.accounts.max(1));
        let mi = pick(&p.market_cum_weights, rng.random::<f64>());
        let long = rng.random::<f64>() < p.long_share[mi];
        let ci = pick(&p.short_collateral_cum_weights, rng.random::<f64>());
        let notional_usd = p.notional_usd.sample(rng);
        let leverage = p.leverage.sample(rng);
        let stop = p.stop_loss.is_some_and(|r| rng.random::<f64>() < r.probability);
        let target = p.take_profit.is_some_and(|r| rng.random::<f64>() < r.probability);
        Draw {
            account,
            market: p.markets[mi],
            long,
            collateral: p.short_collateral.get(ci).copied().unwrap_or(AUTO_COLLATERAL),
            notional_usd,
            leverage,
            holding_s,
            stop,
            target,
        }
    }

    fn order(p: &PopulationParams, d: &Draw, deadline_s: u64, venue: &dyn Venue) -> Option<Order> {
        if !venue.markets().contains(&d.market) {
            return None;
        }
        let side = if d.long { Side::Long } else { Side::Short };
        let collateral = venue.collateral_for(d.market, side, d.collateral)?;
        let (lo, hi) = venue.leverage_range(d.market);
        let leverage = d.leverage.clamp(lo, hi);
        let roe = |on: bool, rule: Option<ExitRule>| match (on, rule) {
            (true, Some(r)) => r.roe,
            _ => f64::INFINITY,
        };
        Some(Order {
            account: d.account,
            market: d.market,
            side,
            collateral,
            kind: OrderKind::Increase {
                size_usd: d.notional_usd,
                collateral_usd: d.notional_usd / leverage,
            },
            exit: ExitPlan {
                deadline_s,
                stop_loss_roe: roe(d.stop, p.stop_loss),
                take_profit_roe: roe(d.target, p.take_profit),
            },
            cross: false,
        })
    }

    /// Places the stationary starting book at t = 0: the positions that an
    /// arrival process running since long before t = 0 would have open now,
    /// each with its remaining holding time.
    ///
    /// When the holding time's clamps are immaterial (they cut at most 0.1 %
    /// of either tail) the book is sampled exactly: the number open is
    /// Poisson(rate · mean holding), each open position's total holding is
    /// length-biased and a uniform fraction of it remains. Otherwise
    /// arrivals are replayed over a window of the 99.9th percentile of
    /// holding time (capped at one million arrivals), which misses the
    /// positions that would have been open longer than that.
    pub fn warm_start(&mut self, venue: &mut dyn Venue, cx: &mut Cx) {
        if !self.p.warm_start || self.rate_per_s <= 0.0 {
            return;
        }
        let p = self.p;
        let rng = &mut self.warm_rng;
        let mean = p.holding_s.mean();
        if p.holding_s.clamps_immaterial() && mean.is_finite() {
            let n = Poisson::new(self.rate_per_s * mean).map_or(0.0, |d| d.sample(rng)) as u64;
            for _ in 0..n {
                let Some(total) = p.holding_s.sample_length_biased(rng) else {
                    break;
                };
                let remaining = total * (1.0 - rng.random::<f64>());
                let d = Self::draw_rest(p, rng, total);
                if let Some(o) = Self::order(p, &d, (remaining.ceil() as u64).max(1), venue) {
                    let _ = venue.submit(&o, cx);
                }
            }
            return;
        }
        let window = p.holding_s.q999().min(1e6 / self.rate_per_s);
        let mut t = -window + exp_gap(rng, self.rate_per_s);
        while t < 0.0 {
            let holding_s = p.holding_s.sample(rng);
            let end = t + holding_s;
            if end > 0.0 {
                let d = Self::draw_rest(p, rng, holding_s);
                if let Some(o) = Self::order(p, &d, end.ceil() as u64, venue) {
                    let _ = venue.submit(&o, cx);
                }
            }
            t += exp_gap(rng, self.rate_per_s);
        }
    }

    /// Submits every arrival due by `t_s` (seconds) at the current prices.
    pub fn arrivals(&mut self, venue: &mut dyn Venue, cx: &mut Cx) {
        let t = cx.t_s as f64;
        while self.next_arrival_s <= t {
            let d = Self::draw(self.p, &mut self.rng);
            let deadline = (t + d.holding_s).ceil() as u64;
            if let Some(o) = Self::order(self.p, &d, deadline.max(cx.t_s + 1), venue) {
                let _ = venue.submit(&o, cx);
            }
            self.next_arrival_s += exp_gap(&mut self.rng, self.rate_per_s);
        }
    }
}

fn exp_gap(rng: &mut Xoshiro256PlusPlus, rate_per_s: f64) -> f64 {
    if rate_per_s <= 0.0 {
        return f64::INFINITY;
    }
    let u: f64 = 1.0 - rng.random::<f64>();
    -u.ln() / rate_per_s
}

/// Index of the first cumulative weight above `u` (the last if none).
fn pick(cum: &[f64], u: f64) -> usize {
    cum.iter().position(|&c| u < c).unwrap_or(cum.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(kind: DistKind) -> Dist {
        Dist {
            kind,
            min: 0.0,
            max: f64::INFINITY,
        }
    }

    #[test]
    fn sample_means_match_the_shapes() {
        let cases = [
            dist(DistKind::LogNormal {
                median: 10.0,
                sigma: 0.5,
            }),
            dist(DistKind::Pareto { scale: 1.0, alpha: 3.0 }),
            dist(DistKind::Exponential { mean: 4.0 }),
            dist(DistKind::Uniform { lo: 2.0, hi: 6.0 }),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for d in cases {
            let n = 200_000;
            let mean: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((mean / d.mean() - 1.0).abs() < 0.02, "{d:?}: {mean} vs {}", d.mean());
        }
    }

    /// The length-biased mean is E[X²] / E[X]: lognormal m·e^(3σ²/2),
    /// exponential 2μ, uniform 2(hi³ − lo³) / (3(hi² − lo²)), Pareto
    /// scale·(α − 1)/(α − 2).
    #[test]
    fn length_biased_draws_have_the_length_biased_mean() {
        let cases = [
            (
                dist(DistKind::LogNormal {
                    median: 10.0,
                    sigma: 0.5,
                }),
                10.0 * (1.5f64 * 0.25).exp(),
            ),
            (dist(DistKind::Exponential { mean: 4.0 }), 8.0),
            (
                dist(DistKind::Uniform { lo: 2.0, hi: 6.0 }),
                2.0 * (216.0 - 8.0) / (3.0 * (36.0 - 4.0)),
            ),
            (dist(DistKind::Pareto { scale: 1.0, alpha: 4.0 }), 3.0 / 2.0),
            (dist(DistKind::Fixed { value: 3.0 }), 3.0),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for (d, want) in cases {
            let n = 400_000;
            let mean: f64 = (0..n).map(|_| d.sample_length_biased(&mut rng).unwrap()).sum::<f64>() / n as f64;
            assert!((mean / want - 1.0).abs() < 0.01, "{d:?}: {mean} vs {want}");
        }
        assert_eq!(
            dist(DistKind::Pareto { scale: 1.0, alpha: 0.9 }).sample_length_biased(&mut rng),
            None
        );
    }

    #[test]
    fn pareto_tail_probability() {
        // P(X > 10) = (1/10)^1.5 = 0.0316
        let d = dist(DistKind::Pareto { scale: 1.0, alpha: 1.5 });
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 400_000;
        let hits = (0..n).filter(|_| d.sample(&mut rng) > 10.0).count();
        let p = hits as f64 / n as f64;
        assert!((p - 0.031_623).abs() < 0.001, "{p}");
    }

    #[test]
    fn clamping_bounds_the_draws() {
        let d = Dist {
            kind: DistKind::LogNormal {
                median: 5.0,
                sigma: 2.0,
            },
            min: 1.1,
            max: 50.0,
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        assert!(
            (0..10_000)
                .map(|_| d.sample(&mut rng))
                .all(|x| (1.1..=50.0).contains(&x))
        );
    }

    #[test]
    fn pick_follows_cumulative_weights() {
        let cum = [0.6, 0.8, 1.0];
        assert_eq!(pick(&cum, 0.0), 0);
        assert_eq!(pick(&cum, 0.59), 0);
        assert_eq!(pick(&cum, 0.6), 1);
        assert_eq!(pick(&cum, 0.99), 2);
        assert_eq!(pick(&cum, 1.0), 2);
    }
}
