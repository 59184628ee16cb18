//! Speed and memory figures of isola, with a native CPython subprocess as
//! the peer baseline, measured side by side in one run.
//!
//! Run: `make bench` (or `cargo bench --bench sandbox --profile dev`).
//! Prints a table; nothing here asserts — targets are read off the table:
//! sandbox creation about 1 ms, a call in microseconds.

use std::{
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use isola::{Arg, DiscardSink, NoHost, SandboxOptions, SandboxTemplate, Value};

/// What a template's prelude typically does: import modules, define
/// helpers, build a lookup table.
const BENCH_PRELUDE: &str = "\
import json, decimal, fractions, statistics, dataclasses, textwrap, csv, io
import email.message, xml.etree.ElementTree as ET, urllib.parse, datetime, difflib
WORDS = {f'w{i}': i * 7 % 1009 for i in range(20000)}
@dataclasses.dataclass
class Item:
    name: str
    price: decimal.Decimal
def score(text):
    return sum(WORDS.get('w' + str(ord(c)), 0) for c in text)
def table(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn row(name: &str, value: impl std::fmt::Display) {
    println!("| {name:<52} | {value:>14} |");
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = std::env::var_os("ISOLA_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target/isola-cache"));
    println!("| measurement                                          |         median |");
    println!("|------------------------------------------------------|----------------|");

    let start = Instant::now();
    let template = rt
        .block_on(
            SandboxTemplate::builder()
                .cache(Some(cache.clone()))
                .build_embedded(),
        )
        .expect("template");
    row(
        "template build (cache warm after first run)",
        format!("{:.1?}", start.elapsed()),
    );

    let options = SandboxOptions::default();
    let create = measure(50, || {
        drop(rt.block_on(template.instantiate(NoHost, &options)).unwrap());
    });
    row("sandbox create (instantiate)", format!("{create:.1?}"));

    let sink: Arc<dyn isola::OutputSink> = Arc::new(DiscardSink);
    let create_and_first_call = measure(30, || {
        let mut sb = rt.block_on(template.instantiate(NoHost, &options)).unwrap();
        rt.block_on(sb.eval_script("x = 1", sink.clone())).unwrap();
    });
    row(
        "sandbox create + first eval",
        format!("{create_and_first_call:.1?}"),
    );

    // A prelude doing real work (imports, definitions, a computed table),
    // run in every sandbox, and the same prelude snapshotted at template
    // build (`prelude_snapshot`; the first run compiles the snapshot).
    for (label, snapshot) in [
        ("prelude per sandbox: create + first eval", false),
        ("prelude snapshotted: create + first eval", true),
    ] {
        let template = rt
            .block_on(
                SandboxTemplate::builder()
                    .cache(Some(cache.clone()))
                    .prelude(Some(BENCH_PRELUDE.into()))
                    .prelude_snapshot(snapshot)
                    .build_embedded(),
            )
            .expect("prelude template");
        let time = measure(30, || {
            let mut sb = rt.block_on(template.instantiate(NoHost, &options)).unwrap();
            rt.block_on(sb.eval_script("x = score('abc')", sink.clone()))
                .unwrap();
        });
        row(label, format!("{time:.1?}"));
    }

    let mut sb = rt.block_on(template.instantiate(NoHost, &options)).unwrap();
    rt.block_on(sb.eval_script("def add(a, b):\n    return a + b\n", sink.clone()))
        .unwrap();
    rt.block_on(sb.eval_script(
        "def gen(n):\n    for i in range(n):\n        yield i\n",
        sink.clone(),
    ))
    .unwrap();
    let one = Value::from_json_str("1").unwrap();
    let call = measure(2000, || {
        rt.block_on(sb.call_with_sink(
            "add",
            [Arg::Positional(one.clone()), Arg::Positional(one.clone())],
            sink.clone(),
        ))
        .unwrap();
    });
    row("call add(1, 1)", format!("{call:.1?}"));

    let eval = measure(500, || {
        rt.block_on(sb.eval_script("y = [i * i for i in range(10)]", sink.clone()))
            .unwrap();
    });
    row("eval small script", format!("{eval:.1?}"));

    let thousand = Value::from_json_str("10000").unwrap();
    let stream = measure(10, || {
        rt.block_on(sb.call_with_sink("gen", [Arg::Positional(thousand.clone())], sink.clone()))
            .unwrap();
    });
    row(
        "generator: per streamed item (10k items)",
        format!("{:.2?}", stream / 10_000),
    );
    row(
        "sandbox linear memory after these calls",
        format!("{:.1} MiB", sb.memory_usage() as f64 / 1048576.0),
    );
    drop(sb);

    let before = rss_bytes();
    let start = Instant::now();
    let many: Vec<_> = (0..200)
        .map(|_| rt.block_on(template.instantiate(NoHost, &options)).unwrap())
        .collect();
    let elapsed = start.elapsed();
    let after = rss_bytes();
    row(
        "200 live sandboxes: creation time each",
        format!("{:.2?}", elapsed / 200),
    );
    row(
        "200 live sandboxes: resident memory each",
        format!(
            "{:.2} MiB",
            (after.saturating_sub(before)) as f64 / 200.0 / 1048576.0
        ),
    );
    drop(many);

    // Peer baseline: a fresh native CPython process per call.
    let python = std::env::var("ISOLA_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let spawn = measure(20, || {
        let status = Command::new(&python)
            .args([
                "-S",
                "-c",
                "def add(a, b):\n    return a + b\nprint(add(1, 2))",
            ])
            .output()
            .expect("running python3");
        assert!(status.status.success());
    });
    row(
        "peer: native CPython subprocess (-S) per call",
        format!("{spawn:.1?}"),
    );
}
