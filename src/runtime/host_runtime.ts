/**
 * A host-supplied ONNX Runtime: platforms that ship their own native runtime
 * (Supabase Edge Functions expose one as `globalThis[Symbol.for("onnxruntime")]`)
 * or load native add-ons (Deno Deploy can run onnxruntime-node) hand vlmkit
 * its onnxruntime-common-compatible API instead of vlmkit importing one.
 *
 * @module
 */
import type { OrtApi } from "./ort_api.ts";

/**
 * The `backend` option for a host runtime: `loadModel(src, { backend: { ort } })`.
 *
 * Sessions use the `cpu` execution provider and the models' bytes (external
 * data as `externalData`), which every onnxruntime-common implementation takes;
 * `sessionOptions` and `readsFiles` adapt that to what the host supports.
 */
export interface HostBackend {
  /** The runtime's API: `InferenceSession.create` and `Tensor` are what vlmkit calls. */
  ort: OrtApi;
  /** A label for errors, e.g. `"supabase"` (default `"host"`). */
  name?: string;
  /**
   * Session options merged over vlmkit's (`executionProviders: ["cpu"]`,
   * `graphOptimizationLevel: "all"`, and the thread count when `threads` is given).
   */
  sessionOptions?: Record<string, unknown>;
  /**
   * The runtime opens local model files by path itself, external data beside
   * them, as onnxruntime-node does: no JS copy of the weights. Default false,
   * since a host runtime may not see the function's file system.
   */
  readsFiles?: boolean;
}

// Supabase Edge Functions expose their ONNX Runtime under this global symbol.
const HOST_ORT_SYMBOL = Symbol.for("onnxruntime");

/**
 * The ONNX Runtime the host exposes as `globalThis[Symbol.for("onnxruntime")]`
 * (Supabase Edge Functions), or undefined where there is none:
 *
 * ```ts
 * const ort = hostOnnxRuntime();
 * const model = await loadModel(src, { backend: ort ? { ort, name: "supabase" } : "wasm" });
 * ```
 */
export function hostOnnxRuntime(): OrtApi | undefined {
  const value = (globalThis as Record<symbol, unknown>)[HOST_ORT_SYMBOL];
  return typeof value === "object" && value !== null ? value as OrtApi : undefined;
}

const HOST_KEYS = ["ort", "name", "sessionOptions", "readsFiles"];

const kind = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;

/**
 * What is wrong with a host backend object, one entry per problem, each naming
 * the member (`backend.ort.Tensor`, ...); empty when it can be used.
 */
export function hostBackendProblems(value: object): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!HOST_KEYS.includes(key)) {
      problems.push(`backend has the unknown member ${JSON.stringify(key)}`);
    }
  }
  const { ort, name, sessionOptions, readsFiles } = value as Partial<Record<string, unknown>>;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    (typeof v === "object" || typeof v === "function") && v !== null;
  if (!isObject(ort)) {
    problems.push(`backend.ort must be an ONNX Runtime API object, got ${kind(ort)}`);
  } else {
    const session = ort.InferenceSession;
    if (!isObject(session) || typeof session.create !== "function") {
      problems.push(
        `backend.ort.InferenceSession.create must be a function, got ${
          isObject(session) ? kind(session.create) : `InferenceSession ${kind(session)}`
        }`,
      );
    }
    if (typeof ort.Tensor !== "function") {
      problems.push(`backend.ort.Tensor must be a constructor, got ${kind(ort.Tensor)}`);
    }
  }
  if (name !== undefined && (typeof name !== "string" || name === "")) {
    problems.push(`backend.name must be a non-empty string, got ${kind(name)}`);
  }
  if (sessionOptions !== undefined && (kind(sessionOptions) !== "object")) {
    problems.push(`backend.sessionOptions must be an object, got ${kind(sessionOptions)}`);
  }
  if (readsFiles !== undefined && typeof readsFiles !== "boolean") {
    problems.push(`backend.readsFiles must be true or false, got ${kind(readsFiles)}`);
  }
  return problems;
}
