/**
 * q4 against int8 on the wasm backend, in one run: SmolVLM-256M-shaped
 * folders with synthesized weights (int8, q4), each measured through the
 * edge bundle in a process of its own (tools/bench/edge_probe.js): q4 with
 * its published MatMulNBits kernel (`q4Kernel: "original"`) and re-packed to
 * int8 at load (the wasm default), int8 as the reference; then native q4
 * (2 threads) with accuracy_level 4 as built and rewritten to 0, for the
 * int8-activation path. Medians of `--runs` processes; load average stated.
 *
 *   deno run -A tools/bench/q4_wasm.ts [--runs 3] [--tokens 32] [--work DIR] [--photo]
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { synthesizedFolder } from "./synthesized_folder.ts";
import { prepareEdgeProbes } from "./edge.ts";
import { runWithPeak } from "./child_peak.ts";
import { writeBenchImages } from "./inputs.ts";
import { median } from "../median.ts";

const ROOT = new URL("../../", import.meta.url);
const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    tokens: { type: "string", default: "32" },
    work: { type: "string", default: "/tmp/vlmkit-q4-wasm" },
    photo: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const work = values.work!;
await Deno.mkdir(work, { recursive: true });

const bundleDir = join(work, "bundle");
await prepareEdgeProbes(bundleDir);
const bundleBytes = (await Deno.stat(join(bundleDir, "vlmkit.edge.js"))).size;
const images = await writeBenchImages(work);

interface Case {
  label: string;
  dtype: "int8" | "q4";
  backend: "wasm" | "native";
  q4Kernel?: string;
}
const cases: Case[] = [
  { label: "wasm int8", dtype: "int8", backend: "wasm" },
  { label: "wasm q4 original (MatMulNBits)", dtype: "q4", backend: "wasm", q4Kernel: "original" },
  { label: "wasm q4 re-packed to int8 (auto)", dtype: "q4", backend: "wasm" },
  { label: "native q4 (2 threads)", dtype: "q4", backend: "native" },
  { label: "native int8 (2 threads)", dtype: "int8", backend: "native" },
];

async function probe(c: Case, image: string, split: boolean) {
  const folder = await synthesizedFolder(work, c.dtype);
  const options = JSON.stringify({
    model: folder,
    image,
    dtype: c.dtype,
    backend: c.backend,
    split,
    tokens: Number(values.tokens),
    waitForParent: true,
    ...(c.q4Kernel ? { q4Kernel: c.q4Kernel } : {}),
    ...(c.backend === "native" ? { threads: 2, maxTiles: 5 } : {}),
  });
  const args = c.backend === "wasm"
    ? [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      `--allow-read=${folder},${image}`,
      "edge_probe.js",
      options,
    ]
    : ["run", "-A", "--config", new URL("deno.json", ROOT).pathname, "native_probe.js", options];
  const r = await runWithPeak(Deno.execPath(), args, bundleDir);
  if (r.code !== 0 || !r.json) throw new Error(`${c.label}: ${r.stderr}`);
  return r.json as Record<string, number>;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `edge bundle ${mib(bundleBytes)} MiB (${bundleBytes} bytes); load average before: ${
    Deno.loadavg().map((v) => v.toFixed(2)).join(" ")
  }`,
);
const scenes = [{ name: "unsplit 512²", image: images.square, split: false }];
if (values.photo) scenes.push({ name: "photo 1024×768", image: images.photoSmall, split: true });
for (const scene of scenes) {
  // Round-robin over the cases, so load from other processes drifts over all of them alike.
  const all = cases.map(() => [] as Record<string, number>[]);
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of cases.entries()) all[j].push(await probe(c, scene.image, scene.split));
  }
  for (const [j, c] of cases.entries()) {
    const m = (key: string) => median(all[j].map((f) => f[key]));
    console.log(
      `${scene.name} | ${c.label.padEnd(34)} | decode ${m("decodeTokensPerSec").toFixed(1)} tok/s` +
        ` | first token ${(m("ttftMs") / 1000).toFixed(2)} s | vision ${
          (m("visionMs") / 1000).toFixed(2)
        } s | load ${(m("loadMs") / 1000).toFixed(2)} s | RSS after load ${
          mib(m("loadRssBytes"))
        } MiB | peak ${mib(m("peakRssBytes"))} MiB | tiles ${all[j][0].tiles}`,
    );
  }
  console.log(`load average after: ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
}
