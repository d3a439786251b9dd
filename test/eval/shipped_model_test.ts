// The trained model shipped in models/tiny-smolvlm, end to end through the
// TypeScript pipeline on its held-out evaluation set (500 items of seed 9001,
// a seed training never draws from): the accuracy targets, and
// agreement with the PyTorch model's own greedy answers on the same items —
// the evidence that decoding, Pillow-exact resizing, splitting, pixel shuffle,
// merging and RoPE positions in vlmkit are the ones the model was trained with.
import assert from "node:assert/strict";
import { agreement, type EvalReport, evaluate } from "../../src/eval/evaluate.ts";
import { parseLabels, parsePredictions } from "../../src/eval/labels.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { evalSetDir, FIXTURE_DIR } from "./_eval_set.ts";

const modelDir = new URL("../../models/tiny-smolvlm/", import.meta.url);
// Regenerated from its seed (and checked byte for byte against the committed manifest).
const evalDir = await evalSetDir();
const labelsUrl = new URL("labels.jsonl", evalDir);
const torchUrl = new URL("torch_predictions.jsonl", FIXTURE_DIR);

const PROMPTS = {
  reading: "Read the text.",
  colour: "What color is the shape?",
  shape: "What shape is this?",
  count: "How many shapes are there?",
};

const items = parseLabels(await Deno.readTextFile(labelsUrl), labelsUrl.pathname);
const torch = parsePredictions(await Deno.readTextFile(torchUrl), torchUrl.pathname);
const imageOf = (item: { image: string }) => new URL(item.image, evalDir);

function perPrompt(report: EvalReport, prompt: string) {
  const score = report.perPrompt[prompt];
  assert.ok(score, `no items with prompt ${JSON.stringify(prompt)}`);
  return score;
}

// Floors just under the scores the shipped model reaches (see the README: colour 100%, shape
// 99.2%, count 84.0%, reading 95.2% with CER 1.2%), so a pipeline regression shows up as a drop;
// the count target (≥ 95%) is not met by this model yet, and its floor rises with the model.
const FLOORS: Record<string, { exact: number; maxCer?: number }> = {
  [PROMPTS.colour]: { exact: 0.95 },
  [PROMPTS.shape]: { exact: 0.98 },
  [PROMPTS.count]: { exact: 0.83 },
  [PROMPTS.reading]: { exact: 0.94, maxCer: 0.014 },
};

Deno.test({
  name: "shipped model: 500 held-out items score at its floors and agree with PyTorch (native)",
  sanitizeResources: false,
  fn: async () => {
    assert.equal(items.length, 500);
    const model = await loadModel(modelDir, { backend: "native" });
    try {
      const { report, predictions } = await evaluate(model, items, {
        imageSource: imageOf,
        maxNewTokens: 16,
      });
      const summary = JSON.stringify(report.perPrompt);
      for (const [prompt, floor] of Object.entries(FLOORS)) {
        const score = perPrompt(report, prompt);
        assert.equal(score.count, 125);
        assert.ok(score.exactMatch >= floor.exact, `${prompt}: ${score.exactMatch} (${summary})`);
        if (floor.maxCer !== undefined) {
          assert.ok(score.charErrorRate <= floor.maxCer, `${prompt}: CER ${score.charErrorRate}`);
        }
      }
      // The TypeScript pipeline gives PyTorch's greedy answers: decoding, resizing, splitting,
      // pixel shuffle, merging and positions are the ones the model was trained with.
      const agreed = agreement(predictions, torch);
      assert.equal(agreed.compared, 500);
      assert.ok(agreed.agreement >= 0.99, `agreement with PyTorch ${agreed.agreement} < 0.99`);
    } finally {
      await model.dispose();
    }
  },
});

Deno.test({
  name: "shipped model: the wasm backend gives the native answers (first 60 items)",
  sanitizeResources: false,
  fn: async () => {
    const subset = items.slice(0, 60);
    const answers: string[][] = [];
    for (const backend of ["wasm", "native"] as const) {
      // The same tiling on both (wasm's default budget caps tiles): this compares the runtimes.
      const model = await loadModel(modelDir, { backend, maxTiles: Infinity });
      try {
        const { predictions } = await evaluate(model, subset, {
          imageSource: imageOf,
          maxNewTokens: 16,
        });
        answers.push(predictions.map((p) => p.prediction));
      } finally {
        await model.dispose();
      }
    }
    assert.deepEqual(answers[0], answers[1]);
  },
});
