//! The rules beyond JSON Schema: cross-environment ordering and key parity, secrets, and the
//! platform's service-level objectives. Pure functions of the parsed and merged trees.

use crate::diagnostic::Rule;
use crate::finding::Finding;
use crate::secrets;
use crate::settings::{EnvironmentsSettings, path_matches};
use crate::source::Span;
use crate::tree::{self, FileId, Node, Value};

/// One environment's merged configuration.
#[derive(Debug, Clone)]
pub struct Merged {
    pub env: String,
    /// The overlay file of this environment.
    pub overlay: FileId,
    pub root: Node,
}

/// `[environments.ordering]`: declared numbers must not decrease (or increase) from an
/// environment to the next one that sets them.
pub fn ordering(envs: &[Merged], settings: &EnvironmentsSettings, out: &mut Vec<Finding>) {
    let chain = settings.order.join(" → ");
    let declared = settings.ordering.non_decreasing.iter().map(|p| (p, true));
    let declared = declared.chain(settings.ordering.non_increasing.iter().map(|p| (p, false)));
    for (path, increasing) in declared {
        let mut previous: Option<(&str, f64)> = None;
        for env in envs {
            let Some(node) = tree::get(&env.root, path) else {
                continue;
            };
            let Some(value) = node.as_f64() else { continue };
            if let Some((prev_env, prev)) = previous {
                let wrong = if increasing {
                    value < prev
                } else {
                    value > prev
                };
                if wrong {
                    let (relation, direction) = if increasing {
                        ("less", "decrease")
                    } else {
                        ("greater", "increase")
                    };
                    out.push(
                        Finding::value(
                            node,
                            Rule::Ordering,
                            format!(
                                "`{path}` is {} in {}, {relation} than {} in {prev_env}",
                                number(value),
                                env.env,
                                number(prev)
                            ),
                            Some(format!(
                                "`{path}` must not {direction} along {chain} ([environments.ordering] in shipgate.toml)"
                            )),
                        )
                        .about(&env.env),
                    );
                }
            }
            previous = Some((&env.env, value));
        }
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `[environments.parity]`: every key set in `from` is set in `to`, unless allow-listed.
/// `file_of` names an environment's own file, for the hint.
pub fn parity(
    envs: &[Merged],
    settings: &EnvironmentsSettings,
    file_of: &dyn Fn(&str) -> String,
    out: &mut Vec<Finding>,
) {
    for [from, to] in settings.parity_pairs() {
        let (Some(a), Some(b)) = (
            envs.iter().find(|e| e.env == from),
            envs.iter().find(|e| e.env == to),
        ) else {
            continue;
        };
        let to_file = file_of(&to);
        parity_walk(
            &a.root,
            &b.root,
            "",
            (&from, &to, &to_file),
            &settings.parity.allow,
            out,
        );
    }
}

fn parity_walk(
    a: &Node,
    b: &Node,
    prefix: &str,
    pair @ (from, to, to_file): (&str, &str, &str),
    allow: &[String],
    out: &mut Vec<Finding>,
) {
    let (Some(ta), Some(tb)) = (a.as_table(), b.as_table()) else {
        return;
    };
    for (key, child) in ta {
        let path = tree::join(prefix, key);
        // A null sets nothing (Helm removes the key; Spring reads the empty text).
        if child.value == Value::Null || allow.iter().any(|p| path_matches(p, &path)) {
            continue;
        }
        match tb.get(key) {
            Some(other) => parity_walk(child, other, &path, pair, allow, out),
            None => out.push(
                Finding::key(
                    child,
                    Rule::Parity,
                    format!("`{path}` is set in {from} but not in {to}"),
                    Some(format!(
                        "set it in {to_file} too, or list `{path}` in [environments.parity] allow in shipgate.toml"
                    )),
                )
                .about(to),
            ),
        }
    }
}

/// Secrets in one parsed file: literal values in credential keys, and values that look like
/// credentials anywhere. Calls `found` with each secret's text so it can be redacted.
pub fn secrets(
    root: &Node,
    text: &str,
    allow: &[String],
    out: &mut Vec<Finding>,
    found: &mut dyn FnMut(&str),
) {
    secrets_walk(root, &mut String::new(), text, allow, out, found);
}

/// `path` is one buffer for the whole walk, each key pushed on the way down and cut off on
/// the way back: the walk visits every key of every file, and a path allocated per key was
/// a tenth of its time.
fn secrets_walk(
    node: &Node,
    path: &mut String,
    text: &str,
    allow: &[String],
    out: &mut Vec<Finding>,
    found: &mut dyn FnMut(&str),
) {
    if !path.is_empty() && allow.iter().any(|p| path_matches(p, path)) {
        return;
    }
    match &node.value {
        Value::Table(t) => {
            // A table that names an existing Secret (`existingSecret`, `secretName`,
            // `secretRef`) holds references to it, not credentials.
            let refers = t.iter().any(|(k, v)| {
                v.as_str().is_some_and(|s| !s.is_empty()) && secrets::names_a_secret_object(k)
            });
            for (k, child) in t {
                if refers && child.as_table().is_none() && secrets::is_reference_name(child) {
                    continue;
                }
                let len = path.len();
                if len > 0 {
                    path.push('.');
                }
                path.push_str(k);
                secrets_walk(child, path, text, allow, out, found);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for item in items {
                secrets_walk(item, path, text, allow, out, found);
            }
        }
        _ => {
            if let Some(reason) = secret_reason(path, node) {
                found(text.get(node.span.range()).unwrap_or(""));
                if let Value::String(s) = &node.value {
                    found(s);
                }
                out.push(Finding::value(
                    node,
                    Rule::SecretLiteral,
                    format!("`{path}` {reason}; it must be a secret reference, never a literal"),
                    Some("store it in the secret manager and write `secret://…`, `${{ secrets.NAME }}` or `vault:…`".into()),
                ));
            }
        }
    }
}

/// Why the value at dotted `path` is a literal secret, if it is. `${NAME}` placeholders are
/// references; what is literal around them and in their defaults is checked. The key's
/// name and its parent's say whether it holds a credential
/// ([`secrets::holds_credential`]).
pub fn secret_reason(path: &str, node: &Node) -> Option<String> {
    if !matches!(
        node.value,
        Value::String(_) | Value::Integer(_) | Value::Float(_)
    ) {
        return None;
    }
    let facts = secrets::path_facts(path);
    let credential = facts.credential;
    let key = path.rsplit('.').next().unwrap_or("");
    // Below a map of a Secret's keys (`namespace_secrets`, `secretRef`), or in a key that
    // names one (`secret`, `secretKey`), a name like `db-password` refers to a credential.
    let refers = || facts.refers;
    match &node.value {
        Value::String(s) if s.is_empty() || secrets::is_reference(s) => None,
        Value::String(s) if secrets::is_empty_pem(s) => None,
        Value::String(_) if refers() && secrets::is_reference_name(node) => None,
        Value::String(s) if key == "key" && secrets::looks_random(s) => {
            Some("holds a random key (a literal credential)".into())
        }
        Value::String(s) if !crate::placeholder::find(s).is_empty() => crate::placeholder::find(s)
            .iter()
            .filter_map(|p| p.default.as_deref())
            .flat_map(crate::placeholder::literals)
            .find(|(_, d)| credential || secrets::looks_like_secret(d).is_some())
            .map(|_| "has a literal credential as its placeholder's default".to_string())
            .or_else(|| {
                crate::placeholder::literals(s)
                    .iter()
                    .find_map(|(_, part)| {
                        secrets::looks_like_secret(part).map(|what| format!("looks like {what}"))
                    })
            }),
        Value::String(s) => {
            if credential {
                Some("holds a literal credential".into())
            } else {
                secrets::looks_like_secret(s).map(|what| format!("looks like {what}"))
            }
        }
        Value::Integer(_) | Value::Float(_) if credential => {
            Some("holds a literal credential".into())
        }
        _ => None,
    }
}

/// The SLO rules, on the environment `[environments.slo]` names (default: the last).
pub fn slo(envs: &[Merged], settings: &EnvironmentsSettings, out: &mut Vec<Finding>) {
    let Some(target) = settings.slo_environment() else {
        return;
    };
    let first = out.len();
    slo_of(envs, settings, target, out);
    for f in &mut out[first..] {
        f.concerns.push(target.to_string());
    }
}

fn slo_of(envs: &[Merged], settings: &EnvironmentsSettings, target: &str, out: &mut Vec<Finding>) {
    let Some(env) = envs.iter().find(|e| e.env == target) else {
        return;
    };
    let s = &settings.slo;
    let numeric: [(&str, bool, f64, &str); 6] = [
        (
            "slo.availability_percent",
            true,
            s.min_availability_percent,
            "the availability objective is at least",
        ),
        (
            "slo.latency_p95_ms",
            false,
            s.max_latency_p95_ms,
            "the p95 latency objective is at most",
        ),
        (
            "slo.error_rate_percent",
            false,
            s.max_error_rate_percent,
            "the error-rate objective is at most",
        ),
        (
            "slo.recovery_time_seconds",
            false,
            s.max_recovery_time_seconds,
            "the recovery-time objective is at most",
        ),
        (
            "slo.data_loss_window_seconds",
            false,
            s.max_data_loss_window_seconds,
            "the data-loss window objective is at most",
        ),
        (
            "service.replicas",
            true,
            s.min_replicas,
            "production needs at least",
        ),
    ];
    for (path, at_least, limit, objective) in numeric {
        let Some(node) = require(env, path, out) else {
            continue;
        };
        let Some(value) = node.as_f64() else {
            out.push(Finding::value(
                node,
                Rule::Slo,
                format!("`{path}` must be a number"),
                None,
            ));
            continue;
        };
        let ok = if at_least {
            value >= limit
        } else {
            value <= limit
        };
        if !ok {
            out.push(Finding::value(
                node,
                Rule::Slo,
                format!(
                    "`{path}` is {} in {target}; {objective} {}",
                    number(value),
                    number(limit)
                ),
                Some(
                    "raise the objective or lower the limit in [environments.slo] of shipgate.toml"
                        .into(),
                ),
            ));
        }
    }
    let canary = if s.require_canary {
        require(env, "canary.enabled", out)
    } else {
        None
    };
    if let Some(node) = canary.filter(|n| n.value != Value::Boolean(true)) {
        out.push(Finding::value(
            node,
            Rule::Slo,
            format!(
                "`canary.enabled` must be true in {target}: production rollouts go through a canary"
            ),
            None,
        ));
    }
    if let Some(node) = require(env, "service.availability_zones", out) {
        let zones = match &node.value {
            Value::Array(items) => {
                let mut names: Vec<&Value> = items.iter().map(|n| &n.value).collect();
                names.dedup();
                names.len()
            }
            _ => 0,
        };
        if zones < s.min_availability_zones {
            out.push(Finding::value(
                node,
                Rule::Slo,
                format!(
                    "`service.availability_zones` lists {zones} distinct zone(s) in {target}; at least {} are needed",
                    s.min_availability_zones
                ),
                Some("spread production over more than one availability zone".into()),
            ));
        }
    }
}

fn require<'n>(env: &'n Merged, path: &str, out: &mut Vec<Finding>) -> Option<&'n Node> {
    let node = tree::get(&env.root, path);
    if node.is_none() {
        out.push(Finding::at(
            env.overlay,
            Span::default(),
            Rule::Slo,
            format!("{} does not set `{path}`, which the SLO rules require", env.env),
            Some("set it in base.toml or in this overlay, or turn the rule off: [environments.slo] enabled = false".into()),
        ));
    }
    node
}
