//! A short run of every scenario at tiny sizes against the real server: it must complete and
//! print well-formed JSON. No timing is asserted; `BENCHMARKS.md` holds the measurements.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The `confab` binary built beside this test (the workspace's test run builds it).
fn confab_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let binary = dir.join("confab");
    assert!(
        binary.exists(),
        "build the server first: cargo build -p confab ({})",
        binary.display()
    );
    binary
}

fn run(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_confab-bench"))
        .arg("--server")
        .arg(confab_binary())
        .arg("--json")
        .args(args)
        .output()
        .expect("run confab-bench");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(report["scenario"], args[0]);
    let results = report["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        assert!(
            r["name"].is_string() && r["value"].is_number() && r["unit"].is_string(),
            "{r}"
        );
    }
    assert!(report["commit"].is_string());
    assert!(report["machine"]["cores"].as_u64().is_some_and(|c| c > 0));
    report
}

#[test]
fn idle() {
    run(&["idle", "--connections", "20"]);
}

#[test]
fn fanout() {
    let report = run(&["fanout", "--members", "10", "--messages", "3"]);
    assert_eq!(report["params"]["members"], 10);
}

#[test]
fn latency() {
    run(&[
        "latency",
        "--rate",
        "50",
        "--seconds",
        "1",
        "--channels",
        "2",
        "--senders",
        "2",
    ]);
}

#[test]
fn throughput() {
    run(&[
        "throughput",
        "--seconds",
        "1",
        "--senders",
        "2",
        "--window",
        "4",
    ]);
}

#[test]
fn floor() {
    let report = run(&[
        "floor",
        "--sockets",
        "20",
        "--messages",
        "3",
        "--writers",
        "2",
        "--round-trip-sockets",
        "4",
        "--seconds",
        "1",
    ]);
    let results = report["results"].as_array().expect("results");
    let value = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["value"].as_f64())
            .unwrap_or_else(|| panic!("no {name} in {report}"))
    };
    // Three messages were all read to their last byte, and round trips completed.
    assert!(value("last byte max") > 0.0);
    assert!(value("round trips per second") > 0.0);
}

/// Disk writes alone (no fan-out, no round trips): the one row is there.
#[test]
fn floor_disk() {
    let report = run(&[
        "floor",
        "--sockets",
        "0",
        "--round-trip-sockets",
        "0",
        "--disk-mib",
        "4",
        "--disk-files",
        "2",
    ]);
    assert!(result(&report, "disk write + fsync, 2 file(s) at once") > 0.0);
}

/// Three 1 MiB uploads at once and one alone: every one answered 200, every one read back
/// byte for byte, and the memory and throughput rows there (their values are not judged).
#[test]
fn uploads() {
    let report = run(&[
        "uploads",
        "--concurrent",
        "3",
        "--size-mib",
        "1",
        "--sequential",
        "1",
        "--users",
        "2",
        "--verify-all",
    ]);
    let value = |name: &str| result(&report, name);
    assert_eq!(value("concurrent: uploads answered 200"), 3.0);
    assert_eq!(value("concurrent: uploads failed"), 0.0);
    assert_eq!(value("concurrent: bytes stored"), 3.0);
    assert_eq!(value("one at a time: uploads answered 200"), 1.0);
    assert_eq!(value("one at a time: uploads failed"), 0.0);
    assert_eq!(value("uploads read back"), 4.0);
    assert_eq!(value("uploads read back intact"), 4.0);
    for row in [
        "concurrent: throughput",
        "concurrent: upload p99",
        "concurrent: server RSS peak",
        "concurrent: server RSS growth at peak",
        "one at a time: throughput",
    ] {
        value(row);
    }
}

/// A small history searched by every query class, one at a time and two at once: what was
/// planted is found (the rare words in exactly their 10 messages each, the CJK words in
/// theirs), every result highlighted, the index sized (their times are not judged).
fn search(extra: &[&str]) -> Value {
    let mut args = vec![
        "search",
        "--messages",
        "2000",
        "--queries",
        "2",
        "--senders",
        "4",
        "--channels",
        "5",
        "--concurrency",
        "2",
    ];
    args.extend(extra);
    let report = run(&args);
    let value = |name: &str| result(&report, name);
    assert_eq!(value("populate: messages written"), 2000.0);
    assert_eq!(value("one at a time: rare word mean results"), 10.0);
    assert_eq!(value("one at a time: rare word mean total_estimate"), 10.0);
    // 上海 and 東京 are each in the messages numbered 17 and 517 modulo 1,000.
    assert_eq!(value("one at a time: CJK word mean total_estimate"), 2.0);
    assert_eq!(value("one at a time: common word mean results"), 20.0);
    assert_eq!(value("one at a time: searches"), 18.0);
    assert_eq!(value("2 at once: searches"), 18.0);
    assert_eq!(value("one at a time: results with no highlight"), 0.0);
    assert!(value("index size: search index per message") > 0.0);
    report
}

#[test]
fn search_on_sqlite() {
    let report = search(&[]);
    assert_eq!(report["params"]["store"], "sqlite");
    assert!(
        result(
            &report,
            "index size: search_text (FTS5 trigram, shadow tables)"
        ) > 0.0
    );
}

#[test]
fn search_on_postgres() {
    let postgres = postgres_url();
    let report = search(&["--postgres", &postgres]);
    assert_eq!(report["params"]["store"], "postgres");
    assert!(result(&report, "index size: message_search_grams (GIN trigram)") > 0.0);
}

#[test]
fn catchup() {
    run(&["catchup", "--clients", "3", "--missed", "50"]);
}

fn redis_url() -> String {
    std::env::var("CONFAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn postgres_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[test]
fn latency_across_two_gateways_on_postgres() {
    let (redis, postgres) = (redis_url(), postgres_url());
    let report = run(&[
        "latency",
        "--gateways",
        "2",
        "--redis",
        &redis,
        "--postgres",
        &postgres,
        "--rate",
        "50",
        "--seconds",
        "1",
    ]);
    assert_eq!(report["params"]["gateways"], 2);
    assert_eq!(report["params"]["store"], "postgres");
}

#[test]
fn throughput_on_postgres() {
    let postgres = postgres_url();
    let report = run(&[
        "throughput",
        "--postgres",
        &postgres,
        "--seconds",
        "1",
        "--senders",
        "4",
    ]);
    assert_eq!(report["params"]["store"], "postgres");
}

/// One fault of each kind against a tiny fleet: the run completes, and (a correctness check,
/// not a timing one) nothing acknowledged was lost or stored twice.
#[test]
fn faults() {
    let report = run(&[
        "faults",
        "--clients",
        "4",
        "--faults",
        "6",
        "--every-ms",
        "1500",
    ]);
    let value = |name: &str| result(&report, name);
    assert!(value("acknowledged sends") > 0.0);
    assert_eq!(value("acknowledged sends lost"), 0.0);
    assert_eq!(value("messages stored twice"), 0.0);
    assert_eq!(value("clients never acknowledged again after a fault"), 0.0);
}

/// A tiny storm in both modes: every client reconnects to the other gateway and ends current
/// with nothing missing or doubled.
#[test]
fn storm_across_two_gateways() {
    let redis = redis_url();
    let report = run(&[
        "storm",
        "--gateways",
        "2",
        "--redis",
        &redis,
        "--clients",
        "6",
        "--channels",
        "3",
        "--pool",
        "5",
        "--messages",
        "40",
        "--rate",
        "200",
    ]);
    let value = |name: &str| result(&report, name);
    for mode in ["sync", "feeds"] {
        assert_eq!(value(&format!("{mode}: clients current")), 6.0);
        assert_eq!(value(&format!("{mode}: messages missing")), 0.0);
        assert_eq!(value(&format!("{mode}: messages doubled")), 0.0);
        assert_eq!(value(&format!("{mode}: live sequence holes")), 0.0);
    }
}

/// The value of one row of a report, by its name.
fn result(report: &Value, name: &str) -> f64 {
    report["results"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["name"] == name))
        .and_then(|r| r["value"].as_f64())
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}
