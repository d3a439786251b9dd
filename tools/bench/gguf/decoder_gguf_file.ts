/**
 * Writes the decoder of a synthesized variant (the same seeded weights `vlm
 * synth` and the bench's folders hold) as a GGUF file for llama.cpp.
 *
 *   deno run -A tools/bench/gguf/decoder_gguf_file.ts --out FILE.gguf \
 *     [--variant smolvlm-256m-instruct] [--type F32|Q8_0|Q4_0] [--seed 0] [--scale full|test]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { languageGraphs } from "../../../src/build/module_graphs.ts";
import { specialTokens, tokenizerJson } from "../../../src/build/synthetic_tokenizer.ts";
import { scaledSpec } from "../../../src/build/test_scale.ts";
import { resolve } from "../../../src/spec/resolve.ts";
import type { VariantSpec } from "../../../src/spec/types.ts";
import { DEFAULT_PRESET, getPreset } from "../../../variants/mod.ts";
import { writeFileAtomically } from "../../cli/atomic_file.ts";
import { encodeGguf } from "./gguf_writer.ts";
import { type GgufWeightType, llamaGguf } from "./llama_gguf.ts";

/** Token texts by id, as the synthesized folder's tokenizer.json has them. */
function vocabulary(spec: VariantSpec) {
  const json = tokenizerJson(spec) as { model: { vocab: Record<string, number> } };
  const tokens = new Array<string>(spec.decoder.vocab);
  for (const [text, id] of Object.entries(json.model.vocab)) tokens[id] = text;
  for (let id = 0; id < tokens.length; id++) tokens[id] ??= `<|unused_${id}|>`;
  const control = new Set(specialTokens(spec).keys());
  return {
    tokens,
    control,
    bos: spec.tokens.bos?.id ?? 0,
    eos: spec.tokens.eosIds[0] ?? spec.tokens.endOfUtterance.id,
  };
}

/** Metadata and tensors of `spec`'s decoder GGUF, weights seeded as `vlm synth` seeds them. */
export function decoderGgufParts(
  spec: VariantSpec,
  type: GgufWeightType,
  seed = 0,
): ReturnType<typeof llamaGguf> {
  const plan = resolve(spec);
  const { decoder } = languageGraphs(plan, { seed, format: "fp32" }, "decoder");
  return llamaGguf(spec.decoder, decoder.weights, type, vocabulary(spec));
}

/** The GGUF bytes (as chunks) of `spec`'s decoder, weights seeded as `vlm synth` seeds them. */
export function decoderGguf(spec: VariantSpec, type: GgufWeightType, seed = 0): Uint8Array[] {
  const { metadata, tensors } = decoderGgufParts(spec, type, seed);
  return encodeGguf(metadata, tensors);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string" },
      variant: { type: "string", default: DEFAULT_PRESET },
      type: { type: "string", default: "F32" },
      seed: { type: "string", default: "0" },
      scale: { type: "string", default: "full" },
    },
  });
  if (!values.out || !["F32", "Q8_0", "Q4_0"].includes(values.type)) {
    console.error("usage: decoder_gguf_file.ts --out FILE.gguf [--type F32|Q8_0|Q4_0] [options]");
    Deno.exit(2);
  }
  const spec = scaledSpec(getPreset(values.variant), values.scale === "test" ? "test" : "full");
  const chunks = decoderGguf(spec, values.type as GgufWeightType, Number(values.seed));
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  await writeFileAtomically(values.out, bytes);
  console.error(`${values.out}: ${(size / 1e6).toFixed(1)} MB`);
}
