/**
 * Deterministic synthetic weights. Each tensor draws from its own stream,
 * seeded by the build seed and the tensor's full name, so a tensor's values do
 * not depend on which other tensors were generated before it (a reduced-depth
 * build shares its first layers with the full one).
 *
 * @module
 */
import { seededRandom } from "../runtime/rng.ts";
import type { WeightSource } from "./weight_source.ts";

/** A float32 weight, row-major. Matrices are stored `[in, out]` (y = x·W + b). */
export interface WeightTensor {
  /** Shape. */
  dims: number[];
  /** Values. */
  data: Float32Array;
}

/** Weights of one module by name (see the README's weight layout table). */
export type WeightMap = Map<string, WeightTensor>;

/** FNV-1a over the UTF-16 units of `text`, mixed with `seed`. */
function hashName(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Fills a module's {@linkcode WeightMap} from one seed. */
export class WeightFactory implements WeightSource {
  /** The tensors made so far (none when not retained). */
  readonly weights: WeightMap = new Map();
  readonly #made = new Set<string>();

  /**
   * `module` namespaces the streams, so equal local names in two modules
   * differ. Without `retain` the tensors are not kept in
   * {@linkcode weights}, so a streaming build can drop each once it is written.
   */
  constructor(readonly seed: number, readonly module: string, readonly retain = true) {}

  /** Normal(mean, std) values (Box–Muller over SplitMix32). */
  normal(name: string, dims: number[], std: number, mean = 0): WeightTensor {
    const random = seededRandom(hashName(this.seed, `${this.module}/${name}`));
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      const u = 1 - random(); // (0, 1]: log stays finite
      const radius = Math.sqrt(-2 * Math.log(u)) * std;
      const angle = 2 * Math.PI * random();
      data[i] = mean + radius * Math.cos(angle);
      if (i + 1 < count) data[i + 1] = mean + radius * Math.sin(angle);
    }
    return this.#keep(name, { dims, data });
  }

  /** A matrix `[inDim, outDim]` scaled 1/√in, which keeps activations near unit variance. */
  matrix(name: string, inDim: number, outDim: number, gain = 1): WeightTensor {
    return this.normal(name, [inDim, outDim], gain / Math.sqrt(inDim));
  }

  /** A bias: small values, so a wrong broadcast still shows in a numerical check. */
  bias(name: string, size: number): WeightTensor {
    return this.normal(name, [size], 0.02);
  }

  /** A norm scale near 1 (not exactly 1, so a dropped scale is caught). */
  scale(name: string, size: number): WeightTensor {
    return this.normal(name, [size], 0.05, 1);
  }

  #keep(name: string, tensor: WeightTensor): WeightTensor {
    if (this.#made.has(name)) throw new Error(`${this.module}: weight ${name} made twice`);
    this.#made.add(name);
    if (this.retain) this.weights.set(name, tensor);
    return tensor;
  }
}
