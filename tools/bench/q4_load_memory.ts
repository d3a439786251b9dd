/**
 * The memory of loading SmolVLM-256M-shaped int8 and q4 folders on the wasm
 * backend through the edge bundle (tools/bench/edge_probe.js with
 * `loadOnly`), one process per figure: RSS after `loadModel` and the load's
 * peak (VmHWM, read by this process), for int8, q4 with its published kernel
 * and q4 re-packed to int8 (the wasm default). Cases run round-robin; medians
 * of `--runs`; the load average is printed. Reuses the folders and bundle of
 * tools/bench/q4_wasm.ts under `--work` when they exist (`--bundle` rebuilds it,
 * from the checkout `--from`, this one by default, for before/after figures).
 * With `--request`, each process also answers one request (unsplit 512² PNG,
 * `--tokens` new tokens) and the peak is the whole run's.
 *
 *   deno run -A tools/bench/q4_load_memory.ts [--runs 3] [--work DIR] [--bundle] [--from DIR]
 *     [--request] [--tokens 8]
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { synthesizedFolder } from "./synthesized_folder.ts";
import { prepareEdgeProbes } from "./edge.ts";
import { runWithPeak } from "./child_peak.ts";
import { median } from "../median.ts";
import { writeBenchImages } from "./inputs.ts";

const HERE = new URL("../../", import.meta.url);
const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    work: { type: "string", default: "/tmp/vlmkit-q4-wasm" },
    bundle: { type: "boolean", default: false },
    from: { type: "string" },
    request: { type: "boolean", default: false },
    tokens: { type: "string", default: "8" },
  },
});
const work = values.work!;
const ROOT = values.from ? new URL(`file://${values.from.replace(/\/?$/, "/")}`) : HERE;
await Deno.mkdir(work, { recursive: true });

const bundleDir = join(work, "bundle");
const exists = await Deno.stat(join(bundleDir, "vlmkit.edge.js")).then(() => true, () => false);
if (values.bundle || !exists) await prepareEdgeProbes(bundleDir, ROOT);
// This checkout's probe, even over an older bundle (it has the loadOnly option).
await Deno.copyFile(new URL("edge_probe.js", import.meta.url), join(bundleDir, "edge_probe.js"));
const image = values.request ? (await writeBenchImages(work)).square : undefined;

const cases = [
  { label: "int8", dtype: "int8" as const },
  { label: "q4 original (MatMulNBits)", dtype: "q4" as const, q4Kernel: "original" },
  { label: "q4 re-packed to int8 (auto)", dtype: "q4" as const },
];
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const load = () => Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
console.log(`load average before: ${load()}`);
const all = cases.map(() => [] as Record<string, number>[]);
for (let i = 0; i < Number(values.runs); i++) {
  for (const [j, c] of cases.entries()) {
    const folder = await synthesizedFolder(work, c.dtype);
    const options = JSON.stringify({
      model: folder,
      dtype: c.dtype,
      backend: "wasm",
      ...(image ? { image, split: false, tokens: Number(values.tokens) } : { loadOnly: true }),
      waitForParent: true,
      ...(c.q4Kernel ? { q4Kernel: c.q4Kernel } : {}),
    });
    const args = [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      `--allow-read=${[folder, ...(image ? [image] : [])].join(",")}`,
      "edge_probe.js",
      options,
    ];
    const r = await runWithPeak(Deno.execPath(), args, bundleDir);
    if (r.code !== 0 || !r.json) throw new Error(`${c.label}: ${r.stderr}`);
    all[j].push(r.json as Record<string, number>);
  }
}
for (const [j, c] of cases.entries()) {
  const m = (key: string) => median(all[j].map((f) => f[key]));
  const each = (key: string) => all[j].map((f) => mib(f[key])).join("/");
  console.log(
    `${c.label.padEnd(28)} | RSS after load ${mib(m("loadRssBytes"))} MiB (${
      each("loadRssBytes")
    }) | ${image ? "run" : "load"} peak ${mib(m("peakRssBytes"))} MiB (${
      each("peakRssBytes")
    }) | load ${(m("loadMs") / 1000).toFixed(2)} s`,
  );
}
console.log(`load average after: ${load()}`);
