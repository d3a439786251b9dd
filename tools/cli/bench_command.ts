/**
 * `vlm bench [--quick] [--model DIR] [--runs N] [--tokens N] [--json]`: the
 * benchmark suite of `deno task bench` (tables on stderr; with --json the
 * figures as one JSON object on stdout).
 *
 * @module
 */
import { runBench } from "../bench.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { optionalNumber, parseCommandArgs } from "./args.ts";
import { type Command, printJson } from "./command.ts";

const usage =
  `Usage: vlm bench [--quick] [--section edge|llama-cpp] [--model DIR] [--runs N] [--tokens N]
                 [--no-llama-cpp] [--json]

Times planning and image preprocessing, measures the machine's memory
bandwidth and matmul rate, then runs models, each configuration in its own
process: the shipped tiny model on wasm, native and transformers.js 4.3.1,
and a synthesized SmolVLM-256M in fp32, int8 and q4 (native and
transformers.js; fp32 also on wasm). Load, preprocessing of a 4000×3000 JPEG,
vision per tile, prefill, time to first token (512² unsplit; the split photo),
decode over --tokens tokens, a second question with warm caches and peak RSS,
with ratios to transformers.js and fractions of the hardware bounds; then the
decoder side by side with llama.cpp (node-llama-cpp's prebuilt CPU build,
installed on first use into .artifacts/llama-cpp) on a GGUF file of the same
seeded weights: fp32/int8/q4 against F32/Q8_0/Q4_0, a 512-token prompt.
Medians of --runs runs (default 5) after a warm-up.

Options:
  --quick        the tiny model only (about a minute)
  --section edge only the edge section: the tiny model and SmolVLM-256M int8/q4 through the
                 edge bundle in a bare deno run (read permission on the model only), one
                 process per figure: RSS after import and load, peak RSS (VmHWM) for an
                 unsplit 512² image and a 1024×768 photo at the edge default, load, first
                 token, decode; native 2 threads in the same run for the ratios (medians)
  --section llama-cpp  only the decoder side by side with llama.cpp
  --no-llama-cpp skip the llama.cpp side by side
  --model DIR    measure this folder instead of the synthesized SmolVLM-256M
  --runs N       timed runs per figure (default 5)
  --tokens N     tokens decoded per request (default 128)
  --json         print the figures as JSON`;

export const benchCommand: Command = {
  name: "bench",
  summary: "benchmarks, the machine's limits, and a side-by-side with transformers.js",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("bench", args, {
      model: { type: "string" },
      quick: { type: "boolean" },
      runs: { type: "string" },
      tokens: { type: "string" },
      section: { type: "string" },
      "no-llama-cpp": { type: "boolean" },
    });
    const section = parsed.values.section as string | undefined;
    if (section !== undefined && section !== "edge" && section !== "llama-cpp") {
      throw new UsageError(
        `vlm bench: unknown --section "${section}"`,
        "the sections are: edge, llama-cpp",
      );
    }
    const figures = await runBench({
      model: parsed.values.model as string | undefined,
      quick: parsed.values.quick === true,
      section: section as "edge" | "llama-cpp" | undefined,
      noLlamaCpp: parsed.values["no-llama-cpp"] === true,
      runs: optionalNumber("bench", parsed, "runs", { min: 1, max: 100, integer: true }),
      tokens: optionalNumber("bench", parsed, "tokens", { min: 2, max: 4096, integer: true }),
    });
    if (parsed.values.json) printJson(figures);
    return 0;
  },
};
