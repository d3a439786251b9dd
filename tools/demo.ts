/**
 * `deno task demo`: the trained tiny SmolVLM shipped in models/tiny-smolvlm
 * answers its four bundled example images offline (streamed, with each
 * image's tile and token plan and the timings), then what vlmkit knows about
 * a published variant without loading any weights (parameters, memory per
 * dtype, the exact tile and token plan for a few everyday images).
 *
 * `deno task demo [PRESET] [--model DIR] [--backend wasm|native]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseLabels } from "../src/eval/labels.ts";
import { normalizeAnswer } from "../src/eval/metrics.ts";
import { readImageHeader } from "../src/image/sniff.ts";
import { loadModel } from "../src/runtime/load_model.ts";
import { resolve } from "../src/spec/resolve.ts";
import type { Dtype } from "../src/spec/types.ts";
import { planBudget } from "../src/tokens/budget.ts";
import { weightBytes } from "../src/tokens/memory.ts";
import { countSequence } from "../src/tokens/sequence.ts";
import { countRequest } from "../src/runtime/count_request.ts";
import { DEFAULT_PRESET, getPreset } from "../variants/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { model: { type: "string" }, backend: { type: "string", default: "wasm" } },
  allowPositionals: true,
});
const backend = values.backend === "native" ? "native" : "wasm";
const modelDir = values.model
  ? new URL(`file://${await Deno.realPath(values.model)}/`)
  : new URL("../models/tiny-smolvlm/", import.meta.url);
const examplesDir = new URL("examples/", modelDir);
const out = new TextEncoder();
const ms = (value: number) => `${value.toFixed(0)} ms`;

// 1. The shipped model, offline, on its example images.
const examples = parseLabels(
  await Deno.readTextFile(new URL("labels.jsonl", examplesDir)),
  "examples/labels.jsonl",
);
const model = await loadModel(modelDir, { backend });
try {
  console.log(`vlmkit demo: ${model.plan.spec.name} (${modelDir.pathname}), backend ${backend}`);
  console.log(`  ${model.plan.spec.description}`);
  for (const example of examples) {
    const imageUrl = new URL(example.image, examplesDir);
    const bytes = await Deno.readFile(imageUrl);
    const { width, height } = readImageHeader(bytes);
    // The model's image budget and tokenizer: the counts the run below reports.
    const count = countRequest(model, { images: [{ width, height }], prompt: example.prompt });
    const image = count.images[0];
    const grid = image.rows > 0 ? `${image.rows}×${image.cols} tiles + global` : "1 tile";
    console.log(
      `\n  ${example.image} (${width}×${height} → ${grid}, ${count.imageTokens} image tokens, ${count.totalTokens} prompt tokens)`,
    );
    await Deno.stdout.write(out.encode(`  User: ${example.prompt}\n  Assistant:`));
    const stream = model.stream({ prompt: example.prompt, images: [bytes], maxNewTokens: 16 });
    for await (const delta of stream) await Deno.stdout.write(out.encode(delta));
    const result = await stream.result;
    const t = result.timings;
    const verdict = normalizeAnswer(result.text) === normalizeAnswer(example.answer)
      ? "correct"
      : `expected ${example.answer}`;
    console.log(
      `   [${verdict}]\n  ${result.tokenIds.length} tokens (${result.finishReason}); preprocess ${
        ms(t.preprocessMs)
      }, vision ${ms(t.visionMs)}, prefill ${ms(t.prefillMs)}, first token ${
        ms(t.ttftMs)
      }, model load ${ms(t.loadMs)}`,
    );
  }
} finally {
  await model.dispose();
}

// 2. Accounting for a published variant, without weights.
const name = positionals[0] ?? DEFAULT_PRESET;
const plan = resolve(getPreset(name));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

console.log(`\nplanning ${plan.spec.name} (no weights needed)`);
console.log(`  ${plan.spec.description}`);
console.log(
  `  parameters: encoder ${plan.params.encoder.total.toLocaleString("en")}, projector ${
    plan.params.projector.total.toLocaleString("en")
  }, decoder ${plan.params.decoder.total.toLocaleString("en")} = ${
    plan.params.total.toLocaleString("en")
  }`,
);
const dtypes: Dtype[] = ["fp32", "fp16", "q8", "q4"];
console.log(
  `  weights: ${
    dtypes.map((dtype) => `${dtype} ${mb(weightBytes(plan.params, dtype).total)}`).join(", ")
  }`,
);
console.log(
  `  ${plan.tokensPerTile} tokens per ${plan.spec.image.tileSize}² tile; KV cache ${
    plan.decoder.kvBytesPerToken.toLocaleString("en")
  } bytes/token; context ${plan.decoder.contextLength}`,
);

const everydayImages: [string, number, number][] = [
  ["4:3 photo", 4000, 3000],
  ["phone portrait", 1080, 1920],
  ["A4 page at 150 dpi", 1240, 1754],
  ["wide banner", 2048, 100],
  ["thumbnail", 386, 386],
];
console.log(
  "\n  image                    size        grid        tiles  image tokens  total (prompt 'Describe this image.')",
);
for (const [label, width, height] of everydayImages) {
  const count = countSequence(plan, {
    images: [{ width, height }],
    prompt: "Describe this image.",
  });
  const image = count.images[0];
  const grid = image.rows > 0 ? `${image.rows}×${image.cols}+global` : "single";
  console.log(
    `  ${label.padEnd(24)} ${`${width}×${height}`.padEnd(11)} ${grid.padEnd(11)} ${
      String(image.tiles).padStart(5)
    }  ${String(count.imageTokens).padStart(12)}  ${count.totalTokens}${
      count.textTokensExact ? "" : " (text estimated)"
    }`,
  );
}

const budget = planBudget(plan, { image: { width: 4000, height: 3000 }, maxTokens: 512 });
console.log(
  `\n  budget of 512 tokens for the 4:3 photo → longest edge ${budget.longestEdge}, ${
    budget.split ? "split" : "unsplit"
  }, ${budget.count.images[0].tiles} tiles, ${budget.count.totalTokens} tokens`,
);
console.log("\n  (pass another preset name to plan it: deno task demo smolvlm-instruct)");
