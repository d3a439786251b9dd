// The MobileVLM family's checkpoint names against the seeded checkpoints that
// tools/reference/mobilevlm_torch.py writes from the MobileVLM repository's module tree
// (test/fixtures/mobilevlm/): every tensor named, every name present, shapes as the spec says.
import assert from "node:assert/strict";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { MOBILEVLM_EMBEDDED_TOWER_PREFIX, mobileVlmFamily } from "../../src/families/mobilevlm.ts";
import type { CheckpointModule } from "../../src/families/types.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { decoderParams, encoderParams, projectorParams } from "../../src/tokens/params.ts";
import { getPreset } from "../../variants/mod.ts";
import { readSafetensors, tensorValues } from "./_safetensors.ts";

const FIXTURES = new URL("../fixtures/mobilevlm/", import.meta.url);

interface ModelEntry {
  variant: string;
  vocab: number;
  projector: "ldp" | "ldpv2";
  mm_projector_type: string;
  dtype: string;
  reference: string;
  sequence: number;
  greedy_last: number;
}

interface Manifest {
  encoder: string;
  inputs: string;
  models: Record<string, ModelEntry>;
}

function path(relative: string): string {
  return new URL(relative, FIXTURES).pathname;
}

function readJson<T>(relative: string): T {
  return JSON.parse(Deno.readTextFileSync(path(relative)));
}

const manifest = readJson<Manifest>("manifest.json");

/** A module's names with `{i}` expanded for `layers` layers. */
function expand(module: CheckpointModule, layers: number): string[] {
  return module.parameters.flatMap((p) =>
    p.includes("{i}") ? Array.from({ length: layers }, (_, i) => p.replace("{i}", `${i}`)) : [p]
  );
}

/** Names missing from and extra in `found`, against `expected`. */
function difference(
  expected: string[],
  found: Iterable<string>,
): { missing: string[]; extra: string[] } {
  const want = new Set(expected);
  const have = new Set(found);
  return {
    missing: [...want].filter((n) => !have.has(n)).sort(),
    extra: [...have].filter((n) => !want.has(n)).sort(),
  };
}

/** The spec a fixture model scales down: the preset at the test scale with the fixture vocabulary. */
function fixtureSpec(entry: ModelEntry): VariantSpec {
  const spec = scaledSpec(getPreset(entry.variant), "test");
  return parseSpec({ ...spec, decoder: { ...spec.decoder, vocab: entry.vocab } });
}

function elementCount(file: ReturnType<typeof readSafetensors>, names: string[]): number {
  return names.reduce((sum, n) => sum + file.entries.get(n)!.shape.reduce((a, b) => a * b, 1), 0);
}

Deno.test("mobilevlm checkpoint: the CLIP tower's tensors are exactly the family's vision names", () => {
  const config = readJson<{ num_hidden_layers: number; model_type: string }>(
    `${manifest.encoder}/config.json`,
  );
  assert.equal(config.model_type, "clip_vision_model");
  const file = readSafetensors(path(`${manifest.encoder}/model.safetensors`));
  const names = expand(mobileVlmFamily.checkpoint.vision, config.num_hidden_layers);
  assert.deepEqual(difference(names, file.entries.keys()), { missing: [], extra: [] });
  // The penultimate-layer tower runs every layer but the last and skips post_layernorm; the
  // parameter accounting calls exactly those tensors unused.
  const spec = fixtureSpec(Object.values(manifest.models)[0]);
  const counts = encoderParams(spec.encoder);
  assert.equal(elementCount(file, names), counts.total);
  const last = names.filter((n) =>
    n.includes(`.layers.${config.num_hidden_layers - 1}.`) || n.includes("post_layernorm")
  );
  assert.equal(elementCount(file, last), counts.unused);
});

for (const [name, entry] of Object.entries(manifest.models)) {
  Deno.test(`mobilevlm checkpoint: ${name} holds exactly the decoder, ${entry.projector} and head names`, () => {
    const config = readJson<Record<string, unknown>>(`${name}/config.json`);
    const file = readSafetensors(path(`${name}/model.safetensors`));
    const { text, head, projector } = mobileVlmFamily.checkpoint;
    // MobileVLM's build_vision_projector: `ldpnetv2` → LDPv2, `ldpnet` → LDP.
    const kind = config.mm_projector_type === "ldpnetv2" ? "ldpv2" : "ldp";
    assert.equal(kind, entry.projector);
    const layers = config.num_hidden_layers as number;
    const names = [
      ...expand(text, layers),
      ...expand(head, layers),
      ...expand(projector[kind]!, 0),
    ];
    assert.deepEqual(difference(names, file.entries.keys()), { missing: [], extra: [] });
    for (const e of file.entries.values()) assert.equal(e.dtype, entry.dtype);
    // No tower in this checkpoint; one that carries it would nest the vision names.
    assert.ok(![...file.entries.keys()].some((n) => n.startsWith(MOBILEVLM_EMBEDDED_TOWER_PREFIX)));

    const spec = fixtureSpec(entry);
    assert.equal(spec.projector.kind, kind);
    const projectorNames = expand(projector[kind]!, 0);
    const textNames = names.filter((n) => !projectorNames.includes(n));
    assert.equal(
      elementCount(file, projectorNames),
      projectorParams(spec.projector, spec.encoder.hidden, spec.decoder.hidden).total,
    );
    assert.equal(elementCount(file, textNames), decoderParams(spec.decoder).total);
  });

  Deno.test(`mobilevlm checkpoint: ${name} config.json has the test-scale dimensions of ${entry.variant}`, () => {
    const config = readJson<Record<string, number | string | boolean>>(`${name}/config.json`);
    const clip = readJson<Record<string, number | string>>(`${manifest.encoder}/config.json`);
    const { encoder, decoder } = fixtureSpec(entry);
    assert.deepEqual(
      {
        hidden: config.hidden_size,
        layers: config.num_hidden_layers,
        heads: config.num_attention_heads,
        kvHeads: config.num_key_value_heads,
        intermediate: config.intermediate_size,
        vocab: config.vocab_size,
        ropeTheta: config.rope_theta,
        rmsEps: config.rms_norm_eps,
        tied: config.tie_word_embeddings,
        featureDim: config.mm_hidden_size,
        selectLayer: config.mm_vision_select_layer,
      },
      {
        hidden: decoder.hidden,
        layers: decoder.layers,
        heads: decoder.heads,
        kvHeads: decoder.kvHeads,
        intermediate: decoder.intermediate,
        vocab: decoder.vocab,
        ropeTheta: decoder.ropeTheta,
        rmsEps: decoder.rmsEps,
        tied: decoder.tiedEmbeddings,
        featureDim: encoder.hidden,
        selectLayer: encoder.featureLayer === "penultimate" ? -2 : -1,
      },
    );
    assert.deepEqual(
      [clip.hidden_size, clip.num_hidden_layers, clip.num_attention_heads, clip.intermediate_size],
      [encoder.hidden, encoder.layers, encoder.heads, encoder.mlp],
    );
    assert.deepEqual(
      [clip.image_size, clip.patch_size, clip.hidden_act, clip.layer_norm_eps],
      [encoder.imageSize, encoder.patchSize, "quick_gelu", encoder.layerNormEps],
    );
    assert.equal(encoder.activation, "quick-gelu");
  });

  Deno.test(`mobilevlm checkpoint: ${name} reference outputs fit the prompt and the spec`, () => {
    const inputs = readSafetensors(path(manifest.inputs));
    const ids = tensorValues(inputs, "input_ids") as number[];
    const spec = fixtureSpec(entry);
    // One sentinel, replaced by 144 feature rows.
    assert.equal(ids.filter((id) => id === spec.tokens.image.id).length, 1);
    assert.equal(ids[0], spec.tokens.bos!.id);
    const ref = readSafetensors(path(entry.reference));
    const tokens = 144;
    assert.deepEqual(ref.entries.get("image_features")!.shape, [1, 576, spec.encoder.hidden]);
    assert.deepEqual(ref.entries.get("image_embeds")!.shape, [1, tokens, spec.decoder.hidden]);
    assert.deepEqual(ref.entries.get("logits")!.shape, [
      1,
      ids.length - 1 + tokens,
      spec.decoder.vocab,
    ]);
    assert.equal(entry.sequence, ids.length - 1 + tokens);
    const logits = tensorValues(ref, "logits") as Float32Array;
    const last = logits.subarray(logits.length - spec.decoder.vocab);
    assert.equal(last.indexOf(Math.max(...last)), entry.greedy_last);
  });
}
