/**
 * The decoder side by side with llama.cpp, in the same run: vlmkit's text-only
 * prefill and decode on a synthesized folder (`measure_vlmkit_text.ts`, a child
 * process) against llama.cpp on a GGUF file of the very same decoder weights
 * (`gguf/`), at the matching bit width: fp32 ↔ F32, int8 ↔ Q8_0, q4 ↔ Q4_0.
 *
 * @module
 */
import type { VariantSpec } from "../../src/spec/types.ts";
import { decoderGguf } from "./gguf/decoder_gguf_file.ts";
import type { GgufWeightType } from "./gguf/llama_gguf.ts";
import { runLlamaCppScript } from "./llama_cpp/install.ts";
import type { TextFigures } from "./measure_vlmkit_text.ts";
import { writeChunks } from "./gguf/write_chunks.ts";

/** vlmkit dtype → the llama.cpp type of the same bit width. */
export const GGUF_TYPE_OF = { fp32: "F32", int8: "Q8_0", q4: "Q4_0" } as const;

/** llama.cpp's figures for one file. */
export interface LlamaCppFigures {
  /** e.g. `llama.cpp (node-llama-cpp 3.22.1)`. */
  engine: string;
  /** Threads. */
  threads: number;
  /** Prompt tokens. */
  promptTokens: number;
  /** Model load. */
  loadMs: number;
  /** Prompt tokens per second. */
  prefillTokensPerSec: number;
  /** Tokens after the first per second. */
  decodeTokensPerSec: number;
  /** Tokens decoded per run. */
  decodedTokens: number;
}

/** One bit width, both engines. */
export interface DecoderComparison {
  /** vlmkit's dtype. */
  dtype: keyof typeof GGUF_TYPE_OF;
  /** llama.cpp's type. */
  ggufType: GgufWeightType;
  /** vlmkit's figures. */
  vlmkit: TextFigures;
  /** llama.cpp's figures. */
  llamaCpp: LlamaCppFigures;
  /** vlmkit / llama.cpp decode tok/s. */
  decodeRatio: number;
  /** vlmkit / llama.cpp prefill tok/s. */
  prefillRatio: number;
}

/**
 * Measures `folder` (a synthesized `spec` in `dtype`, seed 0) with vlmkit
 * native and the same decoder with llama.cpp, both on `threads` threads.
 */
export async function compareWithLlamaCpp(
  spec: VariantSpec,
  folder: string,
  dtype: keyof typeof GGUF_TYPE_OF,
  options: { work: string; threads: number; prompt: number; tokens: number; runs: number },
): Promise<DecoderComparison> {
  const args = (extra: string[]) => [
    "--threads",
    String(options.threads),
    "--prompt",
    String(options.prompt),
    "--tokens",
    String(options.tokens),
    "--runs",
    String(options.runs),
    ...extra,
  ];
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      new URL("./measure_vlmkit_text.ts", import.meta.url).pathname,
      ...args(["--model", folder, "--dtype", dtype]),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(child.stdout).trim().split("\n").pop() ?? "";
  if (!child.success) {
    throw new Error(`vlmkit text measurement failed:\n${new TextDecoder().decode(child.stderr)}`);
  }
  const vlmkit = JSON.parse(line) as TextFigures;

  const ggufType = GGUF_TYPE_OF[dtype];
  const gguf = `${options.work}/decoder-${ggufType}.gguf`;
  await writeChunks(gguf, decoderGguf(spec, ggufType));
  try {
    const llamaCpp = await runLlamaCppScript(
      "measure_llama_cpp.mjs",
      args(["--model", gguf, "--prompt", String(vlmkit.promptTokens)]),
    ) as LlamaCppFigures;
    return {
      dtype,
      ggufType,
      vlmkit,
      llamaCpp,
      decodeRatio: vlmkit.decodeTokensPerSec / llamaCpp.decodeTokensPerSec,
      prefillRatio: vlmkit.prefillTokensPerSec / llamaCpp.prefillTokensPerSec,
    };
  } finally {
    await Deno.remove(gguf);
  }
}

/** Prints the side-by-side table to stderr. */
export function printLlamaCppTable(rows: DecoderComparison[]): void {
  if (!rows.length) return;
  const first = rows[0];
  console.error(
    `\ndecoder vs ${first.llamaCpp.engine}: ${first.vlmkit.promptTokens}-token prompt, ${first.vlmkit.decodedTokens} tokens, ${first.llamaCpp.threads} threads, same weights`,
  );
  console.error(
    `${"bit width".padEnd(16)}${"vlmkit prefill".padStart(16)}${"llama.cpp".padStart(12)}${
      "ratio".padStart(8)
    }${"vlmkit decode".padStart(16)}${"llama.cpp".padStart(12)}${"ratio".padStart(8)}`,
  );
  for (const r of rows) {
    console.error(
      `${`${r.dtype} / ${r.ggufType}`.padEnd(16)}${
        r.vlmkit.prefillTokensPerSec.toFixed(0).padStart(16)
      }${r.llamaCpp.prefillTokensPerSec.toFixed(0).padStart(12)}${
        r.prefillRatio.toFixed(2).padStart(8)
      }${r.vlmkit.decodeTokensPerSec.toFixed(1).padStart(16)}${
        r.llamaCpp.decodeTokensPerSec.toFixed(1).padStart(12)
      }${r.decodeRatio.toFixed(2).padStart(8)}`,
    );
  }
}
