/**
 * The builder's Llama decoder weights as a llama.cpp GGUF file (architecture
 * `llama`), so llama.cpp runs the very model vlmkit's decoder graph runs. The
 * mapping follows llama.cpp's `convert_hf_to_gguf.py`: matrices stored as
 * `[out, in]` rows (ggml ne0 = in), and the rows of Q and K permuted from
 * Hugging Face's half-split RoPE layout to ggml's interleaved pairs.
 *
 * @module
 */
import type { WeightMap, WeightTensor } from "../../../src/build/seeded_weights.ts";
import type { DecoderSpec } from "../../../src/spec/types.ts";
import { BLOCK, quantizeQ4_0, quantizeQ8_0 } from "./ggml_blocks.ts";
import { GgmlType, type GgufTensor, type GgufValue } from "./gguf_writer.ts";

/** Storage of the 2-D weights (norms always stay F32). */
export type GgufWeightType = "F32" | "Q8_0" | "Q4_0";

/** llama.cpp's `general.file_type` ids (LLAMA_FTYPE_ALL_F32, MOSTLY_Q8_0, MOSTLY_Q4_0). */
const FILE_TYPE: Record<GgufWeightType, number> = { F32: 0, Q8_0: 7, Q4_0: 2 };

/**
 * `[in, out]` (the builder's y = x·W) → `[out, in]` rows, optionally with the
 * RoPE permutation: within each head, row `s·hd/2 + i` moves to `2i + s`.
 */
export function torchRows(w: WeightTensor, ropeHeads?: number): Float32Array {
  const [inDim, outDim] = w.dims;
  const rows = new Float32Array(inDim * outDim);
  const headDim = ropeHeads ? outDim / ropeHeads : 0;
  const half = headDim / 2;
  for (let o = 0; o < outDim; o++) {
    let target = o;
    if (ropeHeads) {
      const head = Math.floor(o / headDim);
      const within = o % headDim;
      const s = within >= half ? 1 : 0;
      target = head * headDim + 2 * (within - s * half) + s;
    }
    const row = target * inDim;
    for (let i = 0; i < inDim; i++) rows[row + i] = w.data[i * outDim + o];
  }
  return rows;
}

function encoded(
  rows: Float32Array,
  rowLength: number,
  type: GgufWeightType,
): { type: GgmlType; data: Uint8Array } {
  if (type !== "F32" && rowLength % BLOCK !== 0) {
    throw new RangeError(`${type} needs rows of a multiple of ${BLOCK} values, got ${rowLength}`);
  }
  switch (type) {
    case "F32":
      return {
        type: GgmlType.F32,
        data: new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength),
      };
    case "Q8_0":
      return { type: GgmlType.Q8_0, data: quantizeQ8_0(rows) };
    case "Q4_0":
      return { type: GgmlType.Q4_0, data: quantizeQ4_0(rows) };
  }
}

function weight(weights: WeightMap, name: string): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`the decoder weights have no ${name}`);
  return w;
}

/** Tensors and metadata of the GGUF file for a decoder. `vocabulary` is the token texts by id. */
export function llamaGguf(
  spec: DecoderSpec,
  weights: WeightMap,
  type: GgufWeightType,
  vocabulary: { tokens: string[]; control: ReadonlySet<number>; bos: number; eos: number },
): { metadata: Map<string, GgufValue>; tensors: GgufTensor[] } {
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const tokenTypes = new Int32Array(spec.vocab);
  for (let id = 0; id < spec.vocab; id++) tokenTypes[id] = vocabulary.control.has(id) ? 3 : 1;
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "vlmkit synthesized decoder" }],
    ["general.file_type", u32(FILE_TYPE[type])],
    ["llama.context_length", u32(spec.contextLength)],
    ["llama.embedding_length", u32(spec.hidden)],
    ["llama.block_count", u32(spec.layers)],
    ["llama.feed_forward_length", u32(spec.intermediate)],
    ["llama.rope.dimension_count", u32(spec.headDim)],
    ["llama.attention.head_count", u32(spec.heads)],
    ["llama.attention.head_count_kv", u32(spec.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: spec.rmsEps }],
    ["llama.rope.freq_base", { type: "f32", value: spec.ropeTheta }],
    ["llama.vocab_size", u32(spec.vocab)],
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "default" }],
    ["tokenizer.ggml.tokens", { type: "strings", value: vocabulary.tokens }],
    ["tokenizer.ggml.token_type", { type: "i32s", value: tokenTypes }],
    ["tokenizer.ggml.merges", { type: "strings", value: [] }],
    ["tokenizer.ggml.bos_token_id", u32(vocabulary.bos)],
    ["tokenizer.ggml.eos_token_id", u32(vocabulary.eos)],
  ]);
  const norm = (name: string, from: string): GgufTensor => {
    const w = weight(weights, from);
    return { name, dims: [w.data.length], ...encoded(w.data, w.data.length, "F32") };
  };
  const matrix = (name: string, from: string, ropeHeads?: number): GgufTensor => {
    const w = weight(weights, from);
    return {
      name,
      dims: [w.dims[0], w.dims[1]],
      ...encoded(torchRows(w, ropeHeads), w.dims[0], type),
    };
  };
  const table = weight(weights, "embed.weight"); // [V, H]: already one row per token
  const tensors: GgufTensor[] = [
    {
      name: "token_embd.weight",
      dims: [spec.hidden, spec.vocab],
      ...encoded(table.data, spec.hidden, type),
    },
  ];
  for (let i = 0; i < spec.layers; i++) {
    const at = (suffix: string) => `layers.${i}.${suffix}`;
    tensors.push(
      norm(`blk.${i}.attn_norm.weight`, at("input_norm.weight")),
      matrix(`blk.${i}.attn_q.weight`, at("attn.q.weight"), spec.heads),
      matrix(`blk.${i}.attn_k.weight`, at("attn.k.weight"), spec.kvHeads),
      matrix(`blk.${i}.attn_v.weight`, at("attn.v.weight")),
      matrix(`blk.${i}.attn_output.weight`, at("attn.o.weight")),
      norm(`blk.${i}.ffn_norm.weight`, at("post_attn_norm.weight")),
      matrix(`blk.${i}.ffn_gate.weight`, at("mlp.gate.weight")),
      matrix(`blk.${i}.ffn_up.weight`, at("mlp.up.weight")),
      matrix(`blk.${i}.ffn_down.weight`, at("mlp.down.weight")),
    );
  }
  tensors.push(norm("output_norm.weight", "norm.weight"));
  if (!spec.tiedEmbeddings) tensors.push(matrix("output.weight", "lm_head.weight"));
  return { metadata, tensors };
}
