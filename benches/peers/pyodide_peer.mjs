// Peer of `make bench`: Pyodide (CPython compiled with Emscripten) under Node.
//
// One "sandbox" is one Pyodide instance (`loadPyodide()`), the unit of
// isolation Pyodide offers. The warm call is the fastest JSON path a host
// has into Pyodide: a Python function taking and returning JSON text.
//
//   node pyodide_peer.mjs first
//   node pyodide_peer.mjs measure [--fresh N] [--calls N] [--batches N] [--live-max N]
//   node pyodide_peer.mjs compute KERNELS.py REPS
//   node pyodide_peer.mjs version
//
// Every mode prints one JSON object on stdout. Run with `node --expose-gc`
// so the memory figure is taken after collecting the earlier instances.
import { readFileSync } from "node:fs";
import { loadPyodide, version } from "pyodide";

const CODE = "def f(x):\n    return x + 1\n";

function privateKib() {
  let total = 0;
  for (const line of readFileSync("/proc/self/smaps_rollup", "utf8").split("\n")) {
    if (line.startsWith("Private_")) total += Number(line.split(/\s+/)[1]);
  }
  return total;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

// Quiet instance: Pyodide prints loading messages to stdout by default.
const load = () => loadPyodide({ stdout: () => {}, stderr: () => {} });

async function fresh() {
  const py = await load();
  py.runPython(CODE);
  const result = py.runPython("f(1)");
  if (result !== 2) throw new Error(`f(1) returned ${result}`);
  return py;
}

async function first() {
  const start = performance.now();
  const py = await fresh();
  return {
    first_sandbox_ms: performance.now() - start,
    result: String(py.runPython("f(1)")),
  };
}

async function measure(args) {
  const freshN = option(args, "--fresh", 5);
  const calls = option(args, "--calls", 2000);
  const batches = option(args, "--batches", 20);
  const liveMax = option(args, "--live-max", 8);

  await fresh(); // the first load compiles; later ones are what a host repeats
  const samples = [];
  for (let i = 0; i < freshN; i++) {
    const start = performance.now();
    await fresh();
    samples.push(performance.now() - start);
  }

  const py = await fresh();
  const fJson = py.runPython(
    "import json\ndef f_json(s):\n    return json.dumps(f(*json.loads(s)))\nf_json",
  );
  for (let i = 0; i < calls; i++) fJson("[1]");
  const perCall = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) {
      if (fJson("[1]") !== "2") throw new Error("f_json returned something else");
    }
    perCall.push(((performance.now() - start) * 1e3) / calls);
  }

  globalThis.gc?.();
  const before = privateKib();
  const live = [];
  let stop = "reached the bench's cap (--live-max)";
  try {
    while (live.length < liveMax) live.push(await fresh());
  } catch (e) {
    stop = String(e).slice(0, 200);
  }
  globalThis.gc?.();
  const after = privateKib();
  const freshMs = median(samples);
  return {
    fresh_ms: freshMs,
    warm_call_us: median(perCall),
    per_second_1_thread: 1000 / freshMs,
    private_mib_per_sandbox: live.length ? (after - before) / 1024 / live.length : null,
    memory_sandboxes: live.length,
    live_sandboxes: live.length,
    live_cap: liveMax,
    live_stop: stop,
  };
}

async function compute(path, reps) {
  const py = await load();
  py.runPython(readFileSync(path, "utf8"));
  return JSON.parse(py.runPython(`json.dumps(bench_run(${Number(reps)}))`));
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  let out;
  if (mode === "first") out = await first();
  else if (mode === "measure") out = await measure(args);
  else if (mode === "compute") out = await compute(args[0], args[1]);
  else if (mode === "version") {
    const py = await load();
    out = { pyodide: version, python: py.runPython("import sys; sys.version.split()[0]"), node: process.versions.node };
  } else throw new Error(`unknown mode ${mode}`);
  console.log(JSON.stringify(out));
}

await main();
