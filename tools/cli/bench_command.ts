/**
 * `vlm bench [--model DIR] --json`: the benchmark suite of `deno task bench`
 * (a table on stderr; with --json the figures as one JSON object on stdout).
 *
 * @module
 */
import { runBench } from "../bench.ts";
import { parseCommandArgs } from "./args.ts";
import { type Command, printJson } from "./command.ts";

const usage = `Usage: vlm bench [--model DIR] [--json]

Times planning, image preprocessing, generation on both backends, the
machine's memory bandwidth and matmul rate, and vlmkit next to
transformers.js 4.3.1 on the same model folder (--model DIR; default the
tiny test export) with a 4000×3000 JPEG. Medians after a warm-up.`;

export const benchCommand: Command = {
  name: "bench",
  summary: "benchmarks, the machine's limits, and a side-by-side with transformers.js",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("bench", args, { model: { type: "string" } });
    const figures = await runBench({ model: parsed.values.model as string | undefined });
    if (parsed.values.json) printJson(figures);
    return 0;
  },
};
