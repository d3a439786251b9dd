/**
 * The registered model families and layouts. Adding a family means writing its
 * module and adding it to {@linkcode FAMILIES}; everything else finds it here.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { ArtifactLayout, TokensSpec, VariantSpec } from "../spec/types.ts";
import { idefics3Family } from "./idefics3.ts";
import { mobileVlmFamily } from "./mobilevlm.ts";
import { modularLayout } from "./modular_layout.ts";
import type { CheckpointConfigCodec, HfConfigCodec, ModelFamily, ModuleLayout } from "./types.ts";

/** Every family vlmkit knows, in the order config.json detection tries them. */
export const FAMILIES: readonly ModelFamily[] = [idefics3Family, mobileVlmFamily];

/** Every layout: each family's own (published) ones, then the shared modular one. */
export const LAYOUTS: readonly ModuleLayout[] = [
  ...FAMILIES.flatMap((family) => family.layouts),
  modularLayout,
];

/** The family of a spec (by its chat template). */
export function familyOf(
  spec: VariantSpec | { tokens: Pick<TokensSpec, "chatTemplate"> },
): ModelFamily {
  const template = spec.tokens.chatTemplate;
  const family = FAMILIES.find((f) => f.chatTemplates.includes(template));
  if (!family) {
    throw new VlmError("spec_invalid", `no model family uses the chat template "${template}"`, {
      fix: `use one of ${FAMILIES.flatMap((f) => f.chatTemplates).join(", ")}`,
    });
  }
  return family;
}

/** The family of a conversation's token spec. */
export function familyOfTokens(tokens: Pick<TokensSpec, "chatTemplate">): ModelFamily {
  return familyOf({ tokens });
}

/** The layout called `name` (a spec's `artifacts.layout`). */
export function layoutNamed(name: ArtifactLayout | string): ModuleLayout {
  const layout = LAYOUTS.find((l) => l.name === name);
  if (!layout) {
    throw new VlmError("spec_invalid", `unknown artifact layout "${name}"`, {
      fix: `use one of ${LAYOUTS.map((l) => l.name).join(", ")}`,
    });
  }
  return layout;
}

/** The layout of a spec. */
export function layoutOf(spec: VariantSpec): ModuleLayout {
  return layoutNamed(spec.artifacts.layout);
}

/** The codec whose family published a folder with this config.json. */
export function hfConfigCodecFor(config: Record<string, unknown>): HfConfigCodec {
  const codecs = FAMILIES.flatMap((f) => f.hfConfig ? [f.hfConfig] : []);
  const codec = codecs.find((c) => c.accepts(config));
  if (!codec) {
    throw new VlmError(
      "model_invalid",
      `config.json has model_type ${
        JSON.stringify(config.model_type)
      }, which no model family reads`,
      {
        fix: `use a folder of a supported family (${
          FAMILIES.filter((f) => f.hfConfig).map((f) => f.description).join("; ")
        }), or a modular folder built by \`vlm synth --layout modular\``,
      },
    );
  }
  return codec;
}

/**
 * The checkpoint config codec of the family whose checkpoint has this
 * config.json, or `undefined` when its family reads checkpoints through its
 * Hugging Face config codec (or none claims it).
 */
export function checkpointConfigCodecFor(
  config: Record<string, unknown>,
): CheckpointConfigCodec | undefined {
  return FAMILIES.flatMap((f) => f.checkpointConfig ? [f.checkpointConfig] : [])
    .find((codec) => codec.accepts(config));
}
