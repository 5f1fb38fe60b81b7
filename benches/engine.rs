//! Micro-benchmarks of the formulas and of single paths.
//!
//! `cargo bench --bench engine`. Whole Monte Carlo runs are timed with
//! `perpsim bench` (see BENCHMARKS.md). Each path benchmark first checks
//! that two runs of the path agree and give finite metrics, so a faster
//! wrong answer cannot pass.

use criterion::{Criterion, criterion_group, criterion_main};
use perpsim::engine::Workspace;
use perpsim::engine::metrics::Metric;
use perpsim::market::Market;
use perpsim::scenario::{Scenario, load_with};
use perpsim::venue::Side;
use perpsim::venue::gmx::MarketPreset;
use perpsim::venue::gmx::formulas::{next_funding, position_impact_usd};
use perpsim::venue::jlp::formulas::{
    BorrowCurve, ImpactParams, additive_impact_fraction, borrow_rate_apr, linear_impact_fraction, liquidation_price,
    position_fee,
};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use std::hint::black_box;
use std::path::Path;

fn scenario(file: &str, overrides: &[(&str, toml::Value)]) -> Scenario {
    let overrides: Vec<(String, toml::Value)> = overrides.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    load_with(&path, &overrides)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .scenario
}

fn formulas(c: &mut Criterion) {
    let curve = BorrowCurve::JUPITER_J1;
    let impact = ImpactParams::JUPITER_SOL_2025;
    c.bench_function("formulas/borrow_rate_apr", |b| {
        b.iter(|| borrow_rate_apr(black_box(0.63), &curve))
    });
    c.bench_function("formulas/position_fee", |b| {
        b.iter(|| {
            let size = black_box(250_000.0);
            position_fee(
                size,
                6.0,
                linear_impact_fraction(size, impact.scalar_usd),
                additive_impact_fraction(black_box(2e6), &impact),
                impact.max_fee_bps,
            )
        })
    });
    c.bench_function("formulas/liquidation_price", |b| {
        b.iter(|| liquidation_price(Side::Long, black_box(100.0), 1000.0, 100.0, 0.6, 0.0, 0.002))
    });
    let doge = MarketPreset::Doge.params();
    c.bench_function("formulas/gmx_position_impact_usd", |b| {
        b.iter(|| {
            position_impact_usd(
                black_box(4e6),
                3e6,
                Side::Long,
                black_box(50_000.0),
                &doge.position_impact,
            )
        })
    });
    c.bench_function("formulas/gmx_next_funding", |b| {
        b.iter(|| next_funding(black_box(1e-9), black_box(4e6), 3e6, 60.0, &doge.funding))
    });
}

fn market(c: &mut Criterion) {
    let scn = scenario("scenarios/jlp_baseline.toml", &[]);
    let mut m = Market::new(&scn.assets, scn.correlation.as_ref());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    m.reset(&mut rng, 60);
    let mut t = 0;
    c.bench_function("market/advance_5_assets", |b| {
        b.iter(|| {
            t += 60;
            m.advance(&mut rng, t);
            black_box(m.prices()[0])
        })
    });
}

fn paths(c: &mut Criterion) {
    let mut group = c.benchmark_group("path");
    group.sample_size(20);
    for (name, file, traders) in [
        ("jlp_baseline_1d", "jlp_baseline", 24.0),
        ("jlp_baseline_1d_no_traders", "jlp_baseline", 0.0),
        ("glv_baseline_1d", "glv_baseline", 21.0),
        ("glv_baseline_1d_no_traders", "glv_baseline", 0.0),
    ] {
        let mut overrides = vec![
            ("horizon", toml::Value::String("1d".into())),
            ("traders.arrival_rate_per_hour", toml::Value::Float(traders)),
            ("traders.warm_start", toml::Value::Boolean(traders > 0.0)),
        ];
        if traders == 0.0 && file == "glv_baseline" {
            overrides.push(("lps.deposits_per_hour", toml::Value::Float(0.0)));
            overrides.push(("lps.withdrawals_per_hour", toml::Value::Float(0.0)));
        }
        let scn = scenario(&format!("scenarios/{file}.toml"), &overrides);
        let mut ws = Workspace::new(&scn);
        let a = ws.run_path(1, 0, false).metrics;
        let b = ws.run_path(1, 0, false).metrics;
        assert_eq!(a, b, "a path must be reproducible");
        assert_eq!(a[0].first_non_finite(), None);
        assert!(a[0].get(Metric::ConservationError) < 1e-3);
        let mut i = 0;
        group.bench_function(name, |bench| {
            bench.iter(|| {
                i += 1;
                black_box(ws.run_path(1, i, false).metrics[0].values[0])
            })
        });
    }
    group.finish();
}

criterion_group!(benches, formulas, market, paths);
criterion_main!(benches);
