//! docs/scenario-reference.md is generated from the reader: every key the
//! reader knows, with its unit and default. Four kitchen-sink scenarios
//! exercise every key; this test fails when the document is out of date.

use crate::common::repo;
use perpsim::scenario::{KeyDoc, load, reference_markdown};

#[test]
fn scenario_reference_is_current() {
    let mut docs: Vec<KeyDoc> = Vec::new();
    for f in [
        "tests/fixtures/kitchen_a.toml",
        "tests/fixtures/kitchen_b.toml",
        "tests/fixtures/kitchen_c.toml",
        "tests/fixtures/kitchen_d.toml",
    ] {
        let loaded = load(&repo().join(f)).unwrap_or_else(|e| panic!("{f}:\n{e}"));
        for d in loaded.docs {
            if !docs.iter().any(|x| x.pattern == d.pattern) {
                docs.push(d);
            }
        }
    }
    let text = reference_markdown(&docs);
    let path = repo().join("docs/scenario-reference.md");
    if std::env::var_os("PERPSIM_UPDATE_REFERENCE").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "docs/scenario-reference.md is out of date: run `PERPSIM_UPDATE_REFERENCE=1 cargo test reference`"
    );
    // Every shipped scenario key is documented.
    for key in [
        "venues.<venue>.borrow.target_rate",
        "assets.<asset>.process.jump_intensity",
        "traders.<distribution>.median",
        "venues.<venue>.markets.<market>.pnl_caps.after_adl",
        "venues.<venue>.glv.shift_max_loss",
        "lps.run.drawdown",
        "venues.<venue>.markets.<market>.bid_multiplier",
        "venues.<venue>.vault.backstop_loss_cap_usd",
        "venues.<venue>.liquidation.fee_cap",
    ] {
        assert!(text.contains(&format!("`{key}`")), "{key} missing");
    }
}
