//! A typed reader over TOML tables that never stops at the first problem.
//!
//! Every read names its key, unit, default and meaning; the reader checks
//! type, finiteness and range, records an [`Issue`] for each problem and goes
//! on, and notes every key it looked up so that [`Reader::finish`] can flag
//! the ones nobody asked for (unknown keys). The same calls feed the key
//! reference ([`KeyDoc`]), so the documentation cannot drift from the code.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use toml::{Table, Value};

/// One problem in a scenario: file, key path, reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// File the key came from.
    pub file: String,
    /// Key path (`venues.jlp.borrow.target_utilization`), or a row locator.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

/// Documentation of one key, gathered while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDoc {
    /// Key path pattern (`venues.<name>.borrow.target_rate`).
    pub pattern: String,
    /// Value type.
    pub kind: &'static str,
    /// Unit.
    pub unit: &'static str,
    /// Default, or `required`.
    pub default: String,
    /// Meaning.
    pub doc: String,
}

/// Which file each key path came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    files: BTreeMap<String, String>,
    /// File of the root scenario (fallback).
    pub root: String,
}

impl Provenance {
    /// Provenance whose fallback file is `root`.
    pub fn new(root: String) -> Provenance {
        Provenance {
            files: BTreeMap::new(),
            root,
        }
    }

    /// Records that `path` (and everything under it) came from `file`.
    pub fn set(&mut self, path: String, file: &str) {
        self.files.insert(path, file.to_string());
    }

    /// File in which `path` (or its nearest recorded parent) was written.
    pub fn file_of(&self, path: &str) -> &str {
        let mut p = path;
        loop {
            if let Some(f) = self.files.get(p) {
                return f;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return &self.root,
            }
        }
    }
}

/// A table being read, with its key path.
#[derive(Debug)]
pub struct Node<'v> {
    /// Concrete key path (`venues.jlp`); empty at the root.
    pub path: String,
    /// Key path pattern with named tables generalised (`venues.<name>`).
    pub pattern: String,
    /// The table.
    pub table: &'v Table,
    looked: RefCell<Vec<String>>,
}

impl<'v> Node<'v> {
    /// The root table.
    pub fn root(table: &'v Table) -> Node<'v> {
        Node {
            path: String::new(),
            pattern: String::new(),
            table,
            looked: RefCell::new(Vec::new()),
        }
    }

    /// Path of a child key.
    pub fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn key_pattern(&self, key: &str) -> String {
        join(&self.pattern, key)
    }

    fn look(&self, key: &str) -> Option<&'v Value> {
        let mut l = self.looked.borrow_mut();
        if !l.iter().any(|k| k == key) {
            l.push(key.to_string());
        }
        self.table.get(key)
    }

    /// The pattern of this table's key path.
    pub fn pattern_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `key` is present (marks it as known).
    pub fn has(&self, key: &str) -> bool {
        self.look(key).is_some()
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// Numeric range check.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    lo: Option<(f64, bool)>,
    hi: Option<(f64, bool)>,
}

impl Range {
    /// Any finite number.
    pub const ANY: Range = Range { lo: None, hi: None };
    /// ≥ 0.
    pub const NON_NEG: Range = Range {
        lo: Some((0.0, true)),
        hi: None,
    };
    /// > 0.
    pub const POS: Range = Range {
        lo: Some((0.0, false)),
        hi: None,
    };
    /// [0, 1].
    pub const UNIT: Range = Range {
        lo: Some((0.0, true)),
        hi: Some((1.0, true)),
    };
    /// (0, 1).
    pub const OPEN_UNIT: Range = Range {
        lo: Some((0.0, false)),
        hi: Some((1.0, false)),
    };
    /// (0, 1].
    pub const UNIT_POS: Range = Range {
        lo: Some((0.0, false)),
        hi: Some((1.0, true)),
    };

    /// ≥ `x`.
    pub const fn at_least(x: f64) -> Range {
        Range {
            lo: Some((x, true)),
            hi: None,
        }
    }

    /// A reason if `v` is outside the range.
    pub fn check(&self, v: f64) -> Option<String> {
        let lo_ok = self.lo.is_none_or(|(x, incl)| if incl { v >= x } else { v > x });
        let hi_ok = self.hi.is_none_or(|(x, incl)| if incl { v <= x } else { v < x });
        if lo_ok && hi_ok {
            return None;
        }
        Some(match (self.lo, self.hi) {
            (Some((a, ai)), Some((b, bi))) => {
                format!(
                    "must be in {}{a}, {b}{}, was {v}",
                    if ai { "[" } else { "(" },
                    if bi { "]" } else { ")" }
                )
            }
            (Some((a, true)), None) => format!("must be ≥ {a}, was {v}"),
            (Some((a, false)), None) => format!("must be > {a}, was {v}"),
            (None, Some((b, true))) => format!("must be ≤ {b}, was {v}"),
            (None, Some((b, false))) => format!("must be < {b}, was {v}"),
            (None, None) => unreachable!("no bounds always passes"),
        })
    }
}

/// How a key defaults.
#[derive(Debug, Clone, Copy)]
pub enum Default<T> {
    /// The key must be present.
    Required,
    /// Absent means this value.
    Value(T),
    /// Absent means "none" (optional, no value).
    None,
    /// Absent means this value, inherited from an enclosing table (documented as such).
    Inherited(T),
}

impl<T: Copy> Default<T> {
    fn fallback(self) -> Option<T> {
        match self {
            Default::Value(v) | Default::Inherited(v) => Some(v),
            Default::Required | Default::None => None,
        }
    }
}

/// Key name, unit and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Key name.
    pub key: &'static str,
    /// Unit (`USD`, `fraction`, `bps`, `1/year`, ...).
    pub unit: &'static str,
    /// Meaning, one sentence.
    pub doc: &'static str,
    /// How the default reads in the reference, when it depends on context.
    pub default_text: Option<&'static str>,
}

/// Shorthand for a [`Spec`].
pub const fn spec(key: &'static str, unit: &'static str, doc: &'static str) -> Spec {
    Spec {
        key,
        unit,
        doc,
        default_text: None,
    }
}

impl Spec {
    /// The same key with its default described in words.
    pub const fn default_text(self, text: &'static str) -> Spec {
        Spec {
            default_text: Some(text),
            ..self
        }
    }
}

/// The reader: issues and key docs accumulate as tables are read.
#[derive(Debug)]
pub struct Reader<'p> {
    prov: &'p Provenance,
    /// Every problem found so far.
    pub issues: Vec<Issue>,
    /// Every key read so far (first occurrence of each pattern).
    pub docs: Vec<KeyDoc>,
}

impl<'p> Reader<'p> {
    /// A reader attributing keys to files through `prov`.
    pub fn new(prov: &'p Provenance) -> Reader<'p> {
        Reader {
            prov,
            issues: Vec::new(),
            docs: Vec::new(),
        }
    }

    /// Records a problem at `path`.
    pub fn issue(&mut self, path: &str, message: impl Into<String>) {
        let file = self.prov.file_of(path).to_string();
        self.issues.push(Issue {
            file,
            key: path.to_string(),
            message: message.into(),
        });
    }

    /// Records a problem in `file` at `locator` (used for rows of data files).
    pub fn issue_in(&mut self, file: &str, locator: String, message: impl Into<String>) {
        self.issues.push(Issue {
            file: file.to_string(),
            key: locator,
            message: message.into(),
        });
    }

    /// File a key path came from.
    pub fn file_of(&self, path: &str) -> String {
        self.prov.file_of(path).to_string()
    }

    fn doc(&mut self, node: &Node, s: Spec, kind: &'static str, default: String) {
        let pattern = node.key_pattern(s.key);
        if !self.docs.iter().any(|d| d.pattern == pattern) {
            self.docs.push(KeyDoc {
                pattern,
                kind,
                unit: s.unit,
                default: s.default_text.map_or(default, str::to_string),
                doc: s.doc.to_string(),
            });
        }
    }

    fn present<'v>(&mut self, node: &Node<'v>, s: Spec, required: bool) -> Option<&'v Value> {
        let v = node.look(s.key);
        if v.is_none() && required {
            self.issue(&node.key_path(s.key), "required key is missing");
        }
        v
    }

    /// A finite number in `range`. Integers are accepted.
    pub fn f64(&mut self, node: &Node, s: Spec, default: Default<f64>, range: Range) -> Option<f64> {
        let dtext = match default {
            Default::Required => "required".to_string(),
            Default::Value(d) => fmt_num(d),
            Default::None => "none".to_string(),
            Default::Inherited(_) => "inherited".to_string(),
        };
        self.doc(node, s, "number", dtext);
        let path = node.key_path(s.key);
        let Some(v) = self.present(node, s, matches!(default, Default::Required)) else {
            return default.fallback();
        };
        self.number(&path, v, range)
    }

    /// A finite number in `range` from a TOML value, or an issue at `path`.
    fn number(&mut self, path: &str, v: &Value, range: Range) -> Option<f64> {
        let x = match v {
            Value::Float(x) => *x,
            Value::Integer(i) => *i as f64,
            other => {
                self.issue(path, format!("must be a number, was {}", type_name(other)));
                return None;
            }
        };
        self.in_range(path, x, range)
    }

    fn in_range(&mut self, path: &str, x: f64, range: Range) -> Option<f64> {
        if !x.is_finite() {
            self.issue(path, format!("must be a finite number, was {x}"));
            return None;
        }
        if let Some(msg) = range.check(x) {
            self.issue(path, msg);
            return None;
        }
        Some(x)
    }

    /// A non-negative integer at least `min`.
    pub fn u64(&mut self, node: &Node, s: Spec, default: Default<u64>, min: u64) -> Option<u64> {
        let dtext = match default {
            Default::Required => "required".to_string(),
            Default::Value(d) => d.to_string(),
            Default::None => "none".to_string(),
            Default::Inherited(_) => "inherited".to_string(),
        };
        self.doc(node, s, "integer", dtext);
        let path = node.key_path(s.key);
        let Some(v) = self.present(node, s, matches!(default, Default::Required)) else {
            return default.fallback();
        };
        match v {
            Value::Integer(i) if *i >= min as i64 => Some(*i as u64),
            Value::Integer(i) => {
                self.issue(&path, format!("must be an integer ≥ {min}, was {i}"));
                None
            }
            other => {
                self.issue(&path, format!("must be an integer, was {}", type_name(other)));
                None
            }
        }
    }

    /// A boolean.
    pub fn bool(&mut self, node: &Node, s: Spec, default: bool) -> bool {
        self.doc(node, s, "boolean", default.to_string());
        let path = node.key_path(s.key);
        match self.present(node, s, false) {
            None => default,
            Some(Value::Boolean(b)) => *b,
            Some(other) => {
                self.issue(&path, format!("must be true or false, was {}", type_name(other)));
                default
            }
        }
    }

    /// A string.
    pub fn string(&mut self, node: &Node, s: Spec, default: Default<&str>) -> Option<String> {
        self.doc(node, s, "string", text_default(default));
        let path = node.key_path(s.key);
        match self.present(node, s, matches!(default, Default::Required)) {
            None => default.fallback().map(str::to_string),
            Some(Value::String(x)) => Some(x.clone()),
            Some(other) => {
                self.issue(&path, format!("must be a string, was {}", type_name(other)));
                None
            }
        }
    }

    /// One of `choices`.
    pub fn choice(
        &mut self,
        node: &Node,
        s: Spec,
        choices: &[&'static str],
        default: Default<&'static str>,
    ) -> Option<&'static str> {
        self.doc(node, s, "string", text_default(default));
        let pattern = node.key_pattern(s.key);
        if let Some(d) = self.docs.iter_mut().find(|d| d.pattern == pattern)
            && !d.doc.contains("One of:")
        {
            d.doc = format!("{} One of: {}.", s.doc, choices.join(", "));
        }
        let path = node.key_path(s.key);
        match self.present(node, s, matches!(default, Default::Required)) {
            None => default.fallback(),
            Some(Value::String(x)) => match choices.iter().find(|c| **c == x) {
                Some(c) => Some(c),
                None => {
                    self.issue(&path, format!("must be one of {}, was {x:?}", choices.join(", ")));
                    None
                }
            },
            Some(other) => {
                self.issue(&path, format!("must be a string, was {}", type_name(other)));
                None
            }
        }
    }

    /// A duration: a string like `"90s"`, `"15m"`, `"4h"`, `"30d"`, or whole seconds.
    pub fn duration(&mut self, node: &Node, s: Spec, default: Default<&str>) -> Option<u64> {
        self.doc(node, s, "duration", text_default(default));
        let path = node.key_path(s.key);
        let v = self.present(node, s, matches!(default, Default::Required));
        match v {
            None => default.fallback().and_then(|d| crate::units::parse_duration(d).ok()),
            Some(v) => match duration_value(v) {
                Ok(x) => Some(x),
                Err(msg) => {
                    self.issue(&path, msg);
                    None
                }
            },
        }
    }

    /// A sub-table (absent: `None`; wrong type: an issue).
    pub fn table<'v>(&mut self, node: &Node<'v>, key: &'static str, required: bool) -> Option<Node<'v>> {
        let pattern = node.key_pattern(key);
        self.table_as(node, key, required, pattern)
    }

    /// A sub-table whose keys are documented under `pattern` (several
    /// tables of the same shape share one entry in the reference).
    pub fn table_as<'v>(
        &mut self,
        node: &Node<'v>,
        key: &'static str,
        required: bool,
        pattern: String,
    ) -> Option<Node<'v>> {
        let path = node.key_path(key);
        match node.look(key) {
            None => {
                if required {
                    self.issue(&path, "required table is missing");
                }
                None
            }
            Some(Value::Table(t)) => Some(Node {
                pattern,
                path,
                table: t,
                looked: RefCell::new(Vec::new()),
            }),
            Some(other) => {
                self.issue(&path, format!("must be a table, was {}", type_name(other)));
                None
            }
        }
    }

    /// A number, or with `as_duration` a duration in seconds, in `range`.
    /// Documented as either: distribution parameters take the unit of their table.
    pub fn amount(
        &mut self,
        node: &Node,
        s: Spec,
        default: Default<f64>,
        range: Range,
        as_duration: bool,
    ) -> Option<f64> {
        let dtext = match default {
            Default::Required => "required".to_string(),
            Default::Value(d) => fmt_num(d),
            Default::None => "none".to_string(),
            Default::Inherited(_) => "inherited".to_string(),
        };
        self.doc(node, s, "number or duration", dtext);
        let path = node.key_path(s.key);
        let Some(v) = self.present(node, s, matches!(default, Default::Required)) else {
            return default.fallback();
        };
        if !as_duration {
            return self.number(&path, v, range);
        }
        match duration_value(v) {
            Ok(x) => self.in_range(&path, x as f64, range),
            Err(msg) => {
                self.issue(&path, msg);
                None
            }
        }
    }

    /// The entries of a table with user-chosen keys (`assets.<name>`); each
    /// entry must itself be a table. `placeholder` names the key in patterns.
    pub fn named_tables<'v>(&mut self, node: &Node<'v>, placeholder: &str) -> Vec<(String, Node<'v>)> {
        let mut out = Vec::new();
        for (k, v) in node.table {
            node.look(k);
            let path = node.key_path(k);
            match v {
                Value::Table(t) => out.push((
                    k.clone(),
                    Node {
                        path,
                        pattern: join(&node.pattern, placeholder),
                        table: t,
                        looked: RefCell::new(Vec::new()),
                    },
                )),
                other => self.issue(&path, format!("must be a table, was {}", type_name(other))),
            }
        }
        out
    }

    /// A table of user-chosen keys to numbers (`markets = { SOL = 0.6 }`).
    pub fn number_map(&mut self, node: &Node, s: Spec, range: Range) -> Option<Vec<(String, f64)>> {
        self.doc(node, s, "table of numbers", "none".into());
        let path = node.key_path(s.key);
        let v = node.look(s.key)?;
        let Value::Table(t) = v else {
            self.issue(&path, format!("must be a table of numbers, was {}", type_name(v)));
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in t {
            if let Some(x) = self.number(&join(&path, k), v, range) {
                out.push((k.clone(), x));
            }
        }
        Some(out)
    }

    /// An array (absent: `None`).
    pub fn array<'v>(
        &mut self,
        node: &Node<'v>,
        s: Spec,
        kind: &'static str,
        required: bool,
    ) -> Option<&'v Vec<Value>> {
        self.doc(node, s, kind, if required { "required".into() } else { "none".into() });
        let path = node.key_path(s.key);
        match self.present(node, s, required)? {
            Value::Array(a) => Some(a),
            other => {
                self.issue(&path, format!("must be an array, was {}", type_name(other)));
                None
            }
        }
    }

    /// A table element of an array, as a node at `path[i]`.
    pub fn element<'v>(&mut self, parent: &Node<'v>, key: &str, i: usize, v: &'v Value) -> Option<Node<'v>> {
        let path = format!("{}[{i}]", parent.key_path(key));
        match v {
            Value::Table(t) => Some(Node {
                path,
                pattern: format!("{}[]", parent.key_pattern(key)),
                table: t,
                looked: RefCell::new(Vec::new()),
            }),
            other => {
                self.issue(&path, format!("must be a table, was {}", type_name(other)));
                None
            }
        }
    }

    /// Flags every key of `node` that no read asked for.
    pub fn finish(&mut self, node: &Node) {
        let looked = node.looked.borrow();
        let mut unknown = Vec::new();
        for k in node.table.keys() {
            if !looked.iter().any(|l| l == k) {
                unknown.push(k.clone());
            }
        }
        for k in unknown {
            let mut known: Vec<&str> = looked.iter().map(String::as_str).collect();
            known.sort_unstable();
            let hint = if known.is_empty() {
                String::new()
            } else {
                format!(" (known keys here: {})", known.join(", "))
            };
            self.issue(&node.key_path(&k), format!("unknown key{hint}"));
        }
    }
}

/// Reads a duration value: a unit string or whole seconds.
pub fn duration_value(v: &Value) -> Result<u64, String> {
    match v {
        Value::String(s) => crate::units::parse_duration(s),
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        Value::Integer(i) => Err(format!("must be a non-negative duration, was {i}")),
        other => Err(format!(
            "must be a duration such as \"15m\" or a whole number of seconds, was {}",
            type_name(other)
        )),
    }
}

/// TOML type name for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn text_default(default: Default<&str>) -> String {
    match default {
        Default::Required => "required".to_string(),
        Default::Value(d) => format!("{d:?}"),
        Default::None => "none".to_string(),
        Default::Inherited(_) => "inherited".to_string(),
    }
}

fn fmt_num(x: f64) -> String {
    if x == f64::INFINITY {
        "none".into()
    } else if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Issue>, Option<f64>) {
        let t: Table = toml::from_str(text).unwrap();
        let prov = Provenance::new("s.toml".into());
        let mut r = Reader::new(&prov);
        let root = Node::root(&t);
        let v = r.f64(&root, spec("x", "USD", "a number"), Default::Value(1.0), Range::POS);
        r.finish(&root);
        (r.issues, v)
    }

    #[test]
    fn numbers_are_checked_for_type_finiteness_and_range() {
        let cases = [
            ("x = 2", None, Some(2.0)),
            ("", None, Some(1.0)),
            ("x = -1.0", Some("must be > 0, was -1"), None),
            ("x = nan", Some("finite"), None),
            ("x = inf", Some("finite"), None),
            ("x = \"a\"", Some("must be a number, was a string"), None),
            ("x = 1\ny = 2", Some("unknown key (known keys here: x)"), Some(1.0)),
        ];
        for (text, issue, value) in cases {
            let (issues, v) = read(text);
            assert_eq!(v, value, "{text}");
            match issue {
                None => assert!(issues.is_empty(), "{text}: {issues:?}"),
                Some(want) => {
                    assert_eq!(issues.len(), 1, "{text}: {issues:?}");
                    assert!(issues[0].message.contains(want), "{text}: {}", issues[0]);
                    assert_eq!(issues[0].file, "s.toml");
                }
            }
        }
    }

    #[test]
    fn provenance_finds_the_nearest_parent() {
        let mut p = Provenance::new("root.toml".into());
        p.set("venues.jlp".into(), "child.toml");
        p.set("scripted.a.actions".into(), "other.toml");
        assert_eq!(p.file_of("venues.jlp.borrow.min_rate"), "child.toml");
        assert_eq!(p.file_of("scripted.a.actions[3].at"), "other.toml");
        assert_eq!(p.file_of("assets.SOL.price"), "root.toml");
    }
}
