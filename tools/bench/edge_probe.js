// One edge measurement in a process of its own (so the kernel's peak RSS belongs to it alone):
// imports vlmkit (the edge bundle, or the sources for the native backend), loads a model, answers
// one request, and prints one JSON line. Plain JavaScript, so it runs next to the bundle in a bare
// `deno run --no-config` with read permission on the model and the image only.
//
//   deno run --no-config --allow-read=MODEL,IMAGE edge_probe.js '{
//     "model": MODEL, "image": IMAGE, "dtype": "int8", "backend": "wasm", "maxTiles": 5,
//     "split": true, "tokens": 32, "embedding": "session"}'
//
// RSS is the kernel's. The peak: with "waitForParent", the probe prints its figures and waits on
// stdin while the spawner reads VmHWM from /proc/<pid>/status (Deno lets only -A read /proc/self);
// otherwise getrusage's maxRSS, which Linux carries across execve from the spawner, so it reads
// high when the spawner was larger.
import process from "node:process";
// The bench rewrites this line to the sources' entry for the native backend.
import * as vlm from "./vlmkit.edge.js";

const options = JSON.parse(Deno.args[0]);
const rss = () => Deno.memoryUsage().rss;
const peak = () => process.resourceUsage().maxRSS * 1024;

// After the bundle's evaluation (ONNX Runtime's binary inflated), before any model.
const importRssBytes = rss();
const started = performance.now();
const model = await vlm.loadModel(options.model, {
  backend: options.backend ?? "wasm",
  ...(options.threads ? { threads: options.threads } : {}),
  ...(options.dtype ? { dtype: options.dtype } : {}),
  ...(options.maxTiles ? { maxTiles: options.maxTiles } : {}),
  ...(options.embedding ? { embedding: options.embedding } : {}),
  ...(options.q4Kernel ? { q4Kernel: options.q4Kernel } : {}),
});
const loadMs = performance.now() - started;
const loadRssBytes = rss();
if (options.loadOnly) {
  // Load figures alone (the spawner's VmHWM is then the load's peak).
  console.log(JSON.stringify({ importRssBytes, loadRssBytes, loadMs, peakRssBytes: peak() }));
  if (options.waitForParent) await Deno.stdin.read(new Uint8Array(1));
  Deno.exit(0);
}
const image = await Deno.readFile(options.image);
const result = await model.generate({
  prompt: "Describe this image.",
  images: [image],
  maxNewTokens: options.tokens ?? 32,
  ...(options.split === false ? { split: false } : {}),
  // Synthesized weights reach EOS at random: decode the tokens asked for.
  stopTokenIds: [-1],
});
const afterRunRssBytes = rss();
await model.dispose();
console.log(JSON.stringify({
  importRssBytes,
  loadRssBytes,
  afterRunRssBytes,
  peakRssBytes: peak(),
  peakSource: "getrusage",
  loadMs,
  ttftMs: result.timings.ttftMs,
  visionMs: result.timings.visionMs,
  decodeTokensPerSec: result.timings.decodeTokensPerSec,
  tokens: result.tokenIds.length,
  promptTokens: result.promptTokens,
  tiles: result.imagePlan?.tiles ?? null,
}));
// The spawner reads /proc/<pid>/status now, then closes stdin.
if (options.waitForParent) await Deno.stdin.read(new Uint8Array(1));
