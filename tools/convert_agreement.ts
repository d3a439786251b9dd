/**
 * Converts the committed BF16 checkpoint of the shipped tiny SmolVLM
 * (`test/fixtures/tiny-smolvlm-checkpoint`, made by
 * `tools/train/export_checkpoint.py`) with `vlm convert`, then answers the
 * held-out evaluation set greedily with both the shipped folder and the
 * converted one and counts identical predictions.
 *
 *     deno run -A tools/convert_agreement.ts [--count 500] [--checkpoint DIR] [--backend native|wasm]
 *       [--dtype fp32|fp16|int8|uint8|q4|q4f16|bnb4]
 *
 * Prints one JSON object: {count, agreed, differing: [{image, prompt, shipped, converted}]}.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { WeightFormat } from "../src/build/layers/ops.ts";
import { evaluate } from "../src/eval/evaluate.ts";
import { parseLabels } from "../src/eval/labels.ts";
import { loadModel } from "../src/runtime/load_model.ts";
import type { BackendName } from "../src/runtime/backend.ts";
import { evalSetDir } from "../test/eval/_eval_set.ts";
import { convertFromArgs } from "./cli/convert_command.ts";

const REPO = new URL("../", import.meta.url);

/** Shipped vs converted answers on the first `count` items of the evaluation set. */
export async function convertedAgreement(options: {
  count: number;
  checkpoint?: string;
  backend?: BackendName;
  /** The converted folder's form (default fp32); the shipped folder stays fp32. */
  dtype?: WeightFormat;
}): Promise<{
  count: number;
  agreed: number;
  differing: { image: string; prompt: string; shipped: string; converted: string }[];
}> {
  const checkpoint = options.checkpoint ??
    new URL("test/fixtures/tiny-smolvlm-checkpoint", REPO).pathname;
  const out = await Deno.makeTempDir({ prefix: "vlmkit-converted-" });
  try {
    await convertFromArgs([
      "--from",
      checkpoint,
      "--out",
      out,
      "--force",
      "--dtype",
      options.dtype ?? "fp32",
    ]);
    const evalDir = await evalSetDir();
    const labelsUrl = new URL("labels.jsonl", evalDir);
    const items = parseLabels(await Deno.readTextFile(labelsUrl), labelsUrl.pathname)
      .slice(0, options.count);
    const answer = async (
      dir: string | URL,
    ): Promise<{ image: string; prompt: string; prediction: string }[]> => {
      const model = await loadModel(dir, { backend: options.backend ?? "native" });
      try {
        const { predictions } = await evaluate(model, items, {
          imageSource: (item) => new URL(item.image, evalDir),
          maxNewTokens: 16,
        });
        return predictions;
      } finally {
        await model.dispose();
      }
    };
    const shipped = await answer(new URL("models/tiny-smolvlm/", REPO));
    const converted = await answer(out);
    const differing = shipped.flatMap((s, i) =>
      s.prediction === converted[i].prediction ? [] : [{
        image: s.image,
        prompt: s.prompt,
        shipped: s.prediction,
        converted: converted[i].prediction,
      }]
    );
    return { count: items.length, agreed: items.length - differing.length, differing };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "500" },
      checkpoint: { type: "string" },
      backend: { type: "string", default: "native" },
      dtype: { type: "string", default: "fp32" },
    },
  });
  const result = await convertedAgreement({
    count: Number(values.count),
    checkpoint: values.checkpoint,
    backend: values.backend as BackendName,
    dtype: values.dtype as WeightFormat,
  });
  console.log(JSON.stringify(result, null, 2));
}
