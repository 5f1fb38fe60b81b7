//! Summary statistics over paths: moments, quantiles, VaR and CVaR.
//!
//! Quantiles interpolate linearly between order statistics (numpy's
//! default, "type 7"). VaR at level a is the loss at the (1 − a) quantile of
//! LP return, reported as a positive number; CVaR (expected shortfall) is
//! the mean loss over the worst ⌈n·(1 − a)⌉ paths.

use serde::Serialize;

/// Streaming mean and variance (Welford), fed in path order so the result
/// does not depend on threads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean (0 with no values).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Sample standard deviation (0 with fewer than two values).
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).max(0.0).sqrt()
        }
    }

    /// Standard error of the mean.
    pub fn se(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.std() / (self.n as f64).sqrt()
        }
    }
}

/// Quantile `q` in [0, 1] of sorted values (linear interpolation).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Distribution of one metric over paths.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Distribution {
    pub mean: f64,
    pub std: f64,
    pub se: f64,
    pub min: f64,
    pub p1: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Distribution {
    /// From moments and the sorted values.
    pub fn new(m: &Moments, sorted: &[f64]) -> Distribution {
        Distribution {
            mean: m.mean(),
            std: m.std(),
            se: m.se(),
            min: sorted.first().copied().unwrap_or(0.0),
            p1: quantile(sorted, 0.01),
            p5: quantile(sorted, 0.05),
            p50: quantile(sorted, 0.50),
            p95: quantile(sorted, 0.95),
            p99: quantile(sorted, 0.99),
            max: sorted.last().copied().unwrap_or(0.0),
        }
    }
}

/// A probability estimated from paths, with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Probability {
    pub p: f64,
    pub se: f64,
}

impl Probability {
    /// `hits` out of `n`.
    pub fn of(hits: usize, n: usize) -> Probability {
        if n == 0 {
            return Probability { p: 0.0, se: 0.0 };
        }
        let p = hits as f64 / n as f64;
        Probability {
            p,
            se: (p * (1.0 - p) / n as f64).sqrt(),
        }
    }
}

/// Tail risk of LP return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Risk {
    /// Loss at the 5 % quantile of LP return (positive = loss), fraction.
    pub var_95: f64,
    /// Mean loss over the worst 5 % of paths, fraction.
    pub cvar_95: f64,
    /// Loss at the 1 % quantile, fraction.
    pub var_99: f64,
    /// Mean loss over the worst 1 % of paths, fraction.
    pub cvar_99: f64,
    /// Probability that the LP return is negative.
    pub p_lp_loss: Probability,
    /// Probability that a path has any bad debt.
    pub p_bad_debt: Probability,
}

/// Value at risk at `level` (0.95): minus the (1 − level) quantile.
pub fn value_at_risk(sorted_returns: &[f64], level: f64) -> f64 {
    -quantile(sorted_returns, 1.0 - level)
}

/// Expected shortfall at `level`: minus the mean of the worst ⌈n(1 − level)⌉ returns.
pub fn expected_shortfall(sorted_returns: &[f64], level: f64) -> f64 {
    let n = sorted_returns.len();
    if n == 0 {
        return 0.0;
    }
    // 1 - 0.95 is 0.05000000000000004 in f64: allow for it before rounding up.
    let k = ((n as f64 * (1.0 - level) - 1e-9).ceil() as usize).clamp(1, n);
    -sorted_returns[..k].iter().sum::<f64>() / k as f64
}

impl Risk {
    /// From sorted LP returns and sorted bad-debt amounts.
    pub fn new(sorted_returns: &[f64], sorted_bad_debt: &[f64]) -> Risk {
        let n = sorted_returns.len();
        Risk {
            var_95: value_at_risk(sorted_returns, 0.95),
            cvar_95: expected_shortfall(sorted_returns, 0.95),
            var_99: value_at_risk(sorted_returns, 0.99),
            cvar_99: expected_shortfall(sorted_returns, 0.99),
            p_lp_loss: Probability::of(sorted_returns.partition_point(|&x| x < 0.0), n),
            p_bad_debt: Probability::of(sorted_bad_debt.iter().filter(|&&x| x > 0.0).count(), n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        // numpy.quantile(1..10, q): 0.05 -> 1.45, 0.5 -> 5.5, 0.99 -> 9.91
        assert!((quantile(&x, 0.05) - 1.45).abs() < 1e-12);
        assert!((quantile(&x, 0.5) - 5.5).abs() < 1e-12);
        assert!((quantile(&x, 0.99) - 9.91).abs() < 1e-12);
        assert_eq!(quantile(&[3.0], 0.3), 3.0);
    }

    #[test]
    fn var_and_cvar_by_hand() {
        // 20 returns: -0.10, -0.05, then 18 zeros. 5 % tail = the worst 1 path.
        let mut r = vec![0.0; 18];
        r.extend([-0.10, -0.05]);
        r.sort_by(f64::total_cmp);
        // q(0.05) at h = 19·0.05 = 0.95: -0.10 + 0.95·0.05 = -0.0525
        assert!((value_at_risk(&r, 0.95) - 0.0525).abs() < 1e-12);
        assert!((expected_shortfall(&r, 0.95) - 0.10).abs() < 1e-12);
        let mut bad_debt = vec![0.0; 19];
        bad_debt.push(5.0);
        let risk = Risk::new(&r, &bad_debt);
        assert_eq!(risk.p_lp_loss.p, 0.1);
        assert!((risk.p_lp_loss.se - (0.1f64 * 0.9 / 20.0).sqrt()).abs() < 1e-15);
        assert_eq!(risk.p_bad_debt.p, 0.05);
    }

    #[test]
    fn moments_are_sample_moments() {
        let mut m = Moments::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.push(x);
        }
        assert_eq!(m.mean(), 5.0);
        assert!((m.std() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((m.se() - m.std() / 8f64.sqrt()).abs() < 1e-15);
    }
}
