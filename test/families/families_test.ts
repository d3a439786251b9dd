import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { idefics3Family } from "../../src/families/idefics3.ts";
import { mobileVlmFamily } from "../../src/families/mobilevlm.ts";
import { modularLayout } from "../../src/families/modular_layout.ts";
import {
  FAMILIES,
  familyOf,
  hfConfigCodecFor,
  layoutNamed,
  LAYOUTS,
} from "../../src/families/registry.ts";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import { hfConfigFiles } from "../../src/build/hf_config_files.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { LAYOUT_MODULES } from "../../src/spec/rules.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { validateSpec } from "../../src/spec/validate.ts";
import { specFromHfFiles } from "../../src/runtime/hf_config.ts";
import { TextTokenizer } from "../../src/text/tokenizer.ts";
import { getPreset, presetNames } from "../../variants/mod.ts";

/** The preset in the family's published layout, one dtype for every module. */
function inHfLayout(spec: VariantSpec): VariantSpec {
  const layout = layoutNamed("hf-idefics3");
  const modules = Object.fromEntries(
    layout.modules.map((m) => [m, { file: layout.files[m], dtype: "fp32" as const }]),
  );
  return { ...spec, artifacts: { ...spec.artifacts, layout: layout.name, modules } };
}

Deno.test("families: every preset belongs to exactly one family, and every layout is registered", () => {
  for (const name of presetNames()) {
    const spec = getPreset(name);
    const owners = FAMILIES.filter((f) => f.chatTemplates.includes(spec.tokens.chatTemplate));
    assert.equal(owners.length, 1, name);
    assert.equal(familyOf(spec), owners[0]);
    const layout = layoutNamed(spec.artifacts.layout);
    assert.deepEqual(Object.keys(spec.artifacts.modules).sort(), [...layout.modules].sort(), name);
    // Each family's checkpoint names cover the projector its presets use.
    assert.ok(familyOf(spec).checkpoint.projector[spec.projector.kind], `${name} projector names`);
  }
  assert.equal(familyOf(getPreset("smolvlm-256m-instruct")), idefics3Family);
  assert.equal(familyOf(getPreset("mobilevlm-v2-1.7b")), mobileVlmFamily);
  for (const layout of LAYOUTS) assert.deepEqual(LAYOUT_MODULES[layout.name], layout.modules);
  assert.deepEqual(LAYOUTS.map((l) => l.cliName), ["hf", "modular"]);
  assert.throws(
    () => layoutNamed("hf-qwen2vl"),
    (e) => e instanceof VlmError && /hf-idefics3/.test(e.fix!),
  );
});

Deno.test("families: layout roles name modules of the layout, and contracts cover every module", () => {
  for (const layout of LAYOUTS) {
    const roles = Object.values(layout.roles).filter((r): r is string => r !== null);
    for (const role of roles) assert.ok(layout.modules.includes(role), `${layout.name}: ${role}`);
    assert.deepEqual(Object.keys(layout.files).sort(), [...layout.modules].sort());
  }
  const plan = resolve(inHfLayout(getPreset("smolvlm-256m-instruct")));
  const hf = layoutNamed("hf-idefics3").contracts(plan, "float32");
  assert.deepEqual(Object.keys(hf), ["vision_encoder", "embed_tokens", "decoder_model_merged"]);
  assert.deepEqual(hf.vision_encoder.inputs.map((t) => t.name), [
    "pixel_values",
    "pixel_attention_mask",
  ]);
  const modular = modularLayout.contracts(resolve(getPreset("mobilevlm-1.7b")), "float16");
  assert.deepEqual(modular.projector.inputs[0].dims, [null, 576, 1024]);
  assert.equal(modular.decoder.inputs.at(-1)!.types[0], "float16");
});

Deno.test("families: checkpoint names sit under their module prefix and are unique", () => {
  for (const family of FAMILIES) {
    const modules = [
      family.checkpoint.vision,
      family.checkpoint.text,
      family.checkpoint.head,
      ...Object.values(family.checkpoint.projector),
    ];
    const all = modules.flatMap((m) => m!.parameters);
    assert.equal(new Set(all).size, all.length, family.id);
    for (const m of modules) {
      for (const p of m!.parameters) assert.ok(p.startsWith(m!.prefix), `${family.id}: ${p}`);
      // Unverified names must say so.
      if (!m!.verified) assert.match(m!.note, /UNVERIFIED/);
    }
  }
  const idefics = idefics3Family.checkpoint;
  assert.ok(
    idefics.projector["pixel-shuffle-linear"]!.parameters.includes(
      "model.connector.modality_projection.proj.weight",
    ),
  );
  assert.ok(
    idefics.text.parameters.includes("model.text_model.layers.{i}.self_attn.q_proj.weight"),
  );
  assert.ok(
    mobileVlmFamily.checkpoint.projector.ldpv2!.parameters.every((p) =>
      p.startsWith("model.mm_projector.")
    ),
  );
});

Deno.test("families: prompt splicing — Idefics3 expands in text, MobileVLM splices sentinel ids", () => {
  const smol = getPreset("smolvlm-256m-instruct");
  const idefics = familyOf(smol).prompt;
  const grid = { rows: 1, cols: 2, tiles: 3 };
  const block = idefics.imageBlock(grid, 2, smol.tokens);
  assert.equal(block.split("<image>").length - 1, 3 * 2);
  assert.equal(idefics.featureRowsPerPlaceholder(64), 1);

  const mobile = getPreset("mobilevlm-1.7b");
  const format = familyOf(mobile).prompt;
  const tokenizer = new TextTokenizer(tokenizerJson(mobile));
  const rendered = format.renderUserTurn({ imageBlocks: ["<image>"], text: "hi" }, mobile.tokens);
  const { ids, text } = format.splice(
    rendered,
    tokenizer,
    [{ rows: 0, cols: 0, tiles: 1 }],
    144,
    mobile.tokens,
  );
  assert.equal(text, rendered);
  assert.equal(ids.filter((id) => id === -200).length, 144);
  assert.equal(ids[0], mobile.tokens.bos!.id, "BOS comes from the tokenizer, once");
  assert.equal(ids.filter((id) => id === mobile.tokens.bos!.id).length, 1);
  assert.equal(format.maxImages, 1);
  assert.throws(
    () => format.splice(rendered, tokenizer, [], 144, mobile.tokens),
    (e) => e instanceof VlmError && e.code === "input_invalid",
  );
});

Deno.test("families: config.json model_type picks the codec; unknown families are named", () => {
  assert.equal(hfConfigCodecFor({ model_type: "idefics3" }), idefics3Family.hfConfig);
  assert.equal(hfConfigCodecFor({ model_type: "smolvlm" }), idefics3Family.hfConfig);
  assert.throws(
    () => hfConfigCodecFor({ model_type: "qwen2_vl" }),
    (e) => e instanceof VlmError && e.code === "model_invalid" && /qwen2_vl/.test(e.message),
  );
});

/** Writes the HF configs of `spec` and reads them back through the runtime's reader. */
function roundTrip(spec: VariantSpec, tokenizer: TextTokenizer): VariantSpec {
  const plan = resolve(spec);
  const files = hfConfigFiles(plan) as Record<string, Record<string, unknown>>;
  const dtypes = {
    vision_encoder: "fp32",
    embed_tokens: "fp32",
    decoder_model_merged: "fp32",
  } as const;
  return specFromHfFiles(
    {
      config: files["config.json"],
      preprocessor: files["preprocessor_config.json"],
      processor: files["processor_config.json"],
      generation: files["generation_config.json"],
    },
    tokenizer,
    spec.name,
    dtypes,
  );
}

function assertSameModel(actual: VariantSpec, expected: VariantSpec) {
  assert.deepEqual(actual.encoder, expected.encoder);
  assert.deepEqual(actual.projector, expected.projector);
  assert.deepEqual(actual.decoder, expected.decoder);
  const { maxTiles: _a, ...image } = actual.image;
  const { maxTiles: _b, ...want } = expected.image;
  assert.deepEqual(image, want);
  assert.deepEqual(actual.tokens.image, expected.tokens.image);
  assert.deepEqual(actual.tokens.eosIds, expected.tokens.eosIds);
  assert.equal(actual.tokens.padId, expected.tokens.padId);
  assert.deepEqual(actual.tokens.fakeTokenAroundImage, expected.tokens.fakeTokenAroundImage);
  assert.deepEqual(actual.tokens.globalImage, expected.tokens.globalImage);
  assert.deepEqual(actual.artifacts.modules, expected.artifacts.modules);
}

Deno.test("families: the Idefics3 codec reads back what it writes, for the published presets", () => {
  for (const name of ["smolvlm-256m-instruct", "smoldocling-256m", "granite-docling-258m"]) {
    const spec = inHfLayout(getPreset(name));
    assertSameModel(roundTrip(spec, new TextTokenizer(tokenizerJson(spec))), spec);
  }
});

Deno.test("families: the Idefics3 codec round trip holds for arbitrary decoder and encoder sizes", () => {
  const base = inHfLayout(getPreset("smolvlm-256m-instruct"));
  const tokenizer = new TextTokenizer(tokenizerJson(base));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom(8, 16, 64, 80),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 8192 }),
      fc.boolean(),
      fc.constantFrom(10000, 100000, 273768),
      fc.constantFrom(4, 12),
      fc.constantFrom<"lanczos" | "bicubic" | "bilinear">("lanczos", "bicubic", "bilinear"),
      fc.boolean(),
      (
        heads,
        headDim,
        kvDivisor,
        layers,
        intermediate,
        tied,
        ropeTheta,
        encoderHeads,
        resample,
        splitting,
      ) => {
        const kvHeads = heads % kvDivisor === 0 ? heads / kvDivisor : heads;
        const spec: VariantSpec = {
          ...base,
          encoder: { ...base.encoder, heads: encoderHeads, layers: Math.min(layers, 27) },
          decoder: {
            ...base.decoder,
            heads,
            kvHeads,
            headDim,
            hidden: heads * headDim,
            layers,
            intermediate,
            tiedEmbeddings: tied,
            ropeTheta,
          },
          image: { ...base.image, resample, splitting },
        };
        assert.equal(validateSpec(spec).valid, true);
        assertSameModel(roundTrip(spec, tokenizer), spec);
      },
    ),
    { numRuns: 60 },
  );
});
