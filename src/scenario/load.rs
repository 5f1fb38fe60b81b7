//! Reading scenario files: `extends` chains, presets, merging, provenance,
//! validation and the scenario hash.

use super::Scenario;
use super::build::{self, Inputs};
use super::presets;
use super::reader::{Issue, KeyDoc, Provenance, Reader};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Longest `extends` chain.
const MAX_EXTENDS_DEPTH: usize = 16;

/// Every problem found in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The problems, in the order found.
    pub issues: Vec<Issue>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// A validated scenario with what it was made from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The scenario.
    pub scenario: Scenario,
    /// SHA-256 (hex) of the resolved scenario and every data file it read.
    pub hash: String,
    /// Files the scenario was made from: the scenario, its ancestors and data files.
    pub files: Vec<String>,
    /// The merged TOML after `extends` and overrides.
    pub resolved: Table,
    /// Documentation of every key read.
    pub docs: Vec<KeyDoc>,
}

enum Source {
    File(PathBuf),
    Preset(String),
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Preset(n) => format!("preset:{n}"),
        }
    }

    fn dir(&self) -> Option<PathBuf> {
        match self {
            Source::File(p) => Some(p.parent().map(Path::to_path_buf).unwrap_or_default()),
            Source::Preset(_) => None,
        }
    }
}

/// Loads and validates the scenario at `path`.
///
/// # Errors
/// Every problem found: unreadable or malformed files, unknown keys, wrong
/// types, out-of-range values, bad replay data.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    load_with(path, &[])
}

/// Loads the scenario at `path` and then sets `overrides` (key path, value)
/// before validating, as `--set` does.
///
/// # Errors
/// As [`load`], plus overrides naming keys that cannot be set.
pub fn load_with(path: &Path, overrides: &[(String, Value)]) -> Result<LoadedScenario, ScenarioError> {
    let source = if let Some(name) = path.to_str().and_then(|s| s.strip_prefix("preset:")) {
        Source::Preset(name.to_string())
    } else {
        Source::File(path.to_path_buf())
    };
    resolve_and_build(source, None, overrides)
}

/// Loads a scenario from text (`origin` names it in messages; relative
/// `extends` and data paths resolve against `base_dir`).
///
/// # Errors
/// As [`load`].
pub fn load_str(text: &str, origin: &str, base_dir: &Path) -> Result<LoadedScenario, ScenarioError> {
    let source = Source::File(base_dir.join(origin));
    resolve_and_build(source, Some(text.to_string()), &[])
}

struct Resolved {
    table: Table,
    prov: Provenance,
    dirs: BTreeMap<String, PathBuf>,
    files: Vec<String>,
}

fn resolve_and_build(
    source: Source,
    text: Option<String>,
    overrides: &[(String, Value)],
) -> Result<LoadedScenario, ScenarioError> {
    let mut res = Resolved {
        table: Table::new(),
        prov: Provenance::new(source.label()),
        dirs: BTreeMap::new(),
        files: Vec::new(),
    };
    let mut chain = Vec::new();
    if let Err(issue) = resolve(source, text, &mut res, &mut chain) {
        return Err(ScenarioError { issues: vec![issue] });
    }
    let mut issues = Vec::new();
    for (key, value) in overrides {
        if let Err(msg) = set_path(&mut res.table, key, value.clone()) {
            issues.push(Issue {
                file: "command line".into(),
                key: key.clone(),
                message: msg,
            });
        } else {
            res.prov.set(key.clone(), "command line");
        }
    }
    if !issues.is_empty() {
        return Err(ScenarioError { issues });
    }
    let mut reader = Reader::new(&res.prov);
    let mut inputs = Inputs {
        dirs: &res.dirs,
        data: Vec::new(),
    };
    let scenario = build::build(&res.table, &mut reader, &mut inputs, &res.prov.root);
    if !reader.issues.is_empty() {
        return Err(ScenarioError { issues: reader.issues });
    }
    let Some(scenario) = scenario else {
        return Err(ScenarioError {
            issues: vec![Issue {
                file: res.prov.root.clone(),
                key: String::new(),
                message: "scenario could not be built".into(),
            }],
        });
    };
    let mut hasher = Sha256::new();
    hasher.update(toml::to_string(&res.table).unwrap_or_default().as_bytes());
    let mut files = res.files.clone();
    for (label, bytes) in &inputs.data {
        hasher.update(label.as_bytes());
        hasher.update(bytes);
        files.push(label.clone());
    }
    let hash = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(LoadedScenario {
        scenario,
        hash,
        files,
        resolved: res.table,
        docs: reader.docs,
    })
}

fn resolve(source: Source, text: Option<String>, res: &mut Resolved, chain: &mut Vec<String>) -> Result<(), Issue> {
    let label = source.label();
    let fail = |message: String| Issue {
        file: label.clone(),
        key: String::new(),
        message,
    };
    if chain.contains(&label) {
        return Err(fail(format!(
            "extends forms a cycle: {} -> {label}",
            chain.join(" -> ")
        )));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(fail(format!("extends chain is deeper than {MAX_EXTENDS_DEPTH}")));
    }
    let text = match (text, &source) {
        (Some(t), _) => t,
        (None, Source::File(p)) => {
            std::fs::read_to_string(p).map_err(|e| fail(format!("cannot read the file: {e}")))?
        }
        (None, Source::Preset(n)) => presets::preset(n)
            .ok_or_else(|| {
                fail(format!(
                    "no preset named {n:?} (presets: {})",
                    presets::NAMES.join(", ")
                ))
            })?
            .to_string(),
    };
    let mut table: Table =
        toml::from_str(&text).map_err(|e| fail(format!("malformed TOML: {}", e.to_string().trim())))?;
    chain.push(label.clone());
    if let Some(parent) = table.remove("extends") {
        let Value::String(parent) = parent else {
            return Err(Issue {
                file: label.clone(),
                key: "extends".into(),
                message: "must be a string: a file path or \"preset:NAME\"".into(),
            });
        };
        let parent_source = if let Some(name) = parent.strip_prefix("preset:") {
            Source::Preset(name.to_string())
        } else {
            match source.dir() {
                Some(dir) => Source::File(dir.join(&parent)),
                // Inside a preset, a relative parent names another preset.
                None => Source::Preset(parent.trim_end_matches(".toml").to_string()),
            }
        };
        resolve(parent_source, None, res, chain)?;
    }
    chain.pop();
    if let Some(dir) = source.dir() {
        res.dirs.insert(label.clone(), dir);
    }
    res.files.push(label.clone());
    merge(&mut res.table, table, &mut res.prov, &label, "");
    Ok(())
}

/// Deep-merges `overlay` into `base`: tables merge key by key, anything else
/// replaces; a table whose `kind` (or `dist`) differs from the base table's
/// replaces it whole (a new process, design or distribution brings its own keys).
/// Replaced keys are attributed to `file`.
fn merge(base: &mut Table, overlay: Table, prov: &mut Provenance, file: &str, prefix: &str) {
    for (k, v) in overlay {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) if same_kind(b, &o) => merge(b, o, prov, file, &path),
            (_, v) => {
                prov.set(path, file);
                base.insert(k, v);
            }
        }
    }
}

fn same_kind(a: &Table, b: &Table) -> bool {
    ["kind", "dist"].iter().all(|k| match (a.get(*k), b.get(*k)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    })
}

/// Sets a dotted key path in a table, creating tables on the way.
///
/// # Errors
/// A reason when a parent on the path is not a table.
pub(crate) fn set_path(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("is not a valid key path".into());
    }
    let mut t = table;
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            t.insert((*part).to_string(), value);
            return Ok(());
        }
        let entry = t
            .entry((*part).to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(next) => t = next,
            _ => return Err(format!("{} is not a table", parts[..=i].join("."))),
        }
    }
    Ok(())
}
