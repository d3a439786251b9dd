// The MobileVLM checkpoint config codec: the committed fixtures' config.json files (MobileVLM
// format + CLIPVisionConfig) read into the spec the presets describe at the test scale, and
// every disagreement a typed error naming the folders and keys.
import assert from "node:assert/strict";
import fc from "fast-check";
import { specFromCheckpointConfigs } from "../../src/build/checkpoint/checkpoint_config.ts";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { CheckpointConfigs } from "../../src/families/types.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { getPreset } from "../../variants/mod.ts";

const FIXTURES = new URL("../fixtures/mobilevlm/", import.meta.url).pathname;
const json = (relative: string) => JSON.parse(Deno.readTextFileSync(`${FIXTURES}${relative}`));
const V1 = `${FIXTURES}mobilevlm-test`;
const CLIP = `${FIXTURES}clip-vit-test`;

function configs(
  main: Record<string, unknown> = {},
  clip: Record<string, unknown> = {},
  from = "mobilevlm-test",
): CheckpointConfigs {
  return {
    main: { folder: `${FIXTURES}${from}`, config: { ...json(`${from}/config.json`), ...main } },
    encoder: {
      folder: CLIP,
      config: { ...json("clip-vit-test/config.json"), ...clip },
      preprocessor: json("clip-vit-test/preprocessor_config.json"),
    },
  };
}

function read(c: CheckpointConfigs): VariantSpec {
  const spec = specFromCheckpointConfigs(c);
  assert.ok(spec, "the MobileVLM codec claims the config");
  return spec;
}

/** The thrown VlmError (fails when none is thrown). */
function thrown(run: () => unknown): VlmError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof VlmError, String(error));
    return error;
  }
  assert.fail("no error thrown");
}

for (
  const [folder, preset] of [["mobilevlm-test", "mobilevlm-1.7b"], [
    "mobilevlm-v2-test",
    "mobilevlm-v2-1.7b",
  ]]
) {
  Deno.test(`mobilevlm config: ${folder}'s configs give ${preset} at the test scale (vocab 512)`, () => {
    const spec = read(configs({}, {}, folder));
    const want = scaledSpec(getPreset(preset), "test");
    assert.deepEqual(spec.encoder, want.encoder);
    assert.deepEqual(spec.projector, want.projector);
    assert.deepEqual(spec.decoder, { ...want.decoder, vocab: 512 });
    assert.deepEqual(spec.image, want.image);
    assert.deepEqual(spec.tokens, want.tokens);
    assert.equal(spec.artifacts.layout, "modular");
    assert.equal(spec.name, folder);
  });
}

Deno.test("mobilevlm config: a CLIPModel config's vision_config is the tower's", () => {
  const clip = json("clip-vit-test/config.json");
  const nested: CheckpointConfigs = {
    ...configs(),
    encoder: {
      folder: CLIP,
      config: { model_type: "clip", hidden_size: 512, vision_config: clip },
    },
  };
  assert.deepEqual(read(nested).encoder, read(configs()).encoder);
});

Deno.test("mobilevlm config: mm_hidden_size other than the CLIP width names both files", () => {
  const error = thrown(() => read(configs({ mm_hidden_size: 1024 })));
  assert.equal(error.code, "model_mismatch");
  assert.match(error.message, new RegExp(`${V1}/config.json mm_hidden_size = 1024`));
  assert.match(error.message, new RegExp(`${CLIP}/config.json hidden_size = 32`));
  assert.match(error.fix ?? "", /--encoder-from/);
});

Deno.test("mobilevlm config: projector types other than ldpnet/ldpnetv2 are refused by key", () => {
  const error = thrown(() => read(configs({ mm_projector_type: "mlp2x_gelu" })));
  assert.equal(error.code, "model_invalid");
  assert.match(error.message, /mm_projector_type = "mlp2x_gelu"/);
});

Deno.test("mobilevlm config: the select layer maps to last/penultimate, others are refused", () => {
  // hidden_states has layers + 1 entries (embeddings first): a negative index counts from the end.
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 40 }), fc.boolean(), (layers, negative) => {
      const clip = { num_hidden_layers: layers };
      const penultimate = negative ? -2 : layers - 1;
      const last = negative ? -1 : layers;
      const spec = (select: number) =>
        read(configs({ mm_vision_select_layer: select }, clip)).encoder.featureLayer;
      return spec(penultimate) === "penultimate" && spec(last) === "last";
    }),
    { numRuns: 25 },
  );
  const error = thrown(() => read(configs({ mm_vision_select_layer: -3 })));
  assert.equal(error.code, "model_mismatch");
  assert.match(error.message, /mm_vision_select_layer = -3/);
  assert.match(error.message, /num_hidden_layers = 2/);
});

Deno.test("mobilevlm config: keys the builder cannot model are refused by name", () => {
  for (
    const [key, value] of [
      ["mm_vision_select_feature", "cls_patch"],
      ["vision_tower_type", "siglip"],
      ["mm_use_im_start_end", true],
    ] as const
  ) {
    const error = thrown(() => read(configs({ [key]: value })));
    assert.equal(error.code, "model_invalid");
    assert.match(error.message, new RegExp(`config.json ${key} = ${JSON.stringify(value)}`));
  }
});

Deno.test("mobilevlm config: spec issues are told as the config keys behind them", () => {
  const error = thrown(() => read(configs({ image_aspect_ratio: "square" })));
  assert.equal(error.code, "model_invalid");
  assert.match(error.message, new RegExp(`${V1}/config.json image_aspect_ratio = "square"`));
  assert.match(error.fix ?? "", /image_aspect_ratio/);
  const clipError = thrown(() => read(configs({}, { num_attention_heads: 3 })));
  assert.match(clipError.message, new RegExp(`${CLIP}/config.json num_attention_heads = 3`));
});

Deno.test("mobilevlm config: without the CLIP folder the error says to pass --encoder-from", () => {
  const error = thrown(() => read({ main: configs().main }));
  assert.equal(error.code, "usage");
  assert.match(error.message, /mm_vision_tower = "\.\.\/clip-vit-test"/);
  assert.match(error.fix ?? "", /--encoder-from/);
});

Deno.test("mobilevlm config: Idefics3 configs are left to the Hugging Face codec", () => {
  assert.equal(
    specFromCheckpointConfigs({ main: { folder: "x", config: { model_type: "idefics3" } } }),
    undefined,
  );
});
