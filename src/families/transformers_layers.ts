/**
 * Checkpoint names of the transformer layers several families share, as
 * transformers names them: the ViT encoder layer (CLIPEncoderLayer; SigLIP's
 * and Idefics3's vision layers use the same names) and LlamaDecoderLayer
 * (no biases). `{i}` stands for the layer index.
 *
 * @module
 */

/** Builder name → encoder-layer part (weight and bias each). */
const VIT_LAYER: Readonly<Record<string, string>> = {
  "norm1": "layer_norm1",
  "norm2": "layer_norm2",
  "attn.q": "self_attn.q_proj",
  "attn.k": "self_attn.k_proj",
  "attn.v": "self_attn.v_proj",
  "attn.out": "self_attn.out_proj",
  "mlp.up": "mlp.fc1",
  "mlp.down": "mlp.fc2",
};

/** Builder name → LlamaDecoderLayer part (weights only). */
const LLAMA_LAYER: Readonly<Record<string, string>> = {
  "input_norm": "input_layernorm",
  "post_attn_norm": "post_attention_layernorm",
  "attn.q": "self_attn.q_proj",
  "attn.k": "self_attn.k_proj",
  "attn.v": "self_attn.v_proj",
  "attn.o": "self_attn.o_proj",
  "mlp.gate": "mlp.gate_proj",
  "mlp.up": "mlp.up_proj",
  "mlp.down": "mlp.down_proj",
};

/** Builder `layers.{i}.*` → `${model}.encoder.layers.{i}.*` of a ViT encoder at `model`. */
export function vitLayerNames(model: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(VIT_LAYER).flatMap(([ours, theirs]) =>
      ["weight", "bias"].map((p) => [
        `layers.{i}.${ours}.${p}`,
        `${model}.encoder.layers.{i}.${theirs}.${p}`,
      ])
    ),
  );
}

/** Builder `layers.{i}.*` → `${model}.layers.{i}.*` of a Llama model at `model`. */
export function llamaLayerNames(model: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(LLAMA_LAYER).map((
      [ours, theirs],
    ) => [`layers.{i}.${ours}.weight`, `${model}.layers.{i}.${theirs}.weight`]),
  );
}
