//! The trader population: the warm-started book is the steady state, and
//! the same trader seed gives every venue the same demand.

use crate::common::{column, scenario};
use perpsim::engine::Workspace;
use perpsim::engine::metrics::Metric;

fn flat(holding: &str, warm: bool) -> String {
    format!(
        r#"
horizon = "3d"
step = "5m"
[assets.SOL]
price = 100.0
process = {{ kind = "fixed" }}
[assets.USDC]
stable = true
[traders]
accounts = 20000
arrival_rate_per_hour = 60.0
leverage = {{ dist = "fixed", value = 2.0 }}
notional_usd = {{ dist = "fixed", value = 1000.0 }}
holding = {holding}
warm_start = {warm}
[venues.a]
kind = "jlp"
aum_usd = 1e9
[venues.a.custodies.SOL]
weight = 0.5
[venues.a.custodies.USDC]
weight = 0.5
[venues.b]
kind = "jlp"
aum_usd = 1e9
base_fee_bps = 10.0
[venues.b.custodies.SOL]
weight = 0.5
[venues.b.custodies.USDC]
weight = 0.5
"#
    )
}

/// 60 arrivals an hour held for a mean of 10 hours keep about 600 positions
/// open (Little's law); a warm start begins there instead of at zero.
#[test]
fn warm_start_begins_in_the_steady_state() {
    for holding in [
        r#"{ dist = "exponential", mean = "10h" }"#,
        r#"{ dist = "lognormal", median = "6h", sigma = 1.0 }"#,
        r#"{ dist = "uniform", low = "2h", high = "18h" }"#,
    ] {
        let loaded = scenario(&flat(holding, true));
        let mut ws = Workspace::new(&loaded.scenario);
        let (mut at0, mut later) = (0.0, 0.0);
        let paths = 8;
        for i in 0..paths {
            let out = ws.run_path(5, i, true);
            let open = column(&out.traces[0], "open_positions");
            at0 += open[0];
            // Steps after 2 days: the book has long forgotten its start.
            let tail = &open[576..];
            later += tail.iter().sum::<f64>() / tail.len() as f64;
        }
        let (at0, later) = (at0 / paths as f64, later / paths as f64);
        let mean_hours = match holding {
            h if h.contains("exponential") => 10.0,
            h if h.contains("lognormal") => 6.0 * 0.5f64.exp(),
            _ => 10.0,
        };
        let little = 60.0 * mean_hours;
        assert!(
            (at0 / little - 1.0).abs() < 0.05,
            "{holding}: {at0} open at t = 0, Little's law {little}"
        );
        assert!(
            (later / little - 1.0).abs() < 0.05,
            "{holding}: {later} open later, Little's law {little}"
        );
    }
    let cold = scenario(&flat(r#"{ dist = "exponential", mean = "10h" }"#, false));
    let out = Workspace::new(&cold.scenario).run_path(5, 0, true);
    assert_eq!(column(&out.traces[0], "open_positions")[0], 0.0);
}

/// Two venues that differ only in fees see the same orders: the same
/// volume and trades (nothing is refused), different fee income.
#[test]
fn venues_share_the_same_order_flow() {
    let loaded = scenario(&flat(r#"{ dist = "exponential", mean = "10h" }"#, true));
    let out = Workspace::new(&loaded.scenario).run_path(3, 0, false);
    let (a, b) = (&out.metrics[0], &out.metrics[1]);
    assert_eq!(a.get(Metric::Trades), b.get(Metric::Trades));
    assert_eq!(a.get(Metric::VolumeUsd), b.get(Metric::VolumeUsd));
    assert_eq!(a.get(Metric::RejectedOrders), 0.0);
    let ratio = b.get(Metric::OpenCloseFeesUsd) / a.get(Metric::OpenCloseFeesUsd);
    assert!((ratio - 10.0 / 6.0).abs() < 1e-9, "{ratio}");
}
