//! Parameter sweeps: a grid of scenarios run with common random numbers.
//!
//! Every grid point runs the same path indices under the same master seed,
//! so path `i` sees the same prices, traders and LP flows at every point
//! wherever the parameter leaves them alone: differences between points are
//! the parameter's effect, not sampling noise. Points run in parallel on the
//! current rayon pool, and the paths of each point too; each point is reduced
//! in path order, so results do not depend on the number of threads.

use crate::engine::metrics::{METRICS, Metric, N_METRICS};
use crate::montecarlo::MonteCarlo;
use crate::report::stats::{Distribution, Moments, Risk};
use crate::scenario::{RISK_MEASURES, Scenario};
use rayon::prelude::*;

/// Grids larger than this need `--force`.
pub const MAX_POINTS: usize = 10_000;

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Key path as in the scenario file, e.g. `venues.jlp.borrow.target_rate`.
    pub key: String,
    /// Values in order.
    pub values: Vec<f64>,
    /// Unit of the values (from the key reference), or empty.
    pub unit: String,
}

impl Axis {
    /// The key with its unit, for chart axes: `venues.jlp.base_fee_bps (bps)`.
    pub fn label(&self) -> String {
        if self.unit.is_empty() {
            self.key.clone()
        } else {
            format!("{} ({})", self.key, self.unit)
        }
    }
}

/// The unit the key reference gives a key path, matching `<placeholder>`
/// segments of its patterns to any name.
pub fn unit_of_key(docs: &[crate::scenario::KeyDoc], key: &str) -> Option<&'static str> {
    let parts: Vec<&str> = key.split('.').collect();
    docs.iter()
        .find(|d| {
            let pat: Vec<&str> = d.pattern.split('.').collect();
            pat.len() == parts.len()
                && pat
                    .iter()
                    .zip(&parts)
                    .all(|(p, k)| p == k || (p.starts_with('<') && p.ends_with('>')))
        })
        .map(|d| d.unit)
}

/// Parses `KEY=V1,V2,...` or `KEY=A..B:N` (N evenly spaced values from A to
/// B inclusive).
///
/// # Errors
/// A message naming the key and the problem: no `=`, an empty key, an empty
/// list or range, a value that is not a finite number.
pub fn parse_axis(spec: &str) -> Result<Axis, String> {
    let Some((key, values)) = spec.split_once('=') else {
        return Err(format!("{spec:?}: expected KEY=V1,V2,... or KEY=A..B:N"));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("{spec:?}: {key:?} is not a key path"));
    }
    let values = values.trim();
    let number = |s: &str| -> Result<f64, String> {
        match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(format!("{key}: {:?} is not a finite number", s.trim())),
        }
    };
    let out = if let Some((range, n)) = values.split_once(':')
        && let Some((a, b)) = range.split_once("..")
    {
        let a = number(a)?;
        let b = number(b)?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{key}: the point count {:?} is not a whole number", n.trim()))?;
        match n {
            0 => return Err(format!("{key}: the range {values:?} is empty (0 points)")),
            1 if a != b => return Err(format!("{key}: one point cannot span {a} to {b}; use N ≥ 2")),
            1 => vec![a],
            _ => (0..n)
                .map(|k| round12(a + (b - a) * k as f64 / (n - 1) as f64))
                .collect(),
        }
    } else {
        if values.is_empty() {
            return Err(format!("{key}: no values given"));
        }
        values.split(',').map(number).collect::<Result<Vec<_>, _>>()?
    };
    Ok(Axis {
        key: key.to_string(),
        values: out,
        unit: String::new(),
    })
}

/// `x` rounded to 12 significant digits, so that `0.1..0.5:5` gives 0.3
/// rather than 0.30000000000000004.
fn round12(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Number of points of the grid over `axes` (saturating).
pub fn grid_size(axes: &[Axis]) -> usize {
    axes.iter().fold(1usize, |n, a| n.saturating_mul(a.values.len()))
}

/// Every point of the grid, the last axis varying fastest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |&v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    out
}

/// The results of one venue at one grid point.
#[derive(Debug, Clone)]
pub struct VenuePoint {
    /// Each metric's distribution, in [`METRICS`] order.
    pub dists: Vec<Distribution>,
    /// Tail risk of LP return.
    pub risk: Risk,
    /// Trader cost: total fees over total volume, a fraction of notional.
    pub trader_cost: f64,
}

/// What a headline figure of a sweep is: `trader_cost`, a risk measure, or a metric's mean.
pub const DEFAULT_FIGURES: [&str; 4] = ["lp_return", "cvar_95", "p_bad_debt", "trader_cost"];

/// Names a figure may take: every metric (its mean), every risk measure, and `trader_cost`.
pub fn figure_names() -> Vec<&'static str> {
    METRICS
        .iter()
        .map(|m| m.name)
        .chain(RISK_MEASURES)
        .chain(["trader_cost"])
        .collect()
}

impl VenuePoint {
    /// Reduces per-path columns (`cols[m]` holds metric `m` of every path, in path order).
    pub fn from_columns(mut cols: Vec<Vec<f64>>) -> VenuePoint {
        let fees: f64 = cols[Metric::FeesUsd as usize].iter().sum();
        let volume: f64 = cols[Metric::VolumeUsd as usize].iter().sum();
        let mut dists = Vec::with_capacity(N_METRICS);
        for c in &mut cols {
            let mut m = Moments::default();
            for &x in c.iter() {
                m.push(x);
            }
            c.sort_by(f64::total_cmp);
            dists.push(Distribution::new(&m, c));
        }
        let risk = Risk::new(&cols[Metric::LpReturn as usize], &cols[Metric::BadDebtUsd as usize]);
        VenuePoint {
            dists,
            risk,
            trader_cost: if volume > 0.0 { fees / volume } else { 0.0 },
        }
    }

    /// A headline figure by name: (value, standard error; 0 where none is estimated).
    pub fn figure(&self, name: &str) -> Option<(f64, f64)> {
        let r = &self.risk;
        Some(match name {
            "trader_cost" => (self.trader_cost, 0.0),
            "var_95" => (r.var_95, 0.0),
            "cvar_95" => (r.cvar_95, 0.0),
            "var_99" => (r.var_99, 0.0),
            "cvar_99" => (r.cvar_99, 0.0),
            "p_lp_loss" => (r.p_lp_loss.p, r.p_lp_loss.se),
            "p_bad_debt" => (r.p_bad_debt.p, r.p_bad_debt.se),
            _ => {
                let i = METRICS.iter().position(|m| m.name == name)?;
                (self.dists[i].mean, self.dists[i].se)
            }
        })
    }
}

/// Runs `paths` paths of `scn` under `seed` on the current pool and reduces
/// each venue. The ledger's conservation errors above tolerance are counted.
pub fn run_point(scn: &Scenario, seed: u64, paths: u64, progress: &(dyn Fn(u64) + Sync)) -> (Vec<VenuePoint>, u64) {
    let nv = scn.venues.len();
    let mut cols: Vec<Vec<Vec<f64>>> = (0..nv)
        .map(|_| (0..N_METRICS).map(|_| Vec::with_capacity(paths as usize)).collect())
        .collect();
    let tolerance: Vec<f64> = scn
        .venues
        .iter()
        .map(|v| crate::engine::conservation_tolerance_usd(v.scale_usd()))
        .collect();
    let mut failures = 0u64;
    let _ = MonteCarlo::new(scn, seed).run(0..paths, 0, progress, |out| -> Result<(), ()> {
        for row in &out.metrics {
            if row.get(Metric::ConservationError) > tolerance[row.venue] || row.first_non_finite().is_some() {
                failures += 1;
            }
            for (m, &x) in row.values.iter().enumerate() {
                cols[row.venue][m].push(if x.is_finite() { x } else { 0.0 });
            }
        }
        Ok(())
    });
    (cols.into_iter().map(VenuePoint::from_columns).collect(), failures)
}

/// Runs every scenario of a grid, points and paths in parallel; results in point order.
pub fn run_grid(
    points: &[Scenario],
    seed: u64,
    paths: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<(Vec<VenuePoint>, u64)> {
    points
        .par_iter()
        .map(|scn| run_point(scn, seed, paths, progress))
        .collect()
}

/// Marks the points no other point beats on both coordinates (lower is
/// better on both): the Pareto frontier. Equal points share their fate;
/// non-finite points are never on it. O(n log n): sorted by x, a point is
/// beaten by one with a smaller x and a y no larger, or by one with the same
/// x and a smaller y.
pub fn pareto(points: &[(f64, f64)]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    let mut on = vec![false; points.len()];
    let mut best_before = f64::INFINITY;
    let mut i = 0;
    while i < order.len() {
        let x = points[order[i]].0;
        let group_end = i + order[i..].iter().take_while(|&&k| points[k].0 == x).count();
        let group_min = points[order[i]].1;
        for &k in &order[i..group_end] {
            let y = points[k].1;
            on[k] = y < best_before && y == group_min;
        }
        best_before = best_before.min(group_min);
        i = group_end;
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_lists_and_ranges() {
        let a = parse_axis("venues.jlp.borrow.target_rate=0.1,0.2, 0.3").unwrap();
        assert_eq!(a.key, "venues.jlp.borrow.target_rate");
        assert_eq!(a.values, vec![0.1, 0.2, 0.3]);
        let r = parse_axis("x.y=0..1:5").unwrap();
        assert_eq!(r.values, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(parse_axis("x=2..2:1").unwrap().values, vec![2.0]);
        assert_eq!(parse_axis("x=-1..-3:3").unwrap().values, vec![-1.0, -2.0, -3.0]);
        assert_eq!(
            parse_axis("x=0.1..0.5:5").unwrap().values,
            vec![0.1, 0.2, 0.3, 0.4, 0.5]
        );
        assert_eq!(parse_axis("x=0..1e-9:3").unwrap().values, vec![0.0, 5e-10, 1e-9]);
    }

    #[test]
    fn bad_axes_name_the_key_and_the_problem() {
        for (spec, needle) in [
            ("novalue", "expected KEY="),
            ("=1,2", "not a key path"),
            ("a..b=1", "not a key path"),
            ("k=", "no values"),
            ("k=1,abc", "\"abc\" is not a finite number"),
            ("k=1,NaN", "not a finite number"),
            ("k=0..1:0", "is empty"),
            ("k=0..1:x", "not a whole number"),
            ("k=0..1:1", "one point"),
            ("k=0..z:3", "\"z\" is not a finite number"),
        ] {
            let e = parse_axis(spec).unwrap_err();
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn grids_enumerate_every_combination_last_axis_fastest() {
        let axes = [
            Axis {
                key: "a".into(),
                values: vec![1.0, 2.0, 3.0],
                unit: String::new(),
            },
            Axis {
                key: "b".into(),
                values: vec![10.0, 20.0],
                unit: "bps".into(),
            },
        ];
        assert_eq!(grid_size(&axes), 6);
        let g = grid(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![1.0, 10.0]);
        assert_eq!(g[1], vec![1.0, 20.0]);
        assert_eq!(g[5], vec![3.0, 20.0]);
        assert_eq!(
            (axes[0].label(), axes[1].label()),
            ("a".to_string(), "b (bps)".to_string())
        );
        let huge = vec![
            Axis {
                key: "a".into(),
                values: vec![0.0; 1 << 20],
                unit: String::new(),
            };
            5
        ];
        assert_eq!(grid_size(&huge), usize::MAX, "saturates, never overflows");
    }

    #[test]
    fn the_frontier_keeps_only_undominated_points() {
        let pts = [
            (1.0, 5.0),
            (2.0, 2.0),
            (3.0, 3.0),
            (5.0, 1.0),
            (2.0, 2.0),
            (f64::NAN, 0.0),
        ];
        assert_eq!(pareto(&pts), vec![true, true, false, true, true, false]);
    }
}
