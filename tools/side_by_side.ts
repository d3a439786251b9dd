/**
 * Runs one benchmark configuration in a child process — vlmkit
 * (`tools/bench/measure_vlmkit.ts`) or transformers.js 4.3.1
 * (`tools/oracle/transformers_js_timing.ts`) — on a model folder and the
 * benchmark images, and compares two sides figure by figure (ours / theirs).
 * One process per configuration: peak RSS then belongs to it alone, and the
 * two onnxruntime-node builds never share an address space.
 *
 * @module
 */
import type { BenchImages } from "./bench/inputs.ts";
import type { VlmkitFigures } from "./bench/measure_vlmkit.ts";

/** Who runs the model, and how. */
export interface BenchConfig {
  /** `vlmkit` or `transformers.js`. */
  runtime: "vlmkit" | "transformers.js";
  /** vlmkit's backend (transformers.js always runs its onnxruntime-node). */
  backend: "native" | "wasm";
  /** Intra-op threads (vlmkit). */
  threads: number;
  /** ONNX file variant. */
  dtype: "fp32" | "int8" | "q4";
  /** Timed runs per figure (after a warm-up). */
  runs: number;
  /** Tokens decoded by each unsplit request. */
  tokens: number;
  /** Skip the split-photo requests (for configurations too slow to run them in budget). */
  noPhoto?: boolean;
}

/** A configuration's label, e.g. `vlmkit native×2 fp32`. */
export function configLabel(config: BenchConfig): string {
  return config.runtime === "vlmkit"
    ? `vlmkit ${config.backend}×${config.threads} ${config.dtype}`
    : `transformers.js native ${config.dtype}`;
}

/** Measures `config` on `model` in a child process. */
export async function measure(
  model: string,
  images: BenchImages,
  config: BenchConfig,
): Promise<VlmkitFigures> {
  const script = config.runtime === "vlmkit"
    ? new URL("./bench/measure_vlmkit.ts", import.meta.url).pathname
    : new URL("./oracle/transformers_js_timing.ts", import.meta.url).pathname;
  const args = [
    "run",
    "-A",
    "--config",
    new URL("../deno.json", import.meta.url).pathname,
    script,
    "--model",
    model,
    "--photo",
    images.photo,
    "--square",
    images.square,
    "--dtype",
    config.dtype,
    "--runs",
    String(config.runs),
    "--tokens",
    String(config.tokens),
    ...(config.runtime === "vlmkit"
      ? ["--backend", config.backend, "--threads", String(config.threads)]
      : []),
    ...(config.noPhoto ? ["--no-photo"] : []),
  ];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (code !== 0) {
    throw new Error(`${configLabel(config)} failed:\n${new TextDecoder().decode(stderr)}`);
  }
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Ours / theirs for every figure both sides measured (null where either is missing). */
export function ratios(
  ours: VlmkitFigures,
  theirs: VlmkitFigures,
): Record<keyof VlmkitFigures, number | null> {
  return Object.fromEntries(
    (Object.keys(ours) as (keyof VlmkitFigures)[]).map((key) => {
      const a = ours[key];
      const b = theirs[key];
      return [key, typeof a === "number" && typeof b === "number" && b !== 0 ? a / b : null];
    }),
  ) as Record<keyof VlmkitFigures, number | null>;
}
