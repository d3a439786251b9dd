/**
 * `deno task demo`: what vlmkit knows about the default variant without
 * loading any weights (parameters, memory per dtype, the exact tile and token
 * plan for a few everyday images), then one streamed run of a real ONNX
 * pipeline on the tiny random-weight export shipped with the tests.
 *
 * @module
 */
import { loadModel } from "../src/runtime/load_model.ts";
import { resolve } from "../src/spec/resolve.ts";
import type { Dtype } from "../src/spec/types.ts";
import { planBudget } from "../src/tokens/budget.ts";
import { weightBytes } from "../src/tokens/memory.ts";
import { countSequence } from "../src/tokens/sequence.ts";
import { DEFAULT_PRESET, getPreset } from "../variants/mod.ts";

const name = Deno.args[0] ?? DEFAULT_PRESET;
const plan = resolve(getPreset(name));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

console.log(`vlmkit demo: ${plan.spec.name}`);
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

const examples: [string, number, number][] = [
  ["4:3 photo", 4000, 3000],
  ["phone portrait", 1080, 1920],
  ["A4 page at 150 dpi", 1240, 1754],
  ["wide banner", 2048, 100],
  ["thumbnail", 386, 386],
];
console.log(
  "\n  image                    size        grid        tiles  image tokens  total (prompt 'Describe this image.')",
);
for (const [label, width, height] of examples) {
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

// Run a real pipeline end to end: the tiny random-weight Idefics3 export the tests use.
// Its weights are untrained, so the text is noise; what it shows is the machinery
// (decode → Pillow-exact tiling → vision encoder → merge → KV-cached greedy decoding).
const modelDir = new URL("../test/fixtures/tiny-idefics3/", import.meta.url);
const imagePath = new URL("../test/fixtures/images/sources/text_lines.png", import.meta.url);
const model = await loadModel(modelDir, { backend: "wasm" });
try {
  const request = { prompt: "Read the text.", images: [imagePath], maxNewTokens: 24 };
  console.log(`\n  running ${modelDir.pathname} (random weights) on text_lines.png, backend wasm:`);
  const stream = model.stream(request);
  const out = new TextEncoder();
  await Deno.stdout.write(out.encode("  > "));
  for await (const delta of stream) {
    await Deno.stdout.write(out.encode(delta.replaceAll("\n", " ")));
  }
  const result = await stream.result;
  const t = result.timings;
  console.log(
    `\n  ${result.tokenIds.length} tokens (${result.finishReason}); prompt ${result.promptTokens} tokens, ` +
      `${result.imageTokens} of them image tokens; load ${t.loadMs.toFixed(0)} ms, preprocess ${
        t.preprocessMs.toFixed(0)
      } ms, vision ${t.visionMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, ttft ${
        t.ttftMs.toFixed(0)
      } ms, ${t.decodeTokensPerSec.toFixed(0)} tokens/s`,
  );
} finally {
  await model.dispose();
}
