//! The monitoring files in deploy/: the alert rules load in Prometheus (`promtool`), and the
//! rules and the Grafana dashboard name only metrics the gateway records.

use std::collections::BTreeSet;
use std::process::Command;

const ALERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/prometheus/hookgate-alerts.yml");
const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/hookgate-dashboard.json");

/// Metric names in a text, without the histogram series suffixes.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("hookgate_") {
        let name: String =
            rest[i..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
        rest = &rest[i + name.len()..];
        let base = ["_bucket", "_count", "_sum"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        names.insert(base.to_owned());
    }
    names
}

/// The metrics the gateway describes (one list, in crates/server/src/ops.rs).
fn recorded() -> BTreeSet<String> {
    let ops = include_str!("../../server/src/ops.rs");
    ops.split("describe_")
        .skip(1)
        .filter_map(|s| s.split_once('"')?.1.split_once('"').map(|(name, _)| name.to_owned()))
        .filter(|name| name.starts_with("hookgate_"))
        .collect()
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let out = Command::new("promtool")
        .args(["check", "rules", ALERTS])
        .output()
        .expect("promtool (Debian's prometheus package; scripts/test.sh installs it)");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_rules_and_the_dashboard_name_only_recorded_metrics() {
    let known = recorded();
    assert!(known.len() >= 15, "{known:?}");
    let dashboard = std::fs::read_to_string(DASHBOARD).unwrap();
    serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is JSON");
    for (file, text) in [("alerts", std::fs::read_to_string(ALERTS).unwrap()), ("dashboard", dashboard)] {
        let used = metric_names(&text);
        assert!(!used.is_empty());
        let unknown: Vec<_> = used.difference(&known).collect();
        assert!(unknown.is_empty(), "{file} names metrics the gateway does not record: {unknown:?}");
    }
}
