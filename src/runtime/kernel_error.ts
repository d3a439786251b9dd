/**
 * When a backend's ONNX Runtime has no kernel for an operator of a model file
 * (a contrib operator missing from a build, or a type combination it does not
 * implement), the session fails with a message naming the operator. This turns
 * that into an error that names the dtype and the backend, and what to use instead.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Dtype } from "../spec/types.ts";

/**
 * The dtypes whose builder-made files the tests run on both backends
 * (onnxruntime-node and onnxruntime-web 1.30); see the README's compatibility table.
 */
export const PORTABLE_DTYPES: readonly Dtype[] = ["fp32", "int8", "q4"];

/** The operator an ONNX Runtime session error says has no kernel, or `undefined`. */
export function missingKernel(message: string): string | undefined {
  const notImplemented = /Could not find an implementation for (\w+)\(\d+\) node/.exec(message);
  if (notImplemented) return notImplemented[1];
  const unregistered = /No Op registered for (\w+) with domain_version/.exec(message) ??
    /([\w.]+:\w+)\(-?\d+\) is not a registered function\/op/.exec(message);
  return unregistered?.[1];
}

/**
 * A `model_invalid` error for `path` (a module file in `dtype`) whose operator
 * `op` the `backend` cannot run.
 */
export function kernelMissingError(
  path: string,
  dtype: Dtype,
  backend: "native" | "wasm" | "host",
  op: string,
  cause: unknown,
): VlmError {
  const other = backend === "wasm" ? "native" : "wasm";
  const portable = PORTABLE_DTYPES.filter((d) => d !== dtype);
  return new VlmError(
    "model_invalid",
    `the ${backend} backend cannot run ${path} (dtype ${dtype}): its ONNX Runtime has no kernel for ${op}`,
    {
      fix: `use a dtype that runs on every backend (${
        portable.join(", ")
      }: --dtype / the dtype option), or try the ${other} backend`,
      cause,
    },
  );
}
