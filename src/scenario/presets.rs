//! Built-in scenarios usable as `extends = "preset:NAME"` (or as the
//! scenario argument `preset:NAME`): the shipped self-contained scenarios,
//! compiled in so that they work from any directory.

/// Names of the presets.
pub const NAMES: &[&str] = &[
    "jlp_baseline",
    "jlp_crash",
    "glv_baseline",
    "gm_synthetic_squeeze",
    "hlp_baseline",
    "llp_baseline",
    "hlp_crash",
    "llp_crash",
];

/// Text of a preset.
pub fn preset(name: &str) -> Option<&'static str> {
    match name {
        "jlp_baseline" => Some(include_str!("../../scenarios/jlp_baseline.toml")),
        "jlp_crash" => Some(include_str!("../../scenarios/jlp_crash.toml")),
        "glv_baseline" => Some(include_str!("../../scenarios/glv_baseline.toml")),
        "gm_synthetic_squeeze" => Some(include_str!("../../scenarios/gm_synthetic_squeeze.toml")),
        "hlp_baseline" => Some(include_str!("../../scenarios/hlp_baseline.toml")),
        "llp_baseline" => Some(include_str!("../../scenarios/llp_baseline.toml")),
        "hlp_crash" => Some(include_str!("../../scenarios/hlp_crash.toml")),
        "llp_crash" => Some(include_str!("../../scenarios/llp_crash.toml")),
        _ => None,
    }
}
