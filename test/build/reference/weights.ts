/**
 * Weight storage for the naive reference implementation, and the dense
 * kernels its modules share (linear layers, norms, softmax, attention).
 *
 * Matrices follow the build's layout contract: stored [in, out] and applied
 * as y = x·W + b. Activations are row-major Float64Arrays so accumulation
 * happens in double precision; weights stay float32 as stored.
 *
 * @module
 */

/** A float32 tensor: row-major data with its dims. */
export interface RefTensor {
  /** Dimensions, outermost first. */
  dims: number[];
  /** Row-major values; length is the product of `dims`. */
  data: Float32Array;
}

/** Named weights, keyed by the layout contract's tensor names. */
export type WeightMap = Map<string, RefTensor>;

/** Returns the tensor called `name`, throwing when it is missing. */
export function lookup(w: WeightMap, name: string): RefTensor {
  const tensor = w.get(name);
  if (tensor === undefined) throw new Error(`weight "${name}" is missing`);
  return tensor;
}

/**
 * Returns the data of tensor `name`, throwing when it is missing, when its
 * dims differ from `dims`, or when its data length does not match its dims.
 */
export function get(w: WeightMap, name: string, dims: number[]): Float32Array {
  const tensor = lookup(w, name);
  const same = tensor.dims.length === dims.length && tensor.dims.every((d, i) => d === dims[i]);
  if (!same) {
    throw new Error(
      `weight "${name}" has dims [${tensor.dims.join(", ")}], expected [${dims.join(", ")}]`,
    );
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== size) {
    throw new Error(`weight "${name}" holds ${tensor.data.length} values, dims need ${size}`);
  }
  return tensor.data;
}

/** Throws `message` unless `condition` holds. */
export function ensure(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** y = x·W (+ b) for `rows` rows; W is [inDim, outDim]. */
export function linear(
  x: Float64Array,
  rows: number,
  weight: Float32Array,
  inDim: number,
  outDim: number,
  bias: Float32Array | null = null,
): Float64Array {
  ensure(x.length === rows * inDim, `linear: input has ${x.length} values, want ${rows}×${inDim}`);
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const out = r * outDim;
    if (bias !== null) { for (let o = 0; o < outDim; o++) y[out + o] = bias[o]; }
    // i-then-o order walks W row by row.
    for (let i = 0; i < inDim; i++) {
      const xi = x[r * inDim + i];
      const wRow = i * outDim;
      for (let o = 0; o < outDim; o++) y[out + o] += xi * weight[wRow + o];
    }
  }
  return y;
}

/** A named linear layer: `${prefix}.weight` [inDim, outDim], plus `${prefix}.bias` if `withBias`. */
export function linearLayer(
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  rows: number,
  inDim: number,
  outDim: number,
  withBias: boolean,
): Float64Array {
  const weight = get(w, `${prefix}.weight`, [inDim, outDim]);
  const bias = withBias ? get(w, `${prefix}.bias`, [outDim]) : null;
  return linear(x, rows, weight, inDim, outDim, bias);
}

/** Elementwise a + b as a new array. */
export function add(a: Float64Array, b: Float64Array): Float64Array {
  ensure(a.length === b.length, `add: lengths ${a.length} and ${b.length} differ`);
  return a.map((v, i) => v + b[i]);
}

/** LayerNorm over the last axis: (x − mean)/sqrt(var + eps)·weight + bias, biased variance. */
export function layerNorm(
  x: Float64Array,
  rows: number,
  dim: number,
  weight: Float32Array,
  bias: Float32Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * dim, (r + 1) * dim);
    const mean = row.reduce((a, b) => a + b, 0) / dim;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / dim;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < dim; i++) y[r * dim + i] = (row[i] - mean) * inv * weight[i] + bias[i];
  }
  return y;
}

/** A named LayerNorm: `${prefix}.weight` and `${prefix}.bias`, both [dim]. */
export function layerNormLayer(
  w: WeightMap,
  prefix: string,
  x: Float64Array,
  rows: number,
  dim: number,
  eps: number,
): Float64Array {
  const weight = get(w, `${prefix}.weight`, [dim]);
  const bias = get(w, `${prefix}.bias`, [dim]);
  return layerNorm(x, rows, dim, weight, bias, eps);
}

/** Softmax of `values[start, start + length)` in place (max-subtracted for stability). */
export function softmaxInPlace(values: Float64Array, start: number, length: number): void {
  let max = -Infinity;
  for (let i = start; i < start + length; i++) max = Math.max(max, values[i]);
  let sum = 0;
  for (let i = start; i < start + length; i++) {
    values[i] = Math.exp(values[i] - max);
    sum += values[i];
  }
  for (let i = start; i < start + length; i++) values[i] /= sum;
}

/**
 * Scaled dot-product attention, softmax(q·kᵀ/√headDim)·v per head.
 *
 * `q` is [seqLen, heads·headDim]; `k` and `v` are [seqLen, kvHeads·headDim].
 * Query head h reads kv head floor(h / (heads/kvHeads)) (grouped-query).
 * Key j takes part in query i's softmax iff `visible(i, j)`; a query with no
 * visible key gets a zero context vector. Returns [seqLen, heads·headDim].
 */
export function attention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  seqLen: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  visible: (query: number, key: number) => boolean,
): Float64Array {
  ensure(heads % kvHeads === 0, `attention: kvHeads ${kvHeads} must divide heads ${heads}`);
  const group = heads / kvHeads;
  const qWidth = heads * headDim;
  const kvWidth = kvHeads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const context = new Float64Array(seqLen * qWidth);
  for (let h = 0; h < heads; h++) {
    const kvHead = Math.floor(h / group);
    for (let i = 0; i < seqLen; i++) {
      const keys: number[] = [];
      for (let j = 0; j < seqLen; j++) if (visible(i, j)) keys.push(j);
      if (keys.length === 0) continue;
      const qOffset = i * qWidth + h * headDim;
      const scores = new Float64Array(keys.length);
      keys.forEach((j, n) => {
        const kOffset = j * kvWidth + kvHead * headDim;
        let dot = 0;
        for (let e = 0; e < headDim; e++) dot += q[qOffset + e] * k[kOffset + e];
        scores[n] = dot * scale;
      });
      softmaxInPlace(scores, 0, keys.length);
      keys.forEach((j, n) => {
        const vOffset = j * kvWidth + kvHead * headDim;
        for (let e = 0; e < headDim; e++) context[qOffset + e] += scores[n] * v[vOffset + e];
      });
    }
  }
  return context;
}
