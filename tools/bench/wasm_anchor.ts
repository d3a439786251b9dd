/**
 * The bench's "wasm-anchor" section: the decoder on WebAssembly side by side
 * with llama.cpp compiled to WebAssembly (wllama, installed on first use into
 * `.artifacts/wllama/`), both in the same headless Chromium page: vlmkit's
 * browser bundle on a synthesized folder and wllama on a GGUF file of the very
 * same seeded weights (`gguf/`), fp32 ↔ F32, int8 ↔ Q8_0, q4 ↔ Q4_0; the same
 * prompt ids, then greedy tokens. The page is cross-origin isolated (COOP/COEP),
 * so both engines may start threads; which ran on how many is reported.
 *
 * @module
 */
import { synthesize } from "../../src/build/synthesize.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { writeFolderAtomically } from "../cli/folder_writer.ts";
import { decoderGguf } from "./gguf/decoder_gguf_file.ts";
import type { GgufWeightType } from "./gguf/llama_gguf.ts";
import { GGUF_TYPE_OF } from "./llama_cpp_side_by_side.ts";
import { runAnchorPage } from "./wllama/page_site.ts";
import { writeChunks } from "./gguf/write_chunks.ts";
import { decodeBytesPerToken } from "./bounds.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { median } from "../median.ts";

/** One engine's figures in the page (medians). */
export interface PageFigures {
  /** Threads the engine actually ran (wllama falls back to one without SharedArrayBuffer). */
  threads: number;
  /** Model load in the page, ms. */
  loadMs: number;
  /** Prompt tokens per second. */
  prefillTokensPerSec: number;
  /** Tokens after the first per second. */
  decodeTokensPerSec: number;
  /** Tokens decoded per run. */
  decodedTokens: number;
}

/** One bit width at one thread count. */
export interface WasmAnchorRow {
  /** vlmkit's dtype. */
  dtype: "fp32" | "int8" | "q4";
  /** llama.cpp's type. */
  ggufType: GgufWeightType;
  /** Threads asked of both engines. */
  threads: number;
  /** Prompt tokens (the same ids for both). */
  promptTokens: number;
  /** vlmkit's figures. */
  vlmkit: PageFigures;
  /** wllama's figures. */
  wllama: PageFigures;
  /** vlmkit / wllama decode tok/s. */
  decodeRatio: number | null;
  /** vlmkit / wllama prefill tok/s. */
  prefillRatio: number | null;
}

/** The section's output. */
export interface WasmAnchorReport {
  /** e.g. `wllama 3.13.0`. */
  engine: string;
  /** Whether the page had SharedArrayBuffer (COOP/COEP served). */
  crossOriginIsolated: boolean;
  /** 1-minute load average when the first page started and the last ended (a shared machine). */
  loadAverage: { before: number; after: number };
  /** The rows, 1 thread then 2 per bit width. */
  rows: WasmAnchorRow[];
  /**
   * One-thread memory bandwidth inside wasm in the same page kind (wllama/page/bandwidth_probe.js),
   * medians over the 1-thread pages, GB/s: `copy` counts bytes read and written, `read` bytes loaded.
   */
  wasmBandwidthGBps: { copy: number; read: number };
  /**
   * The fp32 decode bound on one thread: the copy bandwidth over the bytes a step reads
   * (weights + KV cache at the mean context, bounds.ts), and each engine's 1-thread fp32
   * decode as a fraction of it.
   */
  fp32Bound: { bytesPerStep: number; tokensPerSec: number; vlmkit: number; wllama: number } | null;
}

const ratio = (a: number | undefined, b: number) => a === undefined ? null : a / b;

/** Measures `spec`'s decoder (seed 0) in fp32, int8 and q4 against wllama, 1 and 2 threads. */
export async function benchWasmAnchor(
  spec: VariantSpec,
  options: { work: string; prompt: number; tokens: number; runs: number },
): Promise<WasmAnchorReport> {
  const loads: number[] = [];
  const site = `${options.work}/anchor-site`;
  const rows: WasmAnchorRow[] = [];
  let engine = "wllama";
  let isolated = true;
  const bandwidths: { copyBytesPerSec: number; readBytesPerSec: number }[] = [];
  for (const dtype of ["fp32", "int8", "q4"] as const) {
    const ggufType = GGUF_TYPE_OF[dtype];
    const folder = `${options.work}/anchor-${dtype}`;
    await writeFolderAtomically(
      folder,
      synthesize(spec, { dtype, layout: "hf-idefics3" }).files,
      false,
    );
    await writeChunks(
      `${options.work}/decoder-${ggufType}.gguf`,
      decoderGguf(spec, ggufType),
    );
    try {
      const common = {
        site,
        routes: { "/model/": folder, "/gguf/": options.work },
        isolated: true,
      };
      const gguf = `/gguf/decoder-${ggufType}.gguf`;
      // Both engines in one page per thread count (ORT fixes its threads once per page).
      for (const threads of [1, 2]) {
        const page = await runAnchorPage({
          ...common,
          calls: [{
            fn: "measure",
            args: {
              model: "/model/",
              dtype,
              gguf,
              threads,
              prompt: options.prompt,
              tokens: options.tokens,
              runs: options.runs,
            },
          }, ...(threads === 1 ? [BANDWIDTH_CALL] : [])],
        });
        if (threads === 1) bandwidths.push(page.results[1] as (typeof bandwidths)[number]);
        const pair = page.results[0] as {
          crossOriginIsolated: boolean;
          promptTokens: number;
          vlmkit: PageFigures;
          wllama: PageFigures;
        };
        engine = `wllama ${page.wllamaVersion}`;
        loads.push(...page.loadAverage);
        isolated &&= pair.crossOriginIsolated;
        rows.push({
          dtype,
          ggufType,
          threads,
          promptTokens: pair.promptTokens,
          vlmkit: pair.vlmkit,
          wllama: pair.wllama,
          decodeRatio: ratio(pair.vlmkit.decodeTokensPerSec, pair.wllama.decodeTokensPerSec),
          prefillRatio: ratio(pair.vlmkit.prefillTokensPerSec, pair.wllama.prefillTokensPerSec),
        });
      }
    } finally {
      await Deno.remove(folder, { recursive: true });
      await Deno.remove(`${options.work}/decoder-${ggufType}.gguf`);
    }
  }
  const copy = median(bandwidths.map((b) => b.copyBytesPerSec));
  const fp32 = rows.find((r) => r.dtype === "fp32" && r.threads === 1);
  let fp32Bound: WasmAnchorReport["fp32Bound"] = null;
  if (fp32) {
    const bytesPerStep = decodeBytesPerToken(
      resolve(spec),
      "fp32",
      fp32.promptTokens + fp32.wllama.decodedTokens / 2,
    );
    const tokensPerSec = copy / bytesPerStep;
    fp32Bound = {
      bytesPerStep,
      tokensPerSec,
      vlmkit: fp32.vlmkit.decodeTokensPerSec / tokensPerSec,
      wllama: fp32.wllama.decodeTokensPerSec / tokensPerSec,
    };
  }
  return {
    engine,
    crossOriginIsolated: isolated,
    loadAverage: { before: loads[0], after: loads[loads.length - 1] },
    rows,
    wasmBandwidthGBps: {
      copy: copy / 1e9,
      read: median(bandwidths.map((b) => b.readBytesPerSec)) / 1e9,
    },
    fp32Bound,
  };
}

/** The page's one-thread wasm bandwidth probe, in a fresh page after the 1-thread measurement. */
const BANDWIDTH_CALL = {
  fn: "bandwidth" as const,
  args: { megabytes: 256, runs: 5 },
};

/** Prints the section's table to stderr. */
export function printWasmAnchorTable(report: WasmAnchorReport): void {
  const first = report.rows[0];
  if (!first) return;
  console.error(
    `\ndecoder on wasm vs ${report.engine} (llama.cpp in WebAssembly), same Chromium page: ` +
      `${first.promptTokens}-token prompt, ${first.wllama.decodedTokens} tokens, same weights` +
      `; cross-origin isolated: ${report.crossOriginIsolated}; load average ` +
      `${report.loadAverage.before.toFixed(1)} → ${report.loadAverage.after.toFixed(1)}`,
  );
  console.error(
    `${"bit width".padEnd(16)}${"threads".padStart(8)}${"vlmkit prefill".padStart(16)}${
      "wllama".padStart(10)
    }${"ratio".padStart(8)}${"vlmkit decode".padStart(16)}${"wllama".padStart(10)}${
      "ratio".padStart(8)
    }`,
  );
  const cell = (v: number | null | undefined, digits: number, width: number) =>
    (v == null ? "—" : v.toFixed(digits)).padStart(width);
  for (const r of report.rows) {
    console.error(
      `${`${r.dtype} / ${r.ggufType}`.padEnd(16)}${
        `${r.threads}${r.wllama.threads !== r.threads ? ` (${r.wllama.threads})` : ""}`
          .padStart(8)
      }${cell(r.vlmkit.prefillTokensPerSec, 0, 16)}${cell(r.wllama.prefillTokensPerSec, 0, 10)}${
        cell(r.prefillRatio, 2, 8)
      }${cell(r.vlmkit.decodeTokensPerSec, 1, 16)}${cell(r.wllama.decodeTokensPerSec, 1, 10)}${
        cell(r.decodeRatio, 2, 8)
      }`,
    );
  }
  const b = report.fp32Bound;
  console.error(
    `one-thread wasm bandwidth in the page: copy ${
      report.wasmBandwidthGBps.copy.toFixed(1)
    } GB/s ` +
      `(read + write), read ${report.wasmBandwidthGBps.read.toFixed(1)} GB/s` +
      (b
        ? `; fp32 bound ${b.tokensPerSec.toFixed(1)} tok/s (${
          (b.bytesPerStep / 1e6).toFixed(0)
        } MB ` +
          `a step): vlmkit ${(100 * b.vlmkit).toFixed(0)}%, wllama ${(100 * b.wllama).toFixed(0)}%`
        : ""),
  );
}
