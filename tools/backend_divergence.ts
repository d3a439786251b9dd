/**
 * Where and why two backends' greedy decodes part: runs a model folder on
 * native (onnxruntime-node) and wasm (onnxruntime-web), then replays native's
 * ids on wasm (and, with `--reference`, on a reference folder such as the fp32
 * build of the same weights) while recording every step's logits. It reports
 * the first step where the greedy ids differ, the top-2 logit gap there on
 * each backend (a near-tie when both are small and the two ids are swapped),
 * and per step the largest |native − wasm| logit difference next to the
 * largest |native − reference| difference (a kernel difference would make the
 * first comparable to the second).
 *
 *   deno run -A tools/backend_divergence.ts --model DIR --image PATH --prompt TEXT
 *     [--reference DIR] [--max-new-tokens N] [--no-split] [--json]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/runtime/load_model.ts";
import type { GenerateRequest } from "../src/runtime/generation_types.ts";
import { topIds } from "../src/runtime/token_logprobs.ts";

/** One decoding step of the replay. */
export interface StepComparison {
  /** Step index (0 = the first generated token). */
  step: number;
  /** The id native chose. */
  id: number;
  /** Top-2 logit gap on native (logit of the best id − logit of the second). */
  nativeGap: number;
  /** Top-2 logit gap on wasm at the same step, same prefix. */
  wasmGap: number;
  /** Wasm's greedy id at this step (with native's prefix). */
  wasmId: number;
  /** max |native logit − wasm logit| over the vocabulary. */
  backendDiff: number;
  /** max |native logit − reference logit|, when a reference folder is given. */
  referenceDiff?: number;
}

/** What {@linkcode compareBackends} found. */
export interface BackendDivergence {
  /** Native's greedy ids. */
  native: number[];
  /** Wasm's own greedy ids (not forced). */
  wasm: number[];
  /** First step where the two greedy runs differ, or `undefined`. */
  firstDifference?: number;
  /** Every step of the replay of native's ids. */
  steps: StepComparison[];
}

/** The model's raw logits at every step of a decode forced along `ids` (when given). */
async function recordLogits(
  folder: string,
  backend: "native" | "wasm",
  request: GenerateRequest,
  ids?: readonly number[],
): Promise<{ ids: number[]; logits: Float32Array[] }> {
  const model = await loadModel(folder, { backend, maxTiles: Infinity });
  const logits: Float32Array[] = [];
  try {
    const result = await model.generate({
      ...request,
      reusePrefix: false,
      logitsProcessors: [(step, generated) => {
        logits.push(step.slice());
        if (!ids) return;
        const forced = ids[generated.length];
        step.fill(-Infinity);
        if (forced !== undefined) step[forced] = 0;
      }],
    });
    return { ids: result.tokenIds, logits };
  } finally {
    await model.dispose();
  }
}

function gap(logits: Float32Array): number {
  const [a, b] = topIds(logits, 2);
  return logits[a] - logits[b];
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Runs the comparison described in the module doc. */
export async function compareBackends(
  folder: string,
  request: GenerateRequest,
  reference?: string,
): Promise<BackendDivergence> {
  const native = await recordLogits(folder, "native", request);
  const wasm = await recordLogits(folder, "wasm", request);
  const stop = { ...request, maxNewTokens: native.ids.length, stopTokenIds: [] };
  const replay = await recordLogits(folder, "wasm", stop, native.ids);
  const ref = reference ? await recordLogits(reference, "native", stop, native.ids) : undefined;
  const firstDifference = native.ids.findIndex((id, i) => wasm.ids[i] !== id);
  const steps = native.ids.map((id, step): StepComparison => ({
    step,
    id,
    nativeGap: gap(native.logits[step]),
    wasmGap: gap(replay.logits[step]),
    wasmId: topIds(replay.logits[step], 1)[0],
    backendDiff: maxDiff(native.logits[step], replay.logits[step]),
    ...(ref ? { referenceDiff: maxDiff(native.logits[step], ref.logits[step]) } : {}),
  }));
  return {
    native: native.ids,
    wasm: wasm.ids,
    firstDifference: firstDifference >= 0
      ? firstDifference
      : wasm.ids.length !== native.ids.length
      ? Math.min(wasm.ids.length, native.ids.length)
      : undefined,
    steps,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      reference: { type: "string" },
      image: { type: "string" },
      prompt: { type: "string", default: "Describe this image." },
      "max-new-tokens": { type: "string", default: "128" },
      "no-split": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.model || !values.image) {
    console.error("usage: backend_divergence.ts --model DIR --image PATH [--reference DIR] ...");
    Deno.exit(2);
  }
  const result = await compareBackends(values.model, {
    prompt: values.prompt!,
    images: [values.image],
    maxNewTokens: Number(values["max-new-tokens"]),
    split: !values["no-split"],
  }, values.reference);
  if (values.json) console.log(JSON.stringify(result));
  else {
    const d = result.firstDifference;
    console.log(`native ${result.native.length} tokens, wasm ${result.wasm.length} tokens`);
    console.log(d === undefined ? "same ids" : `first difference at step ${d}`);
    const worst = (key: "backendDiff" | "referenceDiff") =>
      Math.max(...result.steps.map((s) => s[key] ?? 0));
    console.log(`max |native − wasm| logit over all steps: ${worst("backendDiff").toFixed(4)}`);
    if (values.reference) {
      console.log(`max |native − reference| logit: ${worst("referenceDiff").toFixed(4)}`);
    }
    const smallest = [...result.steps].sort((a, b) => a.nativeGap - b.nativeGap).slice(0, 5);
    for (const s of d === undefined ? smallest : [result.steps[d], ...smallest]) {
      console.log(
        `step ${s.step}: native id ${s.id} gap ${s.nativeGap.toFixed(4)}; wasm id ${s.wasmId} gap ${
          s.wasmGap.toFixed(4)
        }; |native − wasm| ${s.backendDiff.toFixed(4)}${
          s.referenceDiff === undefined ? "" : `; |native − ref| ${s.referenceDiff.toFixed(4)}`
        }`,
      );
    }
  }
}
