/**
 * What the hardware allows for a model, from its Plan: the FLOPs of one tile
 * through the vision encoder (the compute bound of vision and prefill) and the
 * bytes one decode step must read (the bandwidth bound of decoding). The bench
 * divides measured speeds by these to report fractions of the bounds.
 *
 * @module
 */
import type { Plan } from "../../src/spec/plan.ts";
import type { Dtype } from "../../src/spec/types.ts";
import { DTYPE_STORAGE } from "../../src/tokens/memory.ts";

/**
 * Multiply-adds ×2 of one tile: every matmul weight of the encoder and the
 * projector once per row it transforms, plus the attention products
 * (QKᵀ and AV: 2 · sequence² · hidden per layer).
 */
export function visionFlopsPerTile(plan: Plan): number {
  const sequence = plan.encoder.sequenceLength;
  const { hidden, layers } = plan.spec.encoder;
  const encoderMatmul = plan.params.encoder.matmul;
  const attention = layers * 2 * 2 * sequence * sequence * hidden;
  const projector = 2 * plan.params.projector.matmul * plan.tokensPerTile;
  return 2 * encoderMatmul * sequence + attention + projector;
}

/**
 * Bytes one decode step reads: every decoder matmul weight (the LM head
 * included; a tied head reads the embedding table), the norms, and the KV
 * cache of `contextTokens` tokens. The embedding lookup reads one row only.
 */
export function decodeBytesPerToken(plan: Plan, dtype: Dtype, contextTokens: number): number {
  const storage = DTYPE_STORAGE[dtype];
  const { decoder } = plan.spec;
  const head = decoder.tiedEmbeddings ? decoder.vocab * decoder.hidden : 0;
  const p = plan.params.decoder;
  const weights = ((p.matmul + head) * storage.matmulBits + p.other * storage.otherBits) / 8;
  return weights + plan.decoder.kvBytesPerToken * contextTokens;
}
