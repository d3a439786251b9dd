/**
 * vlmkit next to transformers.js 4.3.1 on the same model folder and the same
 * image file: load, preprocessing, time to first token, decode tokens/s and
 * peak RSS, as medians after a warm-up, with ratios ours / theirs. Each side
 * runs in its own process (two onnxruntime-node builds must not share one).
 *
 * @module
 */
import { join } from "node:path";

/** One side's figures. */
export interface SideFigures {
  /** Model load (sessions, tokenizer, configs). */
  loadMs: number;
  /** Image decode, resize, split and normalise. */
  preprocessMs: number;
  /** From the request to the first new token. */
  ttftMs: number;
  /** New tokens after the first, per second. */
  decodeTokensPerSec: number;
  /** Prompt length. */
  promptTokens: number;
  /** Peak resident memory of the process. */
  peakRssBytes: number;
  /** vlmkit only: time to first token of a second question about the same image (feature and KV caches). */
  secondQuestionTtftMs?: number;
}

/** Both sides and ours / theirs. */
export interface SideBySide {
  /** Model folder. */
  model: string;
  /** vlmkit (native backend). */
  vlmkit: SideFigures;
  /** transformers.js (its onnxruntime-node). */
  transformersJs: SideFigures;
  /** vlmkit / transformers.js per figure (< 1 is better for times, > 1 for tokens/s). */
  ratio: Record<keyof SideFigures, number>;
}

const OURS = `
import { loadModel } from "${new URL("../mod.ts", import.meta.url).href}";
const [dir, image, prompt, tokens, runs] = Deno.args;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let peak = Deno.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
const t0 = performance.now();
const model = await loadModel(dir, { backend: "native", featureCacheSize: 0, reusePrefix: false });
const loadMs = performance.now() - t0;
const pre = [], ttft = [], decode = [];
let promptTokens = 0;
for (let run = 0; run <= Number(runs); run++) {
  const r = await model.generate({ prompt, images: [image], maxNewTokens: Number(tokens), stopTokenIds: [] });
  promptTokens = r.promptTokens;
  if (run === 0) continue;
  pre.push(r.timings.preprocessMs); ttft.push(r.timings.ttftMs); decode.push(r.timings.decodeTokensPerSec);
}
// A second question about the same image: features from the cache, the shared prefix from the KV cache.
const cached = await loadModel(dir, { backend: "native" });
await cached.generate({ prompt, images: [image], maxNewTokens: 2, stopTokenIds: [] });
const second = await cached.generate({ prompt: prompt + " Answer briefly.", images: [image], maxNewTokens: 2, stopTokenIds: [] });
await cached.dispose();
clearInterval(timer);
await model.dispose();
console.log(JSON.stringify({ loadMs, preprocessMs: median(pre), ttftMs: median(ttft), decodeTokensPerSec: median(decode), promptTokens, peakRssBytes: peak, secondQuestionTtftMs: second.timings.ttftMs }));
`;

async function runJson(args: string[]): Promise<SideFigures> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Measures both sides on `model` with `image`. */
export async function sideBySide(
  model: string,
  image: string,
  options: { prompt?: string; maxNewTokens?: number; runs?: number } = {},
): Promise<SideBySide> {
  const prompt = options.prompt ?? "Describe this image.";
  const tokens = String(options.maxNewTokens ?? 32);
  const runs = String(options.runs ?? 5);
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-side-" });
  try {
    const script = join(dir, "ours.js");
    await Deno.writeTextFile(script, OURS);
    const config = new URL("../deno.json", import.meta.url).pathname;
    const vlmkit = await runJson([
      "run",
      "-A",
      "--config",
      config,
      script,
      model,
      image,
      prompt,
      tokens,
      runs,
    ]);
    const transformersJs = await runJson([
      "run",
      "-A",
      "--config",
      config,
      new URL("./oracle/transformers_js_timing.ts", import.meta.url).pathname,
      "--model",
      model,
      "--image",
      image,
      "--prompt",
      prompt,
      "--max-new-tokens",
      tokens,
      "--runs",
      runs,
    ]);
    // transformers.js has no feature cache: its second question costs a full TTFT.
    transformersJs.secondQuestionTtftMs = transformersJs.ttftMs;
    const ratio = Object.fromEntries(
      (Object.keys(vlmkit) as (keyof SideFigures)[]).map((
        k,
      ) => [k, vlmkit[k]! / transformersJs[k]!]),
    ) as Record<keyof SideFigures, number>;
    return { model, vlmkit, transformersJs, ratio };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
