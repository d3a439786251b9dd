/**
 * Checks an ONNX session's inputs and outputs (names, element types, dims from
 * session metadata) against what the Plan expects, so a mismatched model
 * folder fails at load time with the file, the tensor and both shapes named,
 * instead of producing garbage or an opaque runtime error later.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { ExpectedTensor } from "../families/types.ts";
import type { OrtValueMetadata } from "./backend.ts";

export type { ExpectedTensor };

/** The metadata of one tensor, as ONNX Runtime reports it. */
export interface TensorInfo {
  /** Tensor name. */
  name: string;
  /** Element type, e.g. `float32`. */
  type: string;
  /** Dims: numbers, or strings for symbolic axes. */
  dims: readonly (number | string)[];
}

/** Lists a session's tensors from its metadata. */
export function describeTensors(
  metadata: readonly OrtValueMetadata[],
): TensorInfo[] {
  return metadata.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, dims: [...m.shape] }
      : { name: m.name, type: "non-tensor", dims: [] }
  );
}

function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

/** Same rank, and every fixed expected dim equals the actual one when that one is fixed too. */
function dimsMatch(
  have: readonly (number | string)[],
  want: readonly (number | null)[],
): boolean {
  return have.length === want.length &&
    want.every((d, i) => d === null || typeof have[i] !== "number" || have[i] === d);
}

/** Problems of one session against its expectations; empty when it conforms. */
export function contractProblems(
  file: string,
  kind: "input" | "output",
  actual: readonly TensorInfo[],
  expected: readonly ExpectedTensor[],
): string[] {
  const problems: string[] = [];
  const byName = new Map(actual.map((t) => [t.name, t]));
  for (const want of expected) {
    const have = byName.get(want.name);
    if (!have) {
      problems.push(
        `${file}: ${kind} "${want.name}" is missing (the file has ${
          actual.map((t) => t.name).join(", ") || "none"
        })`,
      );
      continue;
    }
    if (!want.types.includes(have.type)) {
      problems.push(
        `${file}: ${kind} "${want.name}" is ${have.type}, expected ${want.types.join(" or ")}`,
      );
    }
    const shapes = [want.dims, ...(want.alternatives ?? [])];
    if (!shapes.some((dims) => dimsMatch(have.dims, dims))) {
      problems.push(
        `${file}: ${kind} "${want.name}" has shape ${formatDims(have.dims)}, the plan expects ${
          shapes.map(formatDims).join(" or ")
        }`,
      );
    }
  }
  return problems;
}

/** Throws `model_mismatch` listing every problem found across sessions. */
export function assertContracts(problems: readonly string[], fix: string): void {
  if (problems.length === 0) return;
  throw new VlmError(
    "model_mismatch",
    `the model files do not match the model's configuration:\n  - ${problems.join("\n  - ")}`,
    { fix },
  );
}
