// Shared setup of the builder tests: tiny variant specs with the structure of
// each preset, module graphs run through real ONNX Runtime sessions, and
// numeric comparison helpers with stated tolerances.
import { serializeModel } from "../../src/build/onnx_file.ts";
import type { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { type Backend, loadBackend, type OrtTensor } from "../../src/runtime/backend.ts";
import type { EncoderSpec, ImageSpec, ProjectorSpec, VariantSpec } from "../../src/spec/types.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { getPreset } from "../../variants/mod.ts";
import fc from "fast-check";

let backend: Promise<Backend> | undefined;

/** The native backend (onnxruntime-node), loaded once per test process. */
export function nativeBackend(): Promise<Backend> {
  backend ??= loadBackend({ backend: "native" });
  return backend;
}

/**
 * A preset at the test scale with a small encoder geometry, so the reference
 * (plain loops in float64) runs in milliseconds.
 */
export function tinySpec(
  preset: string,
  encoder: Partial<EncoderSpec>,
  image: Partial<ImageSpec>,
  projector?: ProjectorSpec,
): VariantSpec {
  const base = scaledSpec(getPreset(preset), "test");
  return parseSpec({
    ...base,
    encoder: { ...base.encoder, hidden: 8, heads: 2, mlp: 12, ...encoder },
    image: { ...base.image, ...image },
    projector: projector ?? base.projector,
  });
}

/** Feeds for a session: name → [type, data, dims]. */
export type Feeds = Record<string, OrtTensor>;

/** Runs a built graph once in a fresh native session. */
export async function runGraph(
  graph: GraphBuilder,
  feeds: Feeds,
): Promise<Record<string, OrtTensor>> {
  const b = await nativeBackend();
  const session = await b.createSession({
    name: graph.name,
    bytes: serializeModel(graph.toModel()).model,
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** A float32 tensor. */
export async function floatTensor(data: Float32Array, dims: number[]): Promise<OrtTensor> {
  return new (await nativeBackend()).ort.Tensor("float32", data, dims);
}

/** An int64 tensor from numbers. */
export async function intTensor(values: number[], dims: number[]): Promise<OrtTensor> {
  return new (await nativeBackend()).ort.Tensor("int64", BigInt64Array.from(values, BigInt), dims);
}

/** A bool tensor. */
export async function boolTensor(values: Uint8Array, dims: number[]): Promise<OrtTensor> {
  return new (await nativeBackend()).ort.Tensor("bool", values, dims);
}

/** Deterministic values in [−1, 1) (a small LCG; asymmetric enough to expose index-order bugs). */
export function pseudoRandom(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (float32
 * graph against a float64 reference), naming the first offending index.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  atol = 1e-4,
  rtol = 1e-3,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= atol + rtol * Math.abs(expected[i]))) {
      throw new Error(`${what}: index ${i} is ${actual[i]}, expected ${expected[i]} (|Δ| ${diff})`);
    }
    worst = Math.max(worst, diff);
  }
}

/** Whether every element is within the tolerance (for tests that must NOT match). */
export function isClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-4,
  rtol = 1e-3,
): boolean {
  try {
    assertClose(actual, expected, "", atol, rtol);
    return true;
  } catch {
    return false;
  }
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Float32 view of a float output tensor. */
export function floats(tensor: OrtTensor): Float32Array {
  return tensor.data as Float32Array;
}

/**
 * A float matrix `[rows, cols]` (rows up to `maxRows`, cols up to `maxCols`)
 * of values spread over ±scale/2 from a linear congruential stream, for the
 * quantizers' property tests.
 */
export function weightMatrix(
  maxRows: number,
  maxCols: number,
): fc.Arbitrary<{ dims: number[]; data: Float32Array }> {
  return fc.record({
    rows: fc.integer({ min: 1, max: maxRows }),
    cols: fc.integer({ min: 1, max: maxCols }),
    seed: fc.integer(),
    scale: fc.double({ min: 1e-3, max: 100, noNaN: true }),
  }).map(({ rows, cols, seed, scale }) => {
    let s = seed >>> 0;
    const data = Float32Array.from({ length: rows * cols }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s / 2 ** 32 - 0.5) * scale;
    });
    return { dims: [rows, cols], data };
  });
}
