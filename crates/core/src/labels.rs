//! Labels and label selectors, with the grammar Hetzner (and Kubernetes) use:
//! `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by commas (and).

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// A resource's labels. Ordered so that renderings and stored rows are stable.
pub type Labels = BTreeMap<String, String>;

/// Checks every key and value, naming the offending one in the error.
pub fn validate(labels: &Labels) -> Result<()> {
    for (k, v) in labels {
        if !valid_key(k) {
            return Err(Error::invalid_field("labels", format!("label key '{k}' is invalid")));
        }
        if !valid_value(v) {
            return Err(Error::invalid_field("labels", format!("label value '{v}' of key '{k}' is invalid")));
        }
    }
    Ok(())
}

/// `[prefix/]name`: name 1-63 chars of `[a-zA-Z0-9_.-]` starting and ending alphanumeric;
/// prefix a DNS subdomain of at most 253 chars.
fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && valid_value(name)
}

/// Empty, or 1-63 chars of `[a-zA-Z0-9_.-]` starting and ending alphanumeric.
fn valid_value(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let b = value.as_bytes();
    value.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            // As in Kubernetes, `k!=v` also matches resources without the key.
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
        }
    }
}

/// A parsed label selector: all requirements must hold. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses the selector grammar; errors name the `label_selector` field.
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_field("label_selector", why.to_string());
        let mut reqs = Vec::new();
        for term in split_terms(input).map_err(|e| bad(&e))? {
            let term = term.trim();
            if term.is_empty() {
                return Err(bad("empty requirement"));
            }
            reqs.push(parse_term(term).ok_or_else(|| bad(&format!("cannot parse '{term}'")))?);
        }
        Ok(Selector(reqs))
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }

    /// The key and value of a selector that is one `key=value` requirement and nothing
    /// else: the one kind a label index answers exactly.
    pub fn single_equals(&self) -> Option<(&str, &str)> {
        match self.0.as_slice() {
            [Requirement::Equals(k, v)] => Some((k, v)),
            _ => None,
        }
    }

    /// The requirements a label index can answer: only rows with one of these
    /// key/value pairs can match.
    pub fn index_terms(&self) -> Vec<IndexTerm> {
        self.0
            .iter()
            .filter_map(|r| match r {
                Requirement::Equals(k, v) => Some(IndexTerm::Equals(k.clone(), v.clone())),
                Requirement::In(k, vs) => Some(IndexTerm::In(k.clone(), vs.clone())),
                _ => None,
            })
            .collect()
    }
}

/// A selector requirement that a `(key, value)` index answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexTerm {
    Equals(String, String),
    In(String, Vec<String>),
}

/// Splits on commas that are not inside parentheses.
fn split_terms(input: &str) -> std::result::Result<Vec<&str>, String> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    if !input.trim().is_empty() {
        terms.push(&input[start..]);
    }
    Ok(terms)
}

fn parse_term(term: &str) -> Option<Requirement> {
    let key_ok = |k: &str| valid_key(k).then(|| k.to_string());
    if let Some(k) = term.strip_prefix('!') {
        return key_ok(k.trim()).map(Requirement::NotExists);
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Some(Requirement::NotEquals(key_ok(k.trim())?, value(v)?));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Some(Requirement::Equals(key_ok(k.trim())?, value(v)?));
    }
    if let Some((k, set)) = split_set_op(term, " notin ") {
        return Some(Requirement::NotIn(key_ok(k)?, parse_set(set)?));
    }
    if let Some((k, set)) = split_set_op(term, " in ") {
        return Some(Requirement::In(key_ok(k)?, parse_set(set)?));
    }
    key_ok(term).map(Requirement::Exists)
}

fn value(v: &str) -> Option<String> {
    let v = v.trim();
    valid_value(v).then(|| v.to_string())
}

fn split_set_op<'a>(term: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let at = term.find(op)?;
    Some((term[..at].trim(), term[at + op.len()..].trim()))
}

fn parse_set(set: &str) -> Option<Vec<String>> {
    let inner = set.strip_prefix('(')?.strip_suffix(')')?;
    if inner.trim().is_empty() {
        return None;
    }
    inner.split(',').map(value).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator_matches_as_documented() {
        let web = labels(&[("env", "prod"), ("role", "web")]);
        let db = labels(&[("env", "staging"), ("role", "db"), ("backup", "")]);
        let bare = Labels::new();
        let cases: &[(&str, [bool; 3])] = &[
            ("", [true, true, true]),
            ("env=prod", [true, false, false]),
            ("env==prod", [true, false, false]),
            ("env!=prod", [false, true, true]),
            ("env", [true, true, false]),
            ("!env", [false, false, true]),
            ("backup", [false, true, false]),
            ("role in (web,db)", [true, true, false]),
            ("role in (web)", [true, false, false]),
            ("role notin (web)", [false, true, true]),
            ("env=prod,role=web", [true, false, false]),
            ("env=prod,role=db", [false, false, false]),
            ("role in (web, db),!backup", [true, false, false]),
            ("env = prod", [true, false, false]),
            ("example.com/tier", [false, false, false]),
        ];
        for (sel, want) in cases {
            let s = Selector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            let got = [s.matches(&web), s.matches(&db), s.matches(&bare)];
            assert_eq!(&got, want, "selector {sel:?}");
        }
    }

    #[test]
    fn malformed_selectors_are_invalid_input() {
        for sel in ["=prod", "a,,b", "role in (web", "role in web", "!", "-bad", "k in ()", "a)"] {
            let err = Selector::parse(sel);
            assert!(
                matches!(&err, Err(Error::InvalidInput { fields, .. }) if fields[0].name == "label_selector"),
                "{sel:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn label_validation() {
        assert!(validate(&labels(&[("env", "prod"), ("example.com/x", ""), ("a.b_c-d", "v1.2")])).is_ok());
        for bad in [("", "x"), ("-a", "x"), ("a", "-x"), ("a", &"x".repeat(64)), ("Bad.Prefix/a", "x"), ("a b", "c")] {
            assert!(validate(&labels(&[bad])).is_err(), "{bad:?}");
        }
    }
}
