import fc from "fast-check";
import type { DecoderSpec, EncoderSpec, ProjectorSpec } from "../../../src/spec/types.ts";
import {
  applyRope,
  refEmbed,
  refLlamaLogits,
  refLlamaLogitsWithMask,
  ropeFrequencies,
} from "./llama.ts";
import { refPixelShuffle, refProjector, squeezeWidth } from "./projectors.ts";
import { activation, erf, gridSide, refVisionFeatures } from "./vision.ts";
import { attention, get, softmaxInPlace, type WeightMap } from "./weights.ts";

// ---------------------------------------------------------------- assertions

function assertTrue(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertTrue(a.length === b.length, `lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    // NaN must fail, not pass as "not greater than the tolerance".
    max = Number.isNaN(d) ? Infinity : Math.max(max, d);
  }
  return max;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  const diff = maxAbsDiff(actual, expected);
  assertTrue(diff <= tolerance, `${what}: max |diff| ${diff} exceeds ${tolerance}`);
}

function assertDiffers(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assertTrue(a.length !== b.length || maxAbsDiff(a, b) > 0, `${what}: outputs are identical`);
}

function assertThrows(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    assertTrue(pattern.test(message), `${what}: message "${message}" does not match ${pattern}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

// ----------------------------------------------------------- seeded weights

/** mulberry32: a small deterministic generator of uniform [0, 1) values. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray(length: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (rand() * 2 - 1) * scale);
}

type Shapes = Array<[string, number[]]>;

/** Seeded weights for the named shapes; norm weights sit near 1 so signals keep their size. */
function weightsFor(shapes: Shapes, seed: number): WeightMap {
  const rand = seeded(seed);
  const w: WeightMap = new Map();
  for (const [name, dims] of shapes) {
    const size = dims.reduce((a, b) => a * b, 1);
    const isNormScale = /norm\d?\.weight$/.test(name);
    const data = isNormScale
      ? randomArray(size, rand, 0.1).map((v) => 1 + v)
      : randomArray(size, rand, 1 / Math.sqrt(dims.length >= 2 ? dims[0] : 4));
    w.set(name, { dims, data });
  }
  return w;
}

function encoderShapes(spec: EncoderSpec): Shapes {
  const { hidden: d, mlp: i, patchSize: p } = spec;
  const patches = gridSide(spec) ** 2;
  const shapes: Shapes = [["patch.weight", [d, 3, p, p]]];
  if (spec.family === "siglip") {
    shapes.push(["patch.bias", [d]], ["position", [patches, d]]);
  } else {
    shapes.push(["class", [d]], ["position", [patches + 1, d]]);
    shapes.push(["pre_norm.weight", [d]], ["pre_norm.bias", [d]]);
  }
  for (let l = 0; l < spec.layers; l++) {
    const at = `layers.${l}`;
    for (const norm of ["norm1", "norm2"]) {
      shapes.push([`${at}.${norm}.weight`, [d]], [`${at}.${norm}.bias`, [d]]);
    }
    for (const proj of ["q", "k", "v", "out"]) {
      shapes.push([`${at}.attn.${proj}.weight`, [d, d]], [`${at}.attn.${proj}.bias`, [d]]);
    }
    shapes.push([`${at}.mlp.up.weight`, [d, i]], [`${at}.mlp.up.bias`, [i]]);
    shapes.push([`${at}.mlp.down.weight`, [i, d]], [`${at}.mlp.down.bias`, [d]]);
  }
  shapes.push(["post_norm.weight", [d]], ["post_norm.bias", [d]]);
  return shapes;
}

function decoderShapes(spec: DecoderSpec): Shapes {
  const { hidden: h, heads, kvHeads, headDim: hd, intermediate: i, vocab } = spec;
  const shapes: Shapes = [["embed.weight", [vocab, h]], ["norm.weight", [h]]];
  if (!spec.tiedEmbeddings) shapes.push(["lm_head.weight", [h, vocab]]);
  for (let l = 0; l < spec.layers; l++) {
    const at = `layers.${l}`;
    shapes.push([`${at}.input_norm.weight`, [h]], [`${at}.post_attn_norm.weight`, [h]]);
    shapes.push([`${at}.attn.q.weight`, [h, heads * hd]], [`${at}.attn.k.weight`, [
      h,
      kvHeads * hd,
    ]]);
    shapes.push([`${at}.attn.v.weight`, [h, kvHeads * hd]], [`${at}.attn.o.weight`, [
      heads * hd,
      h,
    ]]);
    shapes.push([`${at}.mlp.gate.weight`, [h, i]], [`${at}.mlp.up.weight`, [h, i]]);
    shapes.push([`${at}.mlp.down.weight`, [i, h]]);
  }
  return shapes;
}

function projectorShapes(spec: ProjectorSpec, d: number, h: number): Shapes {
  switch (spec.kind) {
    case "pixel-shuffle-linear":
      return [["proj.weight", [d * spec.scaleFactor ** 2, h]]];
    case "mlp":
      return Array.from({ length: spec.layers }, (_, j): Shapes => [
        [`layers.${j}.weight`, [j === 0 ? d : h, h]],
        [`layers.${j}.bias`, [h]],
      ]).flat();
  }
  const mlp: Shapes = [
    ["mlp.0.weight", [d, h]],
    ["mlp.0.bias", [h]],
    ["mlp.1.weight", [h, h]],
    ["mlp.1.bias", [h]],
  ];
  if (spec.kind === "ldpv2") return [...mlp, ["peg.weight", [h, 1, 3, 3]], ["peg.bias", [h]]];
  const s = squeezeWidth(h);
  return [
    ...mlp,
    ...[0, 1].flatMap((b): Shapes => [
      [`blocks.${b}.dw.weight`, [h, 1, 3, 3]],
      [`blocks.${b}.norm1.weight`, [h]],
      [`blocks.${b}.norm1.bias`, [h]],
      [`blocks.${b}.se.fc1.weight`, [h, s]],
      [`blocks.${b}.se.fc1.bias`, [s]],
      [`blocks.${b}.se.fc2.weight`, [s, h]],
      [`blocks.${b}.se.fc2.bias`, [h]],
      [`blocks.${b}.pw.weight`, [h, h]],
      [`blocks.${b}.norm2.weight`, [h]],
      [`blocks.${b}.norm2.bias`, [h]],
    ]),
  ];
}

// ------------------------------------------------------------- tiny specs

const SIGLIP: EncoderSpec = {
  family: "siglip",
  imageSize: 10,
  patchSize: 4,
  remainderPixels: "dropped",
  hidden: 8,
  layers: 2,
  heads: 2,
  mlp: 12,
  activation: "gelu-tanh",
  layerNormEps: 1e-6,
  featureLayer: "last",
  postLayerNorm: true,
};

const CLIP: EncoderSpec = {
  family: "clip-vit",
  imageSize: 8,
  patchSize: 4,
  remainderPixels: "none",
  hidden: 8,
  layers: 3,
  heads: 2,
  mlp: 16,
  activation: "quick-gelu",
  layerNormEps: 1e-5,
  featureLayer: "penultimate",
  postLayerNorm: false,
};

const LLAMA: DecoderSpec = {
  family: "llama",
  hidden: 16,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 4,
  intermediate: 24,
  vocab: 11,
  ropeTheta: 10000,
  ropeScaling: null,
  contextLength: 64,
  rmsEps: 1e-5,
  tiedEmbeddings: false,
};

// ------------------------------------------------------------ pixel shuffle

/** The Idefics3 formula read as a gather over output positions. */
function shuffleByFormula(x: Float32Array, side: number, c: number, r: number): Float32Array {
  const outSide = side / r;
  const out = new Float32Array(x.length);
  for (let h1 = 0; h1 < outSide; h1++) {
    for (let w1 = 0; w1 < outSide; w1++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < r; j++) {
          for (let ch = 0; ch < c; ch++) {
            const m = (i * r + j) * c + ch;
            const t = h1 * outSide + w1;
            out[t * c * r * r + m] = x[((h1 * r + i) * side + (w1 * r + j)) * c + ch];
          }
        }
      }
    }
  }
  return out;
}

/** The same gather with the grid read column-major (w and h swapped). */
function shuffleTransposed(x: Float32Array, side: number, c: number, r: number): Float32Array {
  const transposed = new Float32Array(x.length);
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      for (let ch = 0; ch < c; ch++) {
        transposed[(col * side + row) * c + ch] = x[(row * side + col) * c + ch];
      }
    }
  }
  return shuffleByFormula(transposed, side, c, r);
}

/** torch pixel_unshuffle on NCHW: output channel ch·r² + i·r + j. */
function shuffleNchw(x: Float32Array, side: number, c: number, r: number): Float32Array {
  const outSide = side / r;
  const out = new Float32Array(x.length);
  for (let h1 = 0; h1 < outSide; h1++) {
    for (let w1 = 0; w1 < outSide; w1++) {
      for (let ch = 0; ch < c; ch++) {
        for (let i = 0; i < r; i++) {
          for (let j = 0; j < r; j++) {
            const t = h1 * outSide + w1;
            out[t * c * r * r + ch * r * r + i * r + j] =
              x[((h1 * r + i) * side + (w1 * r + j)) * c + ch];
          }
        }
      }
    }
  }
  return out;
}

const SHUFFLE_CASES: Array<[number, number]> = [[4, 2], [6, 2], [6, 3], [8, 4]];

Deno.test("reference pixel shuffle: matches the index formula per tile", () => {
  const channels = 3;
  const tiles = 2;
  for (const [side, r] of SHUFFLE_CASES) {
    const x = randomArray(tiles * side * side * channels, seeded(side * 10 + r));
    const actual = refPixelShuffle(x, tiles, side, channels, r);
    const tileLength = side * side * channels;
    for (let t = 0; t < tiles; t++) {
      const tile = x.subarray(t * tileLength, (t + 1) * tileLength);
      const expected = shuffleByFormula(tile, side, channels, r);
      const got = actual.subarray(t * tileLength, (t + 1) * tileLength);
      assertClose(got, expected, 0, `side ${side} r ${r} tile ${t}`);
    }
  }
});

Deno.test("reference pixel shuffle: transposed and NCHW orderings give different outputs", () => {
  const channels = 3;
  for (const [side, r] of SHUFFLE_CASES) {
    const x = randomArray(side * side * channels, seeded(side * 100 + r));
    const actual = refPixelShuffle(x, 1, side, channels, r);
    assertDiffers(
      actual,
      shuffleTransposed(x, side, channels, r),
      `transposed, side ${side} r ${r}`,
    );
    assertDiffers(actual, shuffleNchw(x, side, channels, r), `NCHW, side ${side} r ${r}`);
  }
});

Deno.test("reference pixel shuffle: is a permutation (multiset of values preserved)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 2 }),
      fc.integer(),
      (r, blocks, channels, tiles, seed) => {
        const side = r * blocks;
        const x = randomArray(tiles * side * side * channels, seeded(seed));
        const out = refPixelShuffle(x, tiles, side, channels, r);
        assertClose(out.slice().sort(), x.slice().sort(), 0, "sorted values");
      },
    ),
  );
});

// ------------------------------------------------------- scalar functions

Deno.test("reference softmax: rows are non-negative and sum to 1", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -500, max: 500, noNaN: true }), { minLength: 1, maxLength: 40 }),
      (values) => {
        const row = Float64Array.from(values);
        softmaxInPlace(row, 0, row.length);
        const sum = row.reduce((a, b) => a + b, 0);
        assertTrue(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
        assertTrue(row.every((p) => p >= 0), "negative probability");
      },
    ),
  );
  // Only the addressed slice is touched.
  const row = Float64Array.from([7, 1, 2, 3, 7]);
  softmaxInPlace(row, 1, 3);
  assertTrue(row[0] === 7 && row[4] === 7, "softmax wrote outside its slice");
  assertClose([row[1] + row[2] + row[3]], [1], 1e-12, "slice sum");
});

Deno.test("reference RoPE: position 0 is the identity", () => {
  const x = Float64Array.from(randomArray(16, seeded(3)));
  const rotated = x.slice();
  for (const offset of [0, 8]) applyRope(rotated, offset, 8, 0, 10000);
  assertClose(rotated, x, 0, "RoPE at position 0");
});

Deno.test("reference RoPE: rotate_half pairs (j, j + d/2) with the documented signs", () => {
  // headDim 2: a single pair turning by exactly `position` radians (inv_freq = 1).
  const x = Float64Array.from([0.3, -0.7]);
  applyRope(x, 0, 2, 5, 10000);
  const [c, s] = [Math.cos(5), Math.sin(5)];
  assertClose(x, [0.3 * c + 0.7 * s, -0.7 * c + 0.3 * s], 1e-15, "headDim 2");
  // headDim 4 at position 1: pair (0, 2) turns by 1 rad, pair (1, 3) by θ^(−1/2) rad.
  const y = Float64Array.from([1, 0, 0, 0]);
  applyRope(y, 0, 4, 1, 100);
  assertClose(y, [Math.cos(1), 0, Math.sin(1), 0], 1e-15, "headDim 4, pair 0");
  const z = Float64Array.from([0, 1, 0, 0]);
  applyRope(z, 0, 4, 1, 100);
  assertClose(z, [0, Math.cos(0.1), 0, Math.sin(0.1)], 1e-15, "headDim 4, pair 1");
});

Deno.test("reference RoPE: preserves the norm of a head vector", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(2, 4, 8, 16),
      fc.integer({ min: 0, max: 8192 }),
      fc.integer(),
      (headDim, position, seed) => {
        const x = Float64Array.from(randomArray(headDim, seeded(seed)));
        const norm = Math.hypot(...x);
        applyRope(x, 0, headDim, position, 10000);
        assertClose([Math.hypot(...x)], [norm], 1e-12, "norm");
      },
    ),
  );
});

Deno.test("reference erf: matches tabulated values to 1e-12", () => {
  const table: Array<[number, number]> = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.9, 0.9999589021219005],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [5, 0.9999999999984626],
  ];
  for (const [x, expected] of table) {
    assertClose([erf(x), erf(-x)], [expected, -expected], 1e-12, `erf(±${x})`);
  }
});

Deno.test("reference activations: match values tabulated from their definitions", () => {
  const table: Array<[number, number, number, number]> = [
    // x, exact GELU, tanh GELU, quick GELU
    [-2.5, -0.015524163314440398, -0.015084266089998577, -0.03498616504857008],
    [-0.5, -0.15426876936299344, -0.15428599017485606, -0.1496115633936199],
    [1, 0.8413447460685429, 0.8411919906082768, 0.8457957659328212],
    [3, 2.99595030590511, 2.996362607918227, 2.981928690292214],
  ];
  for (const [x, exact, tanh, quick] of table) {
    assertClose([activation("gelu")(x)], [exact], 1e-12, `gelu(${x})`);
    assertClose([activation("gelu-tanh")(x)], [tanh], 1e-12, `gelu-tanh(${x})`);
    assertClose([activation("quick-gelu")(x)], [quick], 1e-12, `quick-gelu(${x})`);
  }
});

// --------------------------------------------------------------- attention

/** Plain multi-head attention, written without any head grouping. */
function multiHead(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  seqLen: number,
  heads: number,
  headDim: number,
): Float64Array {
  const width = heads * headDim;
  const out = new Float64Array(seqLen * width);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < seqLen; i++) {
      const scores = Array.from({ length: i + 1 }, (_, j) => {
        let dot = 0;
        for (let e = 0; e < headDim; e++) {
          dot += q[i * width + h * headDim + e] * k[j * width + h * headDim + e];
        }
        return dot / Math.sqrt(headDim);
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      exps.forEach((p, j) => {
        for (let e = 0; e < headDim; e++) {
          out[i * width + h * headDim + e] += (p / total) * v[j * width + h * headDim + e];
        }
      });
    }
  }
  return out;
}

const causal = (query: number, key: number) => key <= query;

Deno.test("reference attention: GQA with kvHeads == heads is plain multi-head attention", () => {
  const [seqLen, heads, headDim] = [5, 3, 4];
  const rand = seeded(11);
  const size = seqLen * heads * headDim;
  const [q, k, v] = [0, 1, 2].map(() => Float64Array.from(randomArray(size, rand)));
  const grouped = attention(q, k, v, seqLen, heads, heads, headDim, causal);
  assertClose(grouped, multiHead(q, k, v, seqLen, heads, headDim), 1e-12, "kvHeads == heads");
});

Deno.test("reference attention: query head h reads kv head floor(h / group)", () => {
  const [seqLen, heads, kvHeads, headDim] = [4, 6, 2, 2];
  const rand = seeded(12);
  const q = Float64Array.from(randomArray(seqLen * heads * headDim, rand));
  const k = Float64Array.from(randomArray(seqLen * kvHeads * headDim, rand));
  const v = Float64Array.from(randomArray(seqLen * kvHeads * headDim, rand));
  // repeat_kv: kv head g serves query heads g·group … (g+1)·group − 1.
  const repeat = (x: Float64Array) => {
    const out = new Float64Array(seqLen * heads * headDim);
    for (let s = 0; s < seqLen; s++) {
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / (heads / kvHeads));
        for (let e = 0; e < headDim; e++) {
          out[(s * heads + h) * headDim + e] = x[(s * kvHeads + g) * headDim + e];
        }
      }
    }
    return out;
  };
  const grouped = attention(q, k, v, seqLen, heads, kvHeads, headDim, causal);
  const expected = multiHead(q, repeat(k), repeat(v), seqLen, heads, headDim);
  assertClose(grouped, expected, 1e-12, "grouped vs repeated kv");
});

// ----------------------------------------------------------------- decoder

function randomEmbeds(seqLen: number, seed: number): Float32Array {
  return randomArray(seqLen * LLAMA.hidden, seeded(seed));
}

Deno.test("reference decoder: logits are causal", () => {
  const w = weightsFor(decoderShapes(LLAMA), 21);
  const seqLen = 6;
  const embeds = randomEmbeds(seqLen, 22);
  const logits = refLlamaLogits(LLAMA, w, embeds, seqLen);
  assertTrue(logits.length === seqLen * LLAMA.vocab, `logits length ${logits.length}`);
  const changed = embeds.slice();
  const at = 4;
  for (let e = 0; e < LLAMA.hidden; e++) changed[at * LLAMA.hidden + e] += 0.5;
  const after = refLlamaLogits(LLAMA, w, changed, seqLen);
  const row = (x: Float32Array, s: number) => x.subarray(s * LLAMA.vocab, (s + 1) * LLAMA.vocab);
  for (let s = 0; s < at; s++) assertClose(row(after, s), row(logits, s), 0, `row ${s}`);
  for (let s = at; s < seqLen; s++) assertDiffers(row(after, s), row(logits, s), `row ${s}`);
});

Deno.test("reference decoder: GQA equals multi-head with each kv head repeated", () => {
  const w = weightsFor(decoderShapes(LLAMA), 23);
  const mha: DecoderSpec = { ...LLAMA, kvHeads: LLAMA.heads };
  const group = LLAMA.heads / LLAMA.kvHeads;
  const hd = LLAMA.headDim;
  const expanded: WeightMap = new Map(w);
  for (let l = 0; l < LLAMA.layers; l++) {
    for (const proj of ["k", "v"]) {
      const name = `layers.${l}.attn.${proj}.weight`;
      const narrow = get(w, name, [LLAMA.hidden, LLAMA.kvHeads * hd]);
      const wide = new Float32Array(LLAMA.hidden * LLAMA.heads * hd);
      for (let i = 0; i < LLAMA.hidden; i++) {
        for (let h = 0; h < LLAMA.heads; h++) {
          for (let e = 0; e < hd; e++) {
            const from = i * LLAMA.kvHeads * hd + Math.floor(h / group) * hd + e;
            wide[i * LLAMA.heads * hd + h * hd + e] = narrow[from];
          }
        }
      }
      expanded.set(name, { dims: [LLAMA.hidden, LLAMA.heads * hd], data: wide });
    }
  }
  const embeds = randomEmbeds(5, 24);
  assertClose(
    refLlamaLogits(LLAMA, w, embeds, 5),
    refLlamaLogits(mha, expanded, embeds, 5),
    1e-5,
    "grouped vs expanded",
  );
});

Deno.test("reference decoder: tied embeddings equal an lm_head holding embedᵀ", () => {
  const w = weightsFor(decoderShapes(LLAMA), 25);
  const { hidden: h, vocab } = LLAMA;
  const embed = get(w, "embed.weight", [vocab, h]);
  const transposed = new Float32Array(h * vocab);
  for (let t = 0; t < vocab; t++) {
    for (let e = 0; e < h; e++) transposed[e * vocab + t] = embed[t * h + e];
  }
  const untied: WeightMap = new Map(w);
  untied.set("lm_head.weight", { dims: [h, vocab], data: transposed });
  const tied: WeightMap = new Map(w);
  tied.delete("lm_head.weight");
  const embeds = refEmbed(w, [3, 1, 4, 1, 5], h);
  assertClose(
    refLlamaLogits({ ...LLAMA, tiedEmbeddings: true }, tied, embeds, 5),
    refLlamaLogits(LLAMA, untied, embeds, 5),
    1e-5,
    "tied vs untied",
  );
});

Deno.test("reference decoder: left padding leaves the real rows' logits unchanged", () => {
  const w = weightsFor(decoderShapes(LLAMA), 26);
  const real = 4;
  const pad = 2;
  const embeds = randomEmbeds(real, 27);
  const padded = new Float32Array((real + pad) * LLAMA.hidden);
  padded.set(randomEmbeds(pad, 28));
  padded.set(embeds, pad * LLAMA.hidden);
  const mask = [0, 0, 1, 1, 1, 1];
  // HF: cumsum(mask) − 1, padding positions filled with 1.
  const positions = [1, 1, 0, 1, 2, 3];
  const withPad = refLlamaLogitsWithMask(LLAMA, w, padded, real + pad, mask, positions);
  const plain = refLlamaLogits(LLAMA, w, embeds, real);
  assertClose(withPad.subarray(pad * LLAMA.vocab), plain, 1e-6, "real rows");
  // The mask must matter: the same sequence without it differs.
  const unmasked = refLlamaLogits(LLAMA, w, padded, real + pad);
  assertDiffers(unmasked.subarray(pad * LLAMA.vocab), plain, "unmasked padding");
});

Deno.test("reference decoder: embedding lookup and clear errors", () => {
  const w = weightsFor(decoderShapes(LLAMA), 29);
  const table = get(w, "embed.weight", [LLAMA.vocab, LLAMA.hidden]);
  const rows = refEmbed(w, [7, 2], LLAMA.hidden);
  assertClose(rows.subarray(0, LLAMA.hidden), table.subarray(7 * 16, 8 * 16), 0, "row of id 7");
  assertClose(rows.subarray(LLAMA.hidden), table.subarray(2 * 16, 3 * 16), 0, "row of id 2");
  assertThrows(() => refEmbed(w, [LLAMA.vocab], LLAMA.hidden), /outside/, "id out of range");
  assertThrows(
    () => get(w, "lm_head.weight", [LLAMA.vocab, LLAMA.hidden]),
    /has dims \[16, 11\]/,
    "shape",
  );
  assertThrows(() => get(new Map(), "norm.weight", [16]), /"norm.weight" is missing/, "missing");
});

// ----------------------------------------------------------------- encoder

function randomPixels(spec: EncoderSpec, tiles: number, seed: number): Float32Array {
  return randomArray(tiles * 3 * spec.imageSize ** 2, seeded(seed));
}

Deno.test("reference encoder: penultimate is the output of the first layers−1 blocks", () => {
  const w = weightsFor(encoderShapes(CLIP), 31);
  const pixels = randomPixels(CLIP, 2, 32);
  const penultimate = refVisionFeatures(CLIP, w, pixels, 2);
  const patches = gridSide(CLIP) ** 2;
  assertTrue(penultimate.length === 2 * patches * CLIP.hidden, "CLIP drops the class token");
  const shorter = { ...CLIP, layers: CLIP.layers - 1, featureLayer: "last" } as const;
  assertClose(penultimate, refVisionFeatures(shorter, w, pixels, 2), 0, "penultimate vs last");
  const last = refVisionFeatures({ ...CLIP, featureLayer: "last" }, w, pixels, 2);
  assertDiffers(penultimate, last, "penultimate vs all blocks");
});

Deno.test("reference encoder: trailing remainder pixels are ignored, others are not", () => {
  const w = weightsFor(encoderShapes(SIGLIP), 33);
  const pixels = randomPixels(SIGLIP, 1, 34);
  const features = refVisionFeatures(SIGLIP, w, pixels, 1);
  assertTrue(features.length === gridSide(SIGLIP) ** 2 * SIGLIP.hidden, "feature length");
  const size = SIGLIP.imageSize;
  const trailing = pixels.slice();
  trailing[(1 * size + size - 1) * size + 3] += 1; // channel 1, last row
  trailing[(2 * size + 4) * size + size - 2] += 1; // channel 2, next-to-last column
  assertClose(refVisionFeatures(SIGLIP, w, trailing, 1), features, 0, "remainder pixels");
  const inside = pixels.slice();
  inside[(0 * size + 7) * size + 7] += 1; // last pixel of the last full patch
  assertDiffers(refVisionFeatures(SIGLIP, w, inside, 1), features, "covered pixel");
  const noPostNorm = refVisionFeatures({ ...SIGLIP, postLayerNorm: false }, w, pixels, 1);
  assertDiffers(noPostNorm, features, "post_norm");
});

Deno.test("reference encoder: tiles are encoded independently", () => {
  const w = weightsFor(encoderShapes(SIGLIP), 35);
  const pixels = randomPixels(SIGLIP, 2, 36);
  const both = refVisionFeatures(SIGLIP, w, pixels, 2);
  const half = pixels.length / 2;
  const second = refVisionFeatures(SIGLIP, w, pixels.slice(half), 1);
  assertClose(both.subarray(both.length / 2), second, 0, "second tile alone");
});

// --------------------------------------------------------------- projectors

const D = 6;
const H = 8;

function projectorOutput(spec: ProjectorSpec, side: number, tiles: number, seed: number) {
  const w = weightsFor(projectorShapes(spec, D, H), seed);
  const features = randomArray(tiles * side * side * D, seeded(seed + 1));
  return refProjector(spec, w, features, tiles, side, D, H);
}

Deno.test("reference projector: LDP and LDPv2 give 4× fewer tokens", () => {
  for (const side of [4, 6, 8]) {
    for (const kind of ["ldp", "ldpv2"] as const) {
      const out = projectorOutput({ kind }, side, 2, 41);
      const tokens = out.length / H;
      assertTrue(tokens === 2 * (side * side) / 4, `${kind} side ${side}: ${tokens} tokens`);
      assertTrue(out.every(Number.isFinite), `${kind} side ${side}: non-finite output`);
    }
  }
  // Stride 2, padding 1, kernel 3 on an odd side rounds up: 5 → 3.
  assertTrue(projectorOutput({ kind: "ldp" }, 5, 1, 42).length === 9 * H, "ldp side 5");
});

Deno.test("reference projector: pixel-shuffle-linear and MLP token counts", () => {
  const shuffle = projectorOutput({ kind: "pixel-shuffle-linear", scaleFactor: 2 }, 4, 3, 43);
  assertTrue(shuffle.length === 3 * 4 * H, `pixel shuffle length ${shuffle.length}`);
  const mlp = projectorOutput({ kind: "mlp", layers: 2, activation: "gelu" }, 3, 2, 44);
  assertTrue(mlp.length === 2 * 9 * H, `mlp length ${mlp.length}`);
});

Deno.test("reference projector: tiles are projected independently", () => {
  const specs: ProjectorSpec[] = [
    { kind: "ldp" },
    { kind: "ldpv2" },
    { kind: "mlp", layers: 3, activation: "quick-gelu" },
    { kind: "pixel-shuffle-linear", scaleFactor: 2 },
  ];
  for (const spec of specs) {
    const w = weightsFor(projectorShapes(spec, D, H), 45);
    const side = 4;
    const features = randomArray(2 * side * side * D, seeded(46));
    const both = refProjector(spec, w, features, 2, side, D, H);
    const second = refProjector(spec, w, features.slice(features.length / 2), 1, side, D, H);
    assertClose(both.subarray(both.length / 2), second, 0, `${spec.kind} second tile`);
  }
});

Deno.test("reference projector: squeeze width follows _make_divisible(H/4, 8)", () => {
  const expected: Array<[number, number]> = [
    [8, 8],
    [64, 16],
    [2048, 512],
    [2560, 640],
    [100, 24],
    [47, 16],
  ];
  for (const [h, s] of expected) assertTrue(squeezeWidth(h) === s, `H ${h}: ${squeezeWidth(h)}`);
});

const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** The MobileVLM MLP (D = 1) at one pixel value, written out per channel. */
function mlpByHand(w: WeightMap, h: number, feature: number): number[] {
  const [w0, b0] = [get(w, "mlp.0.weight", [1, h]), get(w, "mlp.0.bias", [h])];
  const [w1, b1] = [get(w, "mlp.1.weight", [h, h]), get(w, "mlp.1.bias", [h])];
  const hidden = Array.from({ length: h }, (_, j) => gelu(feature * w0[j] + b0[j]));
  return Array.from(
    { length: h },
    (_, c) => b1[c] + hidden.reduce((a, v, j) => a + v * w1[j * h + c], 0),
  );
}

Deno.test("reference projector: LDPv2 on a 4×4 grid equals pool + PEG written out by hand", () => {
  const h = 2;
  const spec: ProjectorSpec = { kind: "ldpv2" };
  const w = weightsFor(projectorShapes(spec, 1, h), 47);
  const features = randomArray(16, seeded(48));
  const out = refProjector(spec, w, features, 1, 4, 1, h);
  // grid[y][x][c] after the MLP, then the 2×2 means.
  const grid = [0, 1, 2, 3].map((y) =>
    [0, 1, 2, 3].map((x) => mlpByHand(w, h, features[y * 4 + x]))
  );
  const pooled = [0, 1].map((y) =>
    [0, 1].map((x) =>
      [0, 1].map((c) =>
        (grid[2 * y][2 * x][c] + grid[2 * y][2 * x + 1][c] + grid[2 * y + 1][2 * x][c] +
          grid[2 * y + 1][2 * x + 1][c]) / 4
      )
    )
  );
  const [kernel, bias] = [get(w, "peg.weight", [h, 1, 3, 3]), get(w, "peg.bias", [h])];
  const expected: number[] = [];
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 2; x++) {
      for (let c = 0; c < h; c++) {
        let conv = bias[c];
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const neighbour = pooled[y + dy]?.[x + dx]?.[c] ?? 0;
            conv += kernel[c * 9 + (dy + 1) * 3 + (dx + 1)] * neighbour;
          }
        }
        expected.push(pooled[y][x][c] + conv);
      }
    }
  }
  assertClose(out, expected, 1e-6, "ldpv2 4×4");
});

Deno.test("reference projector: LDP on a 1×1 grid equals its blocks written out by hand", () => {
  const h = 2;
  const spec: ProjectorSpec = { kind: "ldp" };
  const w = weightsFor(projectorShapes(spec, 1, h), 49);
  const feature = 0.8;
  const out = refProjector(spec, w, Float32Array.of(feature), 1, 1, 1, h);
  const norm = (v: number[], prefix: string) => {
    const [weight, bias] = [get(w, `${prefix}.weight`, [h]), get(w, `${prefix}.bias`, [h])];
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
    return v.map((x, c) => ((x - mean) / Math.sqrt(variance + 1e-5)) * weight[c] + bias[c]);
  };
  const squeeze = 8; // _make_divisible(2/4, 8)
  // On a 1×1 image both 3×3 depthwise convs reduce to their centre tap (index 4).
  const block = (x: number[], b: number, residual: boolean) => {
    const dw = get(w, `blocks.${b}.dw.weight`, [h, 1, 3, 3]);
    const act = norm(x.map((v, c) => dw[c * 9 + 4] * v), `blocks.${b}.norm1`)
      .map((v) => (v * Math.min(6, Math.max(0, v + 3))) / 6);
    const fc1 = get(w, `blocks.${b}.se.fc1.weight`, [h, squeeze]);
    const fc1b = get(w, `blocks.${b}.se.fc1.bias`, [squeeze]);
    const fc2 = get(w, `blocks.${b}.se.fc2.weight`, [squeeze, h]);
    const fc2b = get(w, `blocks.${b}.se.fc2.bias`, [h]);
    const z = Array.from(
      { length: squeeze },
      (_, k) => Math.max(0, fc1b[k] + act.reduce((a, v, c) => a + v * fc1[c * squeeze + k], 0)),
    );
    const gate = act.map((_, c) => {
      const s = fc2b[c] + z.reduce((a, v, k) => a + v * fc2[k * h + c], 0);
      return Math.min(6, Math.max(0, s + 3)) / 6;
    });
    const excited = act.map((v, c) => v * gate[c]);
    const pw = get(w, `blocks.${b}.pw.weight`, [h, h]);
    const mixed = [0, 1].map((o) => excited.reduce((a, v, c) => a + v * pw[c * h + o], 0));
    const y = norm(mixed, `blocks.${b}.norm2`);
    return residual ? y.map((v, c) => v + x[c]) : y;
  };
  const expected = block(block(mlpByHand(w, h, feature), 0, true), 1, false);
  assertClose(out, expected, 1e-6, "ldp 1×1");
});

// ------------------------------------------- single-position forward passes

/** x·W (+ b) for one row, W stored [inDim, outDim]. */
function rowTimes(x: number[], weight: Float32Array, bias?: Float32Array): number[] {
  const outDim = weight.length / x.length;
  return Array.from(
    { length: outDim },
    (_, o) =>
      x.reduce((a, v, i) => a + v * weight[i * outDim + o], bias === undefined ? 0 : bias[o]),
  );
}

function layerNormRow(
  x: number[],
  weight: Float32Array,
  bias: Float32Array,
  eps: number,
): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * weight[i] + bias[i]);
}

function rmsNormRow(x: number[], weight: Float32Array, eps: number): number[] {
  const meanSquare = x.reduce((a, b) => a + b * b, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(meanSquare + eps)) * weight[i]);
}

/** The single patch of a tile whose side is `p` (+ remainder), conv weight [D, 3, p, p]. */
function convByHand(spec: EncoderSpec, w: WeightMap, tile: Float32Array): number[] {
  const { hidden: d, patchSize: p, imageSize: size } = spec;
  const weight = get(w, "patch.weight", [d, 3, p, p]);
  return Array.from({ length: d }, (_, o) => {
    let sum = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < p; y++) {
        for (let x = 0; x < p; x++) {
          sum += weight[o * 3 * p * p + c * p * p + y * p + x] *
            tile[c * size * size + y * size + x];
        }
      }
    }
    return sum;
  });
}

Deno.test("reference encoder: a single-patch SigLIP tile equals its block written out by hand", () => {
  const spec: EncoderSpec = {
    ...SIGLIP,
    imageSize: 3,
    patchSize: 2,
    hidden: 4,
    layers: 1,
    mlp: 6,
    activation: "gelu",
  };
  const w = weightsFor(encoderShapes(spec), 51);
  const tile = randomPixels(spec, 1, 52);
  const d = spec.hidden;
  const eps = spec.layerNormEps;
  const vec = (name: string, n = d) => get(w, name, [n]);
  const position = get(w, "position", [1, d]);
  const embedded = convByHand(spec, w, tile).map((v, o) => v + vec("patch.bias")[o] + position[o]);
  // One token: every head's softmax is [1], so the context is v itself.
  const normed = layerNormRow(
    embedded,
    vec("layers.0.norm1.weight"),
    vec("layers.0.norm1.bias"),
    eps,
  );
  const v = rowTimes(normed, get(w, "layers.0.attn.v.weight", [d, d]), vec("layers.0.attn.v.bias"));
  const attended = rowTimes(
    v,
    get(w, "layers.0.attn.out.weight", [d, d]),
    vec("layers.0.attn.out.bias"),
  );
  const x1 = embedded.map((e, i) => e + attended[i]);
  const normed2 = layerNormRow(x1, vec("layers.0.norm2.weight"), vec("layers.0.norm2.bias"), eps);
  const up = rowTimes(
    normed2,
    get(w, "layers.0.mlp.up.weight", [d, spec.mlp]),
    vec("layers.0.mlp.up.bias", spec.mlp),
  )
    .map(gelu);
  const down = rowTimes(
    up,
    get(w, "layers.0.mlp.down.weight", [spec.mlp, d]),
    vec("layers.0.mlp.down.bias"),
  );
  const x2 = x1.map((e, i) => e + down[i]);
  const expected = layerNormRow(x2, vec("post_norm.weight"), vec("post_norm.bias"), eps);
  assertClose(refVisionFeatures(spec, w, tile, 1), expected, 1e-6, "single-patch SigLIP");
});

Deno.test("reference encoder: CLIP with no block run returns pre_norm(patch + position 1)", () => {
  // penultimate of a one-layer encoder runs no block at all.
  const spec: EncoderSpec = { ...CLIP, imageSize: 2, patchSize: 2, layers: 1, hidden: 4 };
  const w = weightsFor(encoderShapes(spec), 53);
  const tile = randomPixels(spec, 1, 54);
  const position = get(w, "position", [2, 4]);
  const patch = convByHand(spec, w, tile).map((v, o) => v + position[4 + o]);
  const expected = layerNormRow(
    patch,
    get(w, "pre_norm.weight", [4]),
    get(w, "pre_norm.bias", [4]),
    spec.layerNormEps,
  );
  assertClose(refVisionFeatures(spec, w, tile, 1), expected, 1e-6, "CLIP patch row");
});

Deno.test("reference decoder: a one-token sequence equals its layer written out by hand", () => {
  const spec: DecoderSpec = {
    ...LLAMA,
    hidden: 4,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 2,
    intermediate: 6,
    vocab: 5,
  };
  const w = weightsFor(decoderShapes(spec), 55);
  const { hidden: h, intermediate: i, vocab, rmsEps: eps } = spec;
  const x = Array.from(randomArray(h, seeded(56)));
  const matrix = (name: string, rows: number, cols: number) => get(w, name, [rows, cols]);
  const normed = rmsNormRow(x, get(w, "layers.0.input_norm.weight", [h]), eps);
  // One token: softmax is [1], so both query heads read the single kv head's v (RoPE never touches v).
  const v = rowTimes(normed, matrix("layers.0.attn.v.weight", h, 2));
  const attended = rowTimes([...v, ...v], matrix("layers.0.attn.o.weight", 4, h));
  const x1 = x.map((e, n) => e + attended[n]);
  const normed2 = rmsNormRow(x1, get(w, "layers.0.post_attn_norm.weight", [h]), eps);
  const gate = rowTimes(normed2, matrix("layers.0.mlp.gate.weight", h, i));
  const up = rowTimes(normed2, matrix("layers.0.mlp.up.weight", h, i));
  const gated = gate.map((g, n) => g * (1 / (1 + Math.exp(-g))) * up[n]);
  const down = rowTimes(gated, matrix("layers.0.mlp.down.weight", i, h));
  const x2 = x1.map((e, n) => e + down[n]);
  const final = rmsNormRow(x2, get(w, "norm.weight", [h]), eps);
  const expected = rowTimes(final, matrix("lm_head.weight", h, vocab));
  assertClose(refLlamaLogits(spec, w, Float32Array.from(x), 1), expected, 1e-6, "one-token logits");
});

Deno.test("reference projector: MLP and pixel-shuffle-linear on one token equal the formulas", () => {
  const [d, h] = [2, 3];
  const mlpSpec: ProjectorSpec = { kind: "mlp", layers: 2, activation: "gelu-tanh" };
  const mlpWeights = weightsFor(projectorShapes(mlpSpec, d, h), 57);
  const token = randomArray(d, seeded(58));
  const hidden = rowTimes(
    Array.from(token),
    get(mlpWeights, "layers.0.weight", [d, h]),
    get(mlpWeights, "layers.0.bias", [h]),
  ).map(activation("gelu-tanh"));
  const expectedMlp = rowTimes(
    hidden,
    get(mlpWeights, "layers.1.weight", [h, h]),
    get(mlpWeights, "layers.1.bias", [h]),
  );
  const mlp = refProjector(mlpSpec, mlpWeights, token, 1, 1, d, h);
  assertClose(mlp, expectedMlp, 1e-6, "two-layer MLP (no activation after the last)");

  // A 2×2 grid shuffled by 2 is one token: pixels (0,0), (0,1), (1,0), (1,1), each D wide.
  const shuffleSpec: ProjectorSpec = { kind: "pixel-shuffle-linear", scaleFactor: 2 };
  const shuffleWeights = weightsFor(projectorShapes(shuffleSpec, d, h), 59);
  const grid = randomArray(4 * d, seeded(60));
  const expectedShuffle = rowTimes(
    Array.from(grid),
    get(shuffleWeights, "proj.weight", [4 * d, h]),
  );
  const shuffled = refProjector(shuffleSpec, shuffleWeights, grid, 1, 2, d, h);
  assertClose(shuffled, expectedShuffle, 1e-6, "pixel shuffle + linear");
});

Deno.test("reference RoPE: llama3 scaling keeps fast pairs, slows slow ones by the factor, blends between", () => {
  const spec: DecoderSpec = {
    ...LLAMA,
    headDim: 64,
    ropeTheta: 500000,
    ropeScaling: {
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalContextLength: 8192,
    },
  };
  const scaled = ropeFrequencies(spec);
  const plain = ropeFrequencies({ ...spec, ropeScaling: null });
  let kept = 0;
  let slowed = 0;
  let blended = 0;
  for (let j = 0; j < plain.length; j++) {
    const period = (2 * Math.PI) / plain[j];
    if (period < 8192 / 4) {
      if (scaled[j] !== plain[j]) throw new Error(`pair ${j} should keep its frequency`);
      kept++;
    } else if (period > 8192) {
      if (Math.abs(scaled[j] - plain[j] / 8) > 1e-15) {
        throw new Error(`pair ${j} should be slowed 8×`);
      }
      slowed++;
    } else {
      if (!(scaled[j] < plain[j] && scaled[j] > plain[j] / 8)) {
        throw new Error(`pair ${j} should blend`);
      }
      blended++;
    }
  }
  if (kept === 0 || slowed === 0 || blended === 0) {
    throw new Error(`${kept}/${blended}/${slowed}: all three bands must occur`);
  }
});
