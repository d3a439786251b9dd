/**
 * ONNX Runtime backends behind one interface: `wasm` (onnxruntime-web, the
 * default; edge and browser) and `native` (onnxruntime-node; servers, needs
 * `--allow-ffi`). Everything above this file is backend-agnostic.
 *
 * @module
 */
import type { InferenceSession, Tensor, TypedTensor } from "onnxruntime-common";
import { VlmError } from "../errors/vlm_error.ts";

/** Backend names. */
export type BackendName = "wasm" | "native";

/** Options for {@linkcode loadBackend}. */
export interface BackendOptions {
  /** Which runtime (default `wasm`). */
  backend?: BackendName;
  /** CPU threads for ONNX Runtime (default 1 on wasm, all cores on native). */
  threads?: number;
}

/** The part of the onnxruntime API vlmkit uses; both packages provide it. */
export interface OrtApi {
  /** Session factory. */
  InferenceSession: {
    create(model: Uint8Array | string, options?: InferenceSession.SessionOptions): Promise<
      InferenceSession
    >;
  };
  /** Tensor constructor. */
  Tensor: {
    new (type: "float32", data: Float32Array, dims: readonly number[]): TypedTensor<"float32">;
    new (type: "float16", data: Uint16Array, dims: readonly number[]): TypedTensor<"float16">;
    new (type: "int64", data: BigInt64Array, dims: readonly number[]): TypedTensor<"int64">;
    new (type: "bool", data: Uint8Array, dims: readonly number[]): TypedTensor<"bool">;
    new (type: Tensor.Type, data: Tensor.DataType, dims: readonly number[]): Tensor;
  };
}

/** One ONNX file to open, by bytes (any backend) or by path (native). */
export interface ModelFile {
  /** Name shown in errors, e.g. `onnx/decoder_model_merged.onnx`. */
  name: string;
  /** The model bytes. */
  bytes: Uint8Array;
  /** External weight files referenced by the model, by their relative path. */
  externalData?: { path: string; data: Uint8Array }[];
}

/** A loaded runtime. */
export interface Backend {
  /** Which runtime this is. */
  readonly name: BackendName;
  /** Threads the sessions use. */
  readonly threads: number;
  /** The onnxruntime module. */
  readonly ort: OrtApi;
  /** Opens a session; errors name the file. */
  createSession(file: ModelFile): Promise<InferenceSession>;
}

interface OrtEnvWasm {
  env: { wasm: { wasmBinary?: Uint8Array | ArrayBuffer; numThreads?: number; proxy?: boolean } };
}

async function loadOrtWeb(threads: number): Promise<OrtApi> {
  const ort = await import("onnxruntime-web/wasm");
  const env = (ort as unknown as OrtEnvWasm).env.wasm;
  if (!env.wasmBinary) {
    try {
      env.wasmBinary = (await import("./wasm_binary.ts")).ORT_WASM_BINARY;
    } catch {
      // Without raw imports ONNX Runtime locates the binary itself (read permission needed).
    }
  }
  env.numThreads = threads;
  return ort as unknown as OrtApi;
}

async function loadOrtNode(): Promise<OrtApi> {
  try {
    return (await import("onnxruntime-node")) as unknown as OrtApi;
  } catch (error) {
    throw new VlmError(
      "usage",
      `the native backend (onnxruntime-node) could not be loaded: ${(error as Error).message}`,
      {
        fix: "run with --allow-ffi --allow-read --allow-env, or use --backend wasm",
        cause: error,
      },
    );
  }
}

const loaded = new Map<string, Promise<OrtApi>>();

/**
 * Loads (once per process) and returns a backend. The wasm thread count is
 * global to onnxruntime-web, so the first wasm backend fixes it.
 */
export async function loadBackend(options: BackendOptions = {}): Promise<Backend> {
  const name = options.backend ?? "wasm";
  const cores = (globalThis.navigator?.hardwareConcurrency ?? 1) || 1;
  const threads = options.threads ?? (name === "wasm" ? 1 : cores);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new VlmError("usage", `threads must be a positive integer, got ${threads}`, {
      fix: "pass threads: 1 or more",
    });
  }
  const key = name;
  if (!loaded.has(key)) loaded.set(key, name === "wasm" ? loadOrtWeb(threads) : loadOrtNode());
  const ort = await loaded.get(key)!;
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: [name === "wasm" ? "wasm" : "cpu"],
    graphOptimizationLevel: "all",
    ...(name === "native" ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
  return {
    name,
    threads,
    ort,
    async createSession(file: ModelFile): Promise<InferenceSession> {
      try {
        return await ort.InferenceSession.create(file.bytes, {
          ...sessionOptions,
          ...(file.externalData?.length ? { externalData: file.externalData } : {}),
        });
      } catch (error) {
        throw new VlmError(
          "model_invalid",
          `ONNX Runtime (${name}) could not load ${file.name}: ${(error as Error).message}`,
          {
            fix: "check that the file is a complete ONNX model for this dtype, " +
              "with its external data file next to it",
            cause: error,
          },
        );
      }
    },
  };
}
