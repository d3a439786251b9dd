/**
 * Where the layer builders take their weights from. The layers ask by
 * module-local name and builder layout (matrices `[in, out]`); a source
 * answers with seeded values ({@linkcode WeightFactory}) or with a
 * checkpoint's tensors (`checkpoint/checkpoint_weights.ts`). The
 * distribution arguments only matter to seeded sources.
 *
 * @module
 */
import { WeightFactory, type WeightMap, type WeightTensor } from "./seeded_weights.ts";

/** A module's weights, by builder name. */
export interface WeightSource {
  /** Every tensor handed out so far (for numerical checks; empty if the source keeps none). */
  readonly weights: WeightMap;
  /** A tensor of `dims`, stored as the builder uses it. */
  normal(name: string, dims: number[], std: number, mean?: number): WeightTensor;
  /** A matrix `[inDim, outDim]` (y = x·W). */
  matrix(name: string, inDim: number, outDim: number, gain?: number): WeightTensor;
  /** A bias `[size]`. */
  bias(name: string, size: number): WeightTensor;
  /** A norm scale `[size]`. */
  scale(name: string, size: number): WeightTensor;
}

/** The source of each builder module namespace (`encoder`, `projector`, `decoder`). */
export type WeightSources = (module: string) => WeightSource;

/**
 * Seeded weights for every module: `vlm synth`'s source. Without `retain`
 * the sources keep no tensors (`weights` stays empty).
 */
export function seededSources(seed: number, retain = true): WeightSources {
  return (module) => new WeightFactory(seed, module, retain);
}
