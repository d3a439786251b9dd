// `vlm convert` of the committed MobileVLM checkpoints (test/fixtures/mobilevlm/: a CLIP tower,
// a V1 LDP checkpoint in BF16, a V2 LDPv2 checkpoint in F16), spec read from their config.json
// files (no --variant), then the converted folder's four ONNX files run in ONNX Runtime as the
// pipeline runs them (encoder → projector → embed_tokens with the image rows spliced at the
// −200 placeholder → decoder with its KV cache) and compared with the float64 PyTorch reference
// (tools/reference/mobilevlm_torch.py): CLIP features, projected image rows, logits.
import assert from "node:assert/strict";
import { convertFromArgs } from "../../../tools/cli/convert_command.ts";
import type { OrtSession, OrtTensor } from "../../../src/runtime/backend.ts";
import { floats, floatTensor, intTensor, nativeBackend } from "../_harness.ts";
import { readSafetensors, tensorValues } from "../../families/_safetensors.ts";

const FIXTURES = new URL("../../fixtures/mobilevlm/", import.meta.url);
const path = (relative: string) => new URL(relative, FIXTURES).pathname;
const manifest = JSON.parse(Deno.readTextFileSync(path("manifest.json")));
/** Issue 28's bar: max |converted − reference| / max |reference|. */
const TOLERANCE = 1e-3;

/** Largest |a − b| over the largest |b|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

async function open(folder: string, module: string): Promise<OrtSession> {
  const backend = await nativeBackend();
  return backend.createSession({ name: module, path: `${folder}/onnx/${module}.onnx` });
}

/** The decoder over `rows` new embedding rows after `past` cached positions; the cache advances. */
async function step(
  decoder: OrtSession,
  cache: Record<string, OrtTensor>,
  rows: Float32Array,
  past: number,
  shape: { hidden: number; layers: number; kvHeads: number; headDim: number },
): Promise<{ logits: OrtTensor; cache: Record<string, OrtTensor> }> {
  const length = rows.length / shape.hidden;
  const feeds: Record<string, OrtTensor> = {
    inputs_embeds: await floatTensor(rows, [1, length, shape.hidden]),
    attention_mask: await intTensor(Array(past + length).fill(1), [1, past + length]),
    position_ids: await intTensor(Array.from({ length }, (_, i) => past + i), [1, length]),
  };
  const next: Record<string, OrtTensor> = {};
  for (let i = 0; i < shape.layers; i++) {
    for (const part of ["key", "value"]) {
      feeds[`past_key_values.${i}.${part}`] = cache[`present.${i}.${part}`] ??
        await floatTensor(new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]);
    }
  }
  const out = await decoder.run(feeds);
  for (let i = 0; i < shape.layers; i++) {
    for (const part of ["key", "value"]) next[`present.${i}.${part}`] = out[`present.${i}.${part}`];
  }
  return { logits: out.logits, cache: next };
}

for (const [name, entry] of Object.entries(manifest.models) as [string, Record<string, never>][]) {
  Deno.test(`vlm convert ${name} + ${manifest.encoder} (no --variant) matches the PyTorch reference`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "vlmkit-mobilevlm-reference-" });
    const out = `${dir}/out`;
    const sessions: OrtSession[] = [];
    try {
      const summary = await convertFromArgs([
        "--from",
        path(name),
        "--encoder-from",
        path(manifest.encoder),
        "--out",
        out,
      ]);
      assert.equal(summary.layout, "modular");
      const spec = JSON.parse(await Deno.readTextFile(`${out}/vlmkit.json`)).spec;
      assert.equal(spec.projector.kind, entry.projector, "projector read from mm_projector_type");
      assert.equal(spec.decoder.vocab, entry.vocab, "vocabulary read from config.json");
      const inputs = readSafetensors(path(manifest.inputs));
      const ref = readSafetensors(path(entry.reference));
      const [encoder, projector, embed, decoder] = await Promise.all(
        ["encoder", "projector", "embed_tokens", "decoder"].map((m) => open(out, m)),
      );
      sessions.push(encoder, projector, embed, decoder);

      // Encoder: CLIP's hidden_states[-2] without CLS.
      const t = spec.image.tileSize;
      const pixels = tensorValues(inputs, "pixel_values") as Float32Array;
      const { features } = await encoder.run({
        pixel_values: await floatTensor(pixels, [1, 3, t, t]),
      });
      const featureError = relativeError(
        floats(features),
        tensorValues(ref, "image_features") as Float32Array,
      );
      assert.ok(featureError < TOLERANCE, `features: ${featureError}`);

      // Projector: the image rows the placeholder becomes.
      const projected = await projector.run({ features });
      const imageRows = floats(Object.values(projected)[0]);
      const rowError = relativeError(imageRows, tensorValues(ref, "image_embeds") as Float32Array);
      assert.ok(rowError < TOLERANCE, `image rows: ${rowError}`);

      // Embeddings of the text ids, the placeholder replaced by the image rows.
      const ids = tensorValues(inputs, "input_ids") as number[];
      const at = ids.indexOf(spec.tokens.image.id);
      assert.ok(at >= 0 && ids.lastIndexOf(spec.tokens.image.id) === at, "one placeholder");
      const text = ids.filter((id) => id !== spec.tokens.image.id);
      const { inputs_embeds } = await embed.run({
        input_ids: await intTensor(text, [1, text.length]),
      });
      const h = spec.decoder.hidden;
      const textRows = floats(inputs_embeds);
      const rows = new Float32Array(textRows.length + imageRows.length);
      rows.set(textRows.subarray(0, at * h));
      rows.set(imageRows, at * h);
      rows.set(textRows.subarray(at * h), at * h + imageRows.length);
      const length = rows.length / h;
      assert.equal(length, entry.sequence);

      const vocab = spec.decoder.vocab;
      const expected = tensorValues(ref, "logits") as Float32Array;
      const row = (p: number) => expected.subarray(p * vocab, (p + 1) * vocab);
      const shape = spec.decoder;

      // One prefill of the whole prompt: the converted decoder emits the last position only.
      const prefill = await step(decoder, {}, rows, 0, shape);
      assert.deepEqual(prefill.logits.dims, [1, 1, vocab]);
      const last = floats(prefill.logits);
      const lastError = relativeError(last, row(length - 1));
      assert.ok(lastError < TOLERANCE, `last-position logits: ${lastError}`);
      assert.equal(last.indexOf(Math.max(...last)), entry.greedy_last);

      // Each text position and the image's last row, as generation reaches them through the KV
      // cache: the text before the image one row at a time, the image rows in one call, then
      // one row at a time again.
      const imageEnd = at + imageRows.length / h;
      const chunks: [number, number][] = [];
      for (let p = 0; p < at; p++) chunks.push([p, p + 1]);
      chunks.push([at, imageEnd]);
      for (let p = imageEnd; p < length; p++) chunks.push([p, p + 1]);
      let cache: Record<string, OrtTensor> = {};
      let worst = 0;
      for (const [start, end] of chunks) {
        const state = await step(decoder, cache, rows.subarray(start * h, end * h), start, shape);
        worst = Math.max(worst, relativeError(floats(state.logits), row(end - 1)));
        cache = state.cache;
      }
      assert.ok(worst < TOLERANCE, `logits through the cache: ${worst}`);
      console.log(
        `${name}: relative error features ${featureError.toExponential(2)}, image rows ${
          rowError.toExponential(2)
        }, last logits ${lastError.toExponential(2)}, ${chunks.length} positions via the cache ${
          worst.toExponential(2)
        }`,
      );
    } finally {
      await Promise.all(sessions.map((s) => s.release()));
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("vlm convert of a MobileVLM checkpoint without its CLIP folder names --encoder-from", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-mobilevlm-no-tower-" });
  try {
    await assert.rejects(
      convertFromArgs(["--from", path("mobilevlm-test"), "--out", `${dir}/out`]),
      (error: Error & { code?: string; fix?: string }) =>
        error.code === "usage" && /mm_vision_tower/.test(error.message) &&
        /--encoder-from/.test(error.fix ?? ""),
    );
    await assert.rejects(Deno.stat(`${dir}/out`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
