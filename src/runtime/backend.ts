/**
 * ONNX Runtime backends behind one interface: `wasm` (onnxruntime-web, the
 * default; edge and browser) and `native` (onnxruntime-node; servers, needs
 * `--allow-ffi`). Everything above this file is backend-agnostic.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { withFloat16Bits } from "./float16_tensors.ts";
import { type BackendName, checkBackendOptions } from "./load_options.ts";

export type { BackendName } from "./load_options.ts";

/** Options for {@linkcode loadBackend}. */
export interface BackendOptions {
  /** Which runtime (default `wasm`). */
  backend?: BackendName;
  /** CPU threads for ONNX Runtime (default 1 on wasm, all cores on native). */
  threads?: number;
}

/** Element storage of the tensors vlmkit exchanges with ONNX Runtime. */
export type OrtTensorData = Float32Array | Uint16Array | BigInt64Array | Uint8Array | Int32Array;

/** A tensor as both onnxruntime packages expose it. */
export interface OrtTensor {
  /** Element type, e.g. `float32`, `float16`, `int64`, `bool`. */
  readonly type: string;
  /** Dimensions. */
  readonly dims: readonly number[];
  /** Elements (float16 as raw `Uint16Array` bits). */
  readonly data: unknown;
}

/** Name, element type and dims of one session input or output. */
export type OrtValueMetadata =
  | {
    /** Tensor name. */
    readonly name: string;
    /** A tensor value. */
    readonly isTensor: true;
    /** Element type. */
    readonly type: string;
    /** Dims: numbers, or names of symbolic axes. */
    readonly shape: readonly (number | string)[];
  }
  | {
    /** Value name. */
    readonly name: string;
    /** A non-tensor value (sequence, map). */
    readonly isTensor: false;
  };

/** An open inference session. */
export interface OrtSession {
  /** Inputs in declaration order. */
  readonly inputMetadata: readonly OrtValueMetadata[];
  /** Outputs in declaration order. */
  readonly outputMetadata: readonly OrtValueMetadata[];
  /** Runs the graph. */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  /** Frees the session's native or wasm memory. */
  release(): Promise<void>;
}

/** The part of the onnxruntime API vlmkit uses; both packages provide it. */
export interface OrtApi {
  /** Session factory. */
  InferenceSession: {
    /** Opens a model from its bytes. */
    create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  /** Tensor constructor. */
  Tensor: new (type: string, data: OrtTensorData, dims: readonly number[]) => OrtTensor;
}

/** One ONNX file to open, from its bytes. */
export interface ModelFile {
  /** Name shown in errors, e.g. `onnx/decoder_model_merged.onnx`. */
  name: string;
  /** The model bytes (or `path`). */
  bytes?: Uint8Array;
  /**
   * A local file the native runtime reads itself, external data beside it:
   * faster to load and no JS copy of the weights (`bytes` otherwise).
   */
  path?: string;
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
  createSession(file: ModelFile): Promise<OrtSession>;
}

interface OrtEnvWasm {
  env: { wasm: { wasmBinary?: Uint8Array | ArrayBuffer; numThreads?: number; proxy?: boolean } };
}

async function loadOrtWeb(threads: number): Promise<OrtApi> {
  const ort = await import("npm:onnxruntime-web@1.30.0/wasm");
  const env = (ort as unknown as OrtEnvWasm).env.wasm;
  // Bundles embed the binary; otherwise ONNX Runtime reads it from its npm package.
  env.wasmBinary ??= (await import("./wasm_binary.ts")).ORT_WASM_BINARY;
  env.numThreads = threads;
  return ort as unknown as OrtApi;
}

async function loadOrtNode(): Promise<OrtApi> {
  try {
    return (await import("npm:onnxruntime-node@1.30.0")) as unknown as OrtApi;
  } catch (error) {
    throw new VlmError(
      "usage",
      `the native backend (onnxruntime-node) could not be loaded: ${(error as Error).message}`,
      {
        fix: "on Deno run with --allow-ffi --allow-read --allow-env; on Node install it " +
          "(ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0); or use the wasm backend",
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
  checkBackendOptions(options);
  const name = options.backend ?? "wasm";
  const cores = (globalThis.navigator?.hardwareConcurrency ?? 1) || 1;
  const threads = options.threads ?? (name === "wasm" ? 1 : cores);
  // onnxruntime-web starts its worker threads from blob: URLs, which Deno's module loader refuses.
  if (name === "wasm" && threads > 1 && "Deno" in globalThis) {
    throw new VlmError(
      "usage",
      `the wasm backend cannot run ${threads} threads under Deno: onnxruntime-web loads its ` +
        "worker threads from blob: URLs, which Deno does not import",
      { fix: "use threads: 1 with the wasm backend, or the native backend for more threads" },
    );
  }
  if (!loaded.has(name)) loaded.set(name, name === "wasm" ? loadOrtWeb(threads) : loadOrtNode());
  const ort = await loaded.get(name)!;
  const sessionOptions: Record<string, unknown> = {
    executionProviders: [name === "wasm" ? "wasm" : "cpu"],
    graphOptimizationLevel: "all",
    ...(name === "native" ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
  return {
    name,
    threads,
    ort,
    async createSession(file: ModelFile): Promise<OrtSession> {
      try {
        const source = name === "native" && file.path ? file.path : file.bytes;
        if (!source) throw new Error("neither bytes nor a local path was given");
        return withFloat16Bits(
          await ort.InferenceSession.create(source, {
            ...sessionOptions,
            ...(file.externalData?.length ? { externalData: file.externalData } : {}),
          }),
        );
      } catch (error) {
        if (name === "wasm" && /Requires read access/.test(String((error as Error).message))) {
          throw new VlmError(
            "usage",
            `ONNX Runtime (wasm) could not read its WebAssembly binary: ${
              (error as Error).message
            }`,
            {
              fix: "allow reading the onnxruntime-web npm package (deno run --allow-read), " +
                "or use a `vlm bundle` build, which embeds the binary",
              cause: error,
            },
          );
        }
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
