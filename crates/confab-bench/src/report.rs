//! Results: a human table and a machine-readable JSON document with the commit and machine.

use std::time::Duration;

use serde_json::{Value, json};

pub struct Report {
    pub scenario: &'static str,
    pub params: Value,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// SPEC §6's target, where one applies.
    pub target: Option<&'static str>,
}

impl Report {
    pub fn new(scenario: &'static str, params: Value) -> Self {
        Self {
            scenario,
            params,
            rows: Vec::new(),
        }
    }

    pub fn add(
        &mut self,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: Option<&'static str>,
    ) {
        self.rows.push(Row {
            name: name.into(),
            value,
            unit,
            target,
        });
    }

    /// p50, p95, p99 and max of `samples`, in milliseconds.
    pub fn latencies<S: Into<String>>(
        &mut self,
        prefix: [S; 4],
        samples: &mut [Duration],
        targets: [Option<&'static str>; 4],
    ) {
        samples.sort_unstable();
        for ((name, q), target) in prefix.into_iter().zip([0.50, 0.95, 0.99, 1.0]).zip(targets) {
            self.add(
                name,
                percentile(samples, q).as_secs_f64() * 1000.0,
                "ms",
                target,
            );
        }
    }

    pub fn print(&self) {
        println!("confab-bench {} {}", self.scenario, self.params);
        let width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(34);
        println!(
            "{:<width$} {:>14} {:<10} SPEC §6 target",
            "measure", "value", "unit"
        );

        for r in &self.rows {
            println!(
                "{:<width$} {:>14.3} {:<10} {}",
                r.name,
                r.value,
                r.unit,
                r.target.unwrap_or("")
            );
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "params": self.params,
            "results": self.rows.iter().map(|r| json!({"name": r.name, "value": r.value, "unit": r.unit, "target": r.target})).collect::<Vec<_>>(),
            "commit": commit(),
            "machine": machine(),
        })
    }
}

pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn commit() -> String {
    std::env::var("CONFAB_COMMIT").ok().unwrap_or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| "unknown".into())
    })
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .map(|v| v.trim().trim_end_matches(" kB").trim().to_owned())
            })
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    json!({"cores": cores, "memory_gib": (mem_kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0})
}
