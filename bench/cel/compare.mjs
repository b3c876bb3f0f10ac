// Runs our cel_bench and evaluates the same expressions (expressions.json) with @bufbuild/cel
// and @marcbachmann/cel-js on this machine, then prints one markdown report: median ns per
// evaluation, allocations per evaluation, compile time, the npm engines' ns, our speed-up over
// the faster of them, and the targets with a verdict each.
//
//   node compare.mjs PATH/TO/cel_bench        (bench/cel/run.sh builds it and calls this)
//   REPS=9 node compare.mjs PATH/TO/cel_bench  (more repetitions: steadier medians)
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { parse as bufParse, plan as bufPlan, celEnv, isCelError } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { parse as marcParse } from "@marcbachmann/cel-js";

const here = new URL(".", import.meta.url).pathname;
const fixture = JSON.parse(readFileSync(here + "expressions.json", "utf8"));
const benchBinary = process.argv[2];
const reps = Number(process.env.REPS || 5);
if (!benchBinary) {
  console.error("usage: node compare.mjs PATH/TO/cel_bench");
  process.exit(2);
}

// @bufbuild/cel wants Map for maps and bigint for ints; cel-js plain objects and bigint.
function toBuf(v) {
  if (Array.isArray(v)) return v.map(toBuf);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toBuf(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}
function toMarc(v) {
  if (Array.isArray(v)) return v.map(toMarc);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toMarc(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Median over `reps` runs of ~200 ms each, after a JIT warm-up: ns per call.
function time(fn) {
  for (let i = 0; i < 50000; i++) fn();
  const runs = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 200_000_000n) {
      for (let i = 0; i < 10000; i++) fn();
      n += 10000;
      elapsed = process.hrtime.bigint() - start;
    }
    runs.push(Number(elapsed) / n);
  }
  return median(runs);
}

// Ours: medians of `reps` repetitions, eval and compile benchmarks.
const out = execFileSync(benchBinary, ["--benchmark_format=json", `--benchmark_repetitions=${reps}`,
                                       "--benchmark_report_aggregates_only=true",
                                       "--benchmark_min_time=0.2"],
                         { encoding: "utf8", maxBuffer: 64 << 20 });
const toNs = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };
const ours = {};
// Google Benchmark writes NaN for the variation of a counter that is always 0: not JSON.
const report = JSON.parse(out.replace(/:\s*-?(nan|NaN|inf|Infinity)\b/g, ": null"));
for (const b of report.benchmarks) {
  if (b.aggregate_name !== "median") continue;
  const [kind, name] = b.run_name.split("/");
  ours[name] ??= {};
  ours[name][kind] = b.cpu_time * toNs[b.time_unit];
  if (kind === "eval") ours[name].allocs = b["allocs/eval"];
}

const bufVars = Object.fromEntries(Object.entries(fixture.vars).map(([k, x]) => [k, toBuf(x)]));
const marcVars = toMarc(fixture.vars);
const env = celEnv({ funcs: strings });
const rows = [];
for (const [name, expr] of fixture.expressions) {
  const bufFn = bufPlan(env, bufParse(expr));
  const bufResult = bufFn(bufVars);
  const marcFn = marcParse(expr);
  let marcResult;
  try { marcResult = marcFn(marcVars); } catch (e) { marcResult = e; }
  const buf = bufResult === true ? time(() => bufFn(bufVars)) : NaN;
  const marc = marcResult === true ? time(() => marcFn(marcVars)) : NaN;
  const npm = [buf, marc].filter((x) => !Number.isNaN(x));
  const mine = ours[name] || {};
  rows.push({ name, expr, ns: mine.eval, allocs: mine.allocs, compile: mine.compile, buf, marc,
              ratio: npm.length && mine.eval ? Math.min(...npm) / mine.eval : NaN,
              note: (bufResult !== true ? ` @bufbuild/cel: ${isCelError(bufResult) ? bufResult.message : bufResult}.` : "") +
                    (marcResult !== true ? ` cel-js: ${marcResult}.` : "") });
}

const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const cell = (s) => s.replaceAll("|", "\\|");
console.log(`CEL evaluation, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), node ${process.version}, ` +
            `median of ${reps} runs\n`);
console.log("| name | expression | switchyard ns | allocs/eval | compile µs | @bufbuild/cel ns | @marcbachmann/cel-js ns | speed-up vs faster npm |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.name} | \`${cell(r.expr)}\` | ${f(r.ns)} | ${f(r.allocs, 0)} | ${f(r.compile / 1000, 2)} | ` +
              `${f(r.buf)} | ${f(r.marc)} | ${Number.isNaN(r.ratio) ? "-" : r.ratio.toFixed(1) + "×"} |`);
}
for (const r of rows.filter((r) => r.note)) console.log(`\n${r.name}:${r.note}`);

// The targets.
const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
const first = rows[0];
const heaviest = rows.reduce((a, b) => ((b.ns ?? 0) > (a.ns ?? 0) ? b : a));
const comparisons = (fixture.comparison_only || []).map((n) => byName[n]).filter(Boolean);
const typical = byName[fixture.typical_rule] || first;
const ratios = rows.map((r) => r.ratio).filter((x) => !Number.isNaN(x));
const geomean = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
const verdict = (ok) => (ok ? "met" : "MISSED");
console.log("\n| target | goal | measured | |");
console.log("|---|---|---|---|");
console.log(`| single comparison (\`${cell(first.expr)}\`) | ≤ 50 ns | ${f(first.ns)} ns | ${verdict(first.ns <= 50)} |`);
console.log(`| heaviest (${heaviest.name}) | ≤ 500 ns | ${f(heaviest.ns)} ns | ${verdict(heaviest.ns <= 500)} |`);
console.log(`| allocations, comparison-only (${comparisons.map((r) => r.name).join(", ")}) | 0 per evaluation | ` +
            `${Math.max(...comparisons.map((r) => r.allocs ?? Infinity))} max | ` +
            `${verdict(comparisons.every((r) => r.allocs === 0))} |`);
console.log(`| compile a typical rule (${typical.name}) | ≤ 20 µs | ${f(typical.compile / 1000, 2)} µs | ` +
            `${verdict(typical.compile <= 20000)} |`);
console.log(`| speed-up vs the faster npm engine | ≥ 10× | ${f(Math.min(...ratios))}× min, ${f(geomean)}× geometric mean | ` +
            `${verdict(Math.min(...ratios) >= 10)} |`);
