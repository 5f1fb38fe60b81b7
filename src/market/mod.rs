//! Exogenous prices: one process per asset, advanced step by step for a path.
//!
//! Processes are GBM, Merton jump diffusion, fixed (stablecoins) and knot
//! paths (a replayed CSV series or scenario waypoints, with optional
//! Brownian-bridge noise pinned at each knot). Diffusion drivers of the assets
//! named in the scenario's correlation block are correlated through a Cholesky
//! factor. This module never reads files: replays arrive already parsed as
//! [`KnotPath`]s.

mod correlation;
mod process;

pub use correlation::{Correlation, cholesky};
pub use process::{AssetSpec, KnotPath, Process};

use crate::units::SECONDS_PER_YEAR;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Exp, StandardNormal};

/// Lowest price a process may print, in USD. Keeps every division by a price
/// finite; a process that would go lower (only possible under absurd noise)
/// is floored here.
pub const PRICE_FLOOR_USD: f64 = 1e-12;

/// Per-asset state of a process during one path.
#[derive(Debug, Clone)]
enum State {
    Fixed,
    Diffusion {
        /// log price, ln(USD).
        log_price: f64,
        /// (mu - sigma^2/2) * dt - lambda * kappa * dt, per step.
        drift_step: f64,
        /// sigma * sqrt(dt), per step.
        vol_step: f64,
        /// Poisson jump intensity per second (0 for GBM).
        jump_rate_per_s: f64,
        jump_mean: f64,
        jump_vol: f64,
        /// Time of the next jump, seconds from path start.
        next_jump_s: f64,
    },
    Knots {
        /// Index of the knot at or before the current time.
        cursor: usize,
        /// Brownian-bridge value in log-price units at the current time.
        bridge: f64,
        /// Noise volatility per sqrt(second).
        vol_per_sqrt_s: f64,
    },
}

/// All asset prices of one path, advanced in lockstep.
#[derive(Debug, Clone)]
pub struct Market {
    specs: Vec<AssetSpec>,
    states: Vec<State>,
    /// Lower-triangular Cholesky factor (row-major, k×k) of the correlated group.
    chol: Vec<f64>,
    /// Asset indices of the correlated group, in matrix order.
    group: Vec<usize>,
    /// Whether each asset draws a diffusion normal each step.
    draws: Vec<bool>,
    /// Scratch: independent normals for the group.
    z_indep: Vec<f64>,
    /// Scratch: one normal per asset for the current step.
    z: Vec<f64>,
    prices: Vec<f64>,
    t_s: u64,
}

impl Market {
    /// Builds the market for the given assets; `correlation` may be absent.
    pub fn new(specs: &[AssetSpec], correlation: Option<&Correlation>) -> Market {
        let n = specs.len();
        let (group, chol) = match correlation {
            Some(c) => (c.assets.clone(), c.cholesky.clone()),
            None => (Vec::new(), Vec::new()),
        };
        let draws = specs.iter().map(|s| s.process.has_noise()).collect();
        Market {
            specs: specs.to_vec(),
            states: vec![State::Fixed; n],
            chol,
            z_indep: vec![0.0; group.len()],
            group,
            draws,
            z: vec![0.0; n],
            prices: specs.iter().map(|s| s.price).collect(),
            t_s: 0,
        }
    }

    /// Resets every process to t = 0 for a new path. Draws the first jump
    /// times of jump processes from `rng`.
    pub fn reset(&mut self, rng: &mut Xoshiro256PlusPlus, step_s: u64) {
        let dt = step_s as f64 / SECONDS_PER_YEAR;
        self.t_s = 0;
        for (i, spec) in self.specs.iter().enumerate() {
            self.prices[i] = spec.price;
            self.states[i] = match &spec.process {
                Process::Fixed => State::Fixed,
                Process::Gbm { drift, vol } => State::Diffusion {
                    log_price: spec.price.ln(),
                    drift_step: (drift - 0.5 * vol * vol) * dt,
                    vol_step: vol * dt.sqrt(),
                    jump_rate_per_s: 0.0,
                    jump_mean: 0.0,
                    jump_vol: 0.0,
                    next_jump_s: f64::INFINITY,
                },
                Process::Merton {
                    drift,
                    vol,
                    jump_intensity,
                    jump_mean,
                    jump_vol,
                } => {
                    // Compensate the drift so E[S_t] = S_0 exp(drift t).
                    let kappa = (jump_mean + 0.5 * jump_vol * jump_vol).exp() - 1.0;
                    let rate_per_s = jump_intensity / SECONDS_PER_YEAR;
                    State::Diffusion {
                        log_price: spec.price.ln(),
                        drift_step: (drift - 0.5 * vol * vol - jump_intensity * kappa) * dt,
                        vol_step: vol * dt.sqrt(),
                        jump_rate_per_s: rate_per_s,
                        jump_mean: *jump_mean,
                        jump_vol: *jump_vol,
                        next_jump_s: next_arrival(rng, 0.0, rate_per_s),
                    }
                }
                Process::Knots(path) => State::Knots {
                    cursor: 0,
                    bridge: 0.0,
                    vol_per_sqrt_s: path.noise_vol / SECONDS_PER_YEAR.sqrt(),
                },
            };
        }
    }

    /// Current prices in USD, one per asset in scenario order.
    pub fn prices(&self) -> &[f64] {
        &self.prices
    }

    /// Advances every asset from the current time to `t_s` (seconds).
    /// Draws exactly one standard normal per noisy asset, plus jump draws.
    pub fn advance(&mut self, rng: &mut Xoshiro256PlusPlus, t_s: u64) {
        let t0 = self.t_s as f64;
        let t1 = t_s as f64;
        for (i, z) in self.z.iter_mut().enumerate() {
            *z = if self.draws[i] { StandardNormal.sample(rng) } else { 0.0 };
        }
        self.correlate();
        for i in 0..self.states.len() {
            let z = self.z[i];
            let new_price = match &mut self.states[i] {
                State::Fixed => self.prices[i],
                State::Diffusion {
                    log_price,
                    drift_step,
                    vol_step,
                    jump_rate_per_s,
                    jump_mean,
                    jump_vol,
                    next_jump_s,
                } => {
                    *log_price += *drift_step + *vol_step * z;
                    while *next_jump_s <= t1 {
                        let j: f64 = StandardNormal.sample(rng);
                        *log_price += *jump_mean + *jump_vol * j;
                        *next_jump_s = next_arrival(rng, *next_jump_s, *jump_rate_per_s);
                    }
                    log_price.exp()
                }
                State::Knots {
                    cursor,
                    bridge,
                    vol_per_sqrt_s,
                } => {
                    let Process::Knots(path) = &self.specs[i].process else {
                        unreachable!("knot state always pairs with a knot process")
                    };
                    let log_rel = path.advance(cursor, bridge, *vol_per_sqrt_s, t0, t1, z);
                    self.specs[i].price * log_rel.exp()
                }
            };
            self.prices[i] = if new_price.is_finite() {
                new_price.max(PRICE_FLOOR_USD)
            } else if new_price > 0.0 {
                f64::MAX
            } else {
                PRICE_FLOOR_USD
            };
        }
        self.t_s = t_s;
    }

    /// Replaces the independent normals of the correlated group by correlated ones.
    fn correlate(&mut self) {
        let k = self.group.len();
        if k == 0 {
            return;
        }
        for (j, &a) in self.group.iter().enumerate() {
            self.z_indep[j] = self.z[a];
        }
        for (r, &a) in self.group.iter().enumerate() {
            let row = &self.chol[r * k..r * k + r + 1];
            let mut acc = 0.0;
            for (l, zi) in row.iter().zip(&self.z_indep) {
                acc += l * zi;
            }
            self.z[a] = acc;
        }
    }
}

/// Next event time of a Poisson process with `rate_per_s` after `from_s`.
fn next_arrival(rng: &mut Xoshiro256PlusPlus, from_s: f64, rate_per_s: f64) -> f64 {
    if rate_per_s <= 0.0 {
        return f64::INFINITY;
    }
    let exp = Exp::new(rate_per_s).expect("rate checked positive");
    from_s + exp.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gbm(price: f64, drift: f64, vol: f64) -> AssetSpec {
        AssetSpec {
            name: "X".into(),
            price,
            stable: false,
            process: Process::Gbm { drift, vol },
        }
    }

    #[test]
    fn zero_vol_gbm_grows_at_its_drift() {
        let mut m = Market::new(&[gbm(100.0, 0.5, 0.0)], None);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        m.reset(&mut rng, 3600);
        for h in 1..=8760 {
            m.advance(&mut rng, h * 3600);
        }
        let want = 100.0 * 0.5f64.exp();
        assert!((m.prices()[0] - want).abs() < 1e-9 * want, "{}", m.prices()[0]);
    }

    #[test]
    fn gbm_log_return_has_the_stated_variance() {
        // 2,000 one-year paths of daily steps: var(ln S_T/S_0) = sigma^2.
        let sigma: f64 = 0.8;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut m = Market::new(&[gbm(1.0, 0.0, sigma)], None);
        let n = 2_000;
        let mut sum = 0.0;
        let mut sum2 = 0.0;
        for _ in 0..n {
            m.reset(&mut rng, 86_400);
            for d in 1..=365 {
                m.advance(&mut rng, d * 86_400);
            }
            let r = m.prices()[0].ln();
            sum += r;
            sum2 += r * r;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // mean = -sigma^2/2 = -0.32; sd of the sample variance ~ sigma^2*sqrt(2/n) = 0.02
        assert!((mean + 0.32).abs() < 0.06, "mean {mean}");
        assert!((var - 0.64).abs() < 0.08, "var {var}");
    }

    #[test]
    fn correlated_drivers_have_the_stated_correlation() {
        let rho = 0.7;
        let c = Correlation::new(vec![0, 1], vec![1.0, rho, rho, 1.0]).unwrap();
        let specs = [gbm(1.0, 0.0, 1.0), gbm(1.0, 0.0, 1.0)];
        let mut m = Market::new(&specs, Some(&c));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        m.reset(&mut rng, 60);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        let mut prev = [1.0f64, 1.0];
        for s in 1..=50_000u64 {
            m.advance(&mut rng, s * 60);
            let p = m.prices();
            let (x, y) = ((p[0] / prev[0]).ln(), (p[1] / prev[1]).ln());
            sxy += x * y;
            sxx += x * x;
            syy += y * y;
            prev = [p[0], p[1]];
        }
        let est = sxy / (sxx * syy).sqrt();
        assert!((est - rho).abs() < 0.02, "estimated correlation {est}");
    }
}
