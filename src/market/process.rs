//! Price-process specifications and the knot-path (replay) mechanics.

/// One asset of a scenario: its name, starting price and process.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSpec {
    /// Ticker as written in the scenario (`SOL`, `USDC`).
    pub name: String,
    /// Price at t = 0, USD per token.
    pub price: f64,
    /// Stablecoin flag: stable custodies are valued at `owned · price` by JLP-style pools.
    pub stable: bool,
    /// How the price moves.
    pub process: Process,
}

/// A price process.
#[derive(Debug, Clone, PartialEq)]
pub enum Process {
    /// Constant price (stablecoins by default).
    Fixed,
    /// Geometric Brownian motion. `drift` and `vol` are annual (1/year, 1/√year).
    Gbm { drift: f64, vol: f64 },
    /// Merton jump diffusion: GBM plus Poisson jumps in log price.
    /// `jump_intensity` is jumps per year; each jump adds N(`jump_mean`, `jump_vol`²)
    /// to the log price. The drift is compensated so E[S_t] = S_0·exp(drift·t).
    Merton {
        drift: f64,
        vol: f64,
        jump_intensity: f64,
        jump_mean: f64,
        jump_vol: f64,
    },
    /// A replayed series or waypoint path: log-linear between knots plus
    /// Brownian-bridge noise pinned at every knot.
    Knots(KnotPath),
}

impl Process {
    /// Whether the process consumes a diffusion normal each step.
    pub fn has_noise(&self) -> bool {
        match self {
            Process::Fixed => false,
            Process::Gbm { .. } | Process::Merton { .. } => true,
            Process::Knots(k) => k.noise_vol > 0.0,
        }
    }

    /// Short label for summaries and reports.
    pub fn label(&self) -> String {
        match self {
            Process::Fixed => "fixed".into(),
            Process::Gbm { drift, vol } => format!("gbm(drift {drift}, vol {vol})"),
            Process::Merton {
                vol,
                jump_intensity,
                jump_mean,
                ..
            } => format!("merton(vol {vol}, {jump_intensity} jumps/yr, mean {jump_mean})"),
            Process::Knots(k) => format!(
                "{} ({} knots over {}, noise vol {})",
                k.origin,
                k.times_s.len(),
                crate::units::format_duration(k.times_s.last().copied().unwrap_or(0.0) as u64),
                k.noise_vol
            ),
        }
    }
}

/// A deterministic path through knots, in log price relative to the asset's
/// starting price, with optional noise.
///
/// Between knots the log price is interpolated linearly and a Brownian bridge
/// with volatility `noise_vol` is added, pinned to zero at every knot, so the
/// path passes exactly through each knot. After the last knot the path
/// continues as driftless Brownian motion in log price with the same
/// volatility (flat when `noise_vol` is 0).
#[derive(Debug, Clone, PartialEq)]
pub struct KnotPath {
    /// Knot times in seconds from path start; strictly increasing, first is 0.
    pub times_s: Vec<f64>,
    /// ln(price / starting price) at each knot; the first is 0.
    pub log_rel: Vec<f64>,
    /// Annualized volatility of the bridge noise (0 = exact replay).
    pub noise_vol: f64,
    /// Where the knots came from, for reports (`"waypoints"`, a file name).
    pub origin: String,
}

impl KnotPath {
    /// Log price relative to start at `t_s`, without noise.
    pub fn interpolate(&self, t_s: f64) -> f64 {
        let n = self.times_s.len();
        if t_s <= self.times_s[0] {
            return self.log_rel[0];
        }
        if t_s >= self.times_s[n - 1] {
            return self.log_rel[n - 1];
        }
        let k = self.times_s.partition_point(|&x| x <= t_s) - 1;
        self.segment_value(k, t_s)
    }

    fn segment_value(&self, k: usize, t_s: f64) -> f64 {
        let (t0, t1) = (self.times_s[k], self.times_s[k + 1]);
        let w = (t_s - t0) / (t1 - t0);
        self.log_rel[k] + w * (self.log_rel[k + 1] - self.log_rel[k])
    }

    /// Advances from `t0` to `t1` (seconds) and returns ln(price/start) at `t1`.
    ///
    /// `cursor` is the index of the knot at or before `t0`; `bridge` the noise
    /// value at `t0`. `z` is a standard normal used for the noise. Exactly
    /// one normal is used whatever the number of knots crossed: the bridge is
    /// Markov, so once a knot pins it to zero the earlier value is irrelevant.
    pub(crate) fn advance(
        &self,
        cursor: &mut usize,
        bridge: &mut f64,
        vol_per_sqrt_s: f64,
        t0: f64,
        t1: f64,
        z: f64,
    ) -> f64 {
        let n = self.times_s.len();
        let mut start = t0;
        while *cursor + 1 < n && self.times_s[*cursor + 1] <= t1 {
            *cursor += 1;
            start = self.times_s[*cursor];
            *bridge = 0.0;
        }
        if *cursor + 1 >= n {
            // After the last knot: free Brownian motion.
            *bridge += vol_per_sqrt_s * (t1 - start).max(0.0).sqrt() * z;
            return self.log_rel[n - 1] + *bridge;
        }
        let next = self.times_s[*cursor + 1];
        let span = next - start;
        if span > 0.0 && t1 > start {
            let mean = *bridge * (next - t1) / span;
            let var = vol_per_sqrt_s * vol_per_sqrt_s * (t1 - start) * (next - t1) / span;
            *bridge = mean + var.max(0.0).sqrt() * z;
        }
        self.segment_value(*cursor, t1) + *bridge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(noise_vol: f64) -> KnotPath {
        KnotPath {
            times_s: vec![0.0, 600.0, 1200.0],
            log_rel: vec![0.0, (0.7f64).ln(), (0.9f64).ln()],
            noise_vol,
            origin: "waypoints".into(),
        }
    }

    #[test]
    fn interpolation_is_log_linear_and_flat_outside() {
        let p = path(0.0);
        assert_eq!(p.interpolate(-5.0), 0.0);
        assert!((p.interpolate(300.0) - 0.5 * 0.7f64.ln()).abs() < 1e-15);
        assert!((p.interpolate(5000.0) - 0.9f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn noisy_path_passes_exactly_through_every_knot() {
        let p = path(2.0);
        let vol = 2.0 / crate::units::SECONDS_PER_YEAR.sqrt();
        let (mut cursor, mut bridge) = (0usize, 0.0f64);
        let mut t = 0.0;
        let zs = [1.3, -0.7, 2.1, 0.4, -1.9, 0.8];
        for (i, step) in [200.0, 200.0, 200.0, 200.0, 200.0, 200.0].iter().enumerate() {
            let v = p.advance(&mut cursor, &mut bridge, vol, t, t + step, zs[i]);
            t += step;
            if t == 600.0 {
                assert_eq!(v, 0.7f64.ln());
            }
            if t == 1200.0 {
                assert_eq!(v, 0.9f64.ln());
            }
            if t == 400.0 {
                assert!(v != p.interpolate(400.0), "noise must move the path between knots");
            }
        }
    }
}
