/**
 * ONNX Runtime backends behind one interface: `wasm` (onnxruntime-web, the
 * default; edge and browser), `native` (onnxruntime-node; servers, needs
 * `--allow-ffi`) and `host` (an onnxruntime-common API the platform supplies,
 * see {@linkcode HostBackend}). Everything above this file is backend-agnostic.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { withFloat16Bits } from "./float16_tensors.ts";
import { type BackendChoice, checkBackendOptions, type RuntimeName } from "./load_options.ts";
import type { HostBackend } from "./host_runtime.ts";
import type { OrtApi, OrtSession } from "./ort_api.ts";
import { releaseBuffer } from "./release_buffer.ts";

export type { BackendChoice, BackendName, RuntimeName } from "./load_options.ts";
export type { HostBackend } from "./host_runtime.ts";
export type { OrtApi, OrtSession, OrtTensor, OrtTensorData, OrtValueMetadata } from "./ort_api.ts";

/** Options for {@linkcode loadBackend}. */
export interface BackendOptions {
  /**
   * Which runtime (default `wasm`): `"wasm"`, `"native"`, or a runtime the
   * host supplies, `{ ort }` (see {@linkcode HostBackend}).
   */
  backend?: BackendChoice;
  /**
   * CPU threads for ONNX Runtime (default 1 on wasm, all cores on native; a
   * host runtime keeps its own default unless this is given).
   */
  threads?: number;
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
  /** Which runtime this is (`host` for a {@linkcode HostBackend}). */
  readonly name: RuntimeName;
  /** Sessions may be opened from a local file's path (`ModelFile.path`). */
  readonly readsFiles: boolean;
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

/**
 * onnxruntime-web's wasm threads are module workers named `em-pthread*` that
 * load the script ONNX Runtime came from: in a bundle, the bundle itself. ORT
 * expects its module code to run as that worker starts, but here it is
 * imported on first use, so in such a worker it is started at once; otherwise
 * the worker never answers and loading a model with `threads > 1` waits forever.
 */
function isOrtWorkerThread(): boolean {
  const scope = globalThis as { WorkerGlobalScope?: unknown; name?: unknown };
  return scope.WorkerGlobalScope !== undefined && typeof scope.name === "string" &&
    scope.name.startsWith("em-pthread");
}
if (isOrtWorkerThread()) void import("npm:onnxruntime-web@1.30.0/wasm");

async function loadOrtWeb(threads: number): Promise<OrtApi> {
  const ort = await import("npm:onnxruntime-web@1.30.0/wasm");
  const env = (ort as unknown as OrtEnvWasm).env.wasm;
  // Bundles embed the binary; otherwise ONNX Runtime reads it from its npm package.
  env.wasmBinary ??= (await import("./wasm_binary.ts")).ORT_WASM_BINARY;
  env.numThreads = threads;
  return ort as unknown as OrtApi;
}

/**
 * Session options of the wasm backend, chosen for memory. The wasm heap only
 * grows, so whatever a run allocates stays resident: without the CPU arena and
 * the memory pattern, ONNX Runtime frees activations back to the heap's
 * allocator, which reuses them, instead of holding arena chunks and pattern
 * blocks sized for the largest run.
 */
export const WASM_SESSION_OPTIONS: Readonly<Record<string, unknown>> = {
  enableCpuMemArena: false,
  enableMemPattern: false,
};

/**
 * Once ONNX Runtime is instantiated, the embedded binary (a bundle's, ~12 MB)
 * is dead weight: drop the reference and free its bytes. One thread only:
 * worker threads would instantiate from it later.
 */
function releaseWasmBinary(ort: OrtApi): void {
  const env = (ort as unknown as OrtEnvWasm).env.wasm;
  const binary = env.wasmBinary;
  if (binary === undefined || (env.numThreads ?? 1) > 1) return;
  env.wasmBinary = undefined;
  releaseBuffer(binary);
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
  const choice = options.backend ?? "wasm";
  if (typeof choice === "object") return hostBackend(choice, options.threads);
  const name = choice;
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
    // wasm memory never shrinks: an arena or a planned memory pattern keeps every request's
    // largest activations resident for good (see WASM_SESSION_OPTIONS).
    ...(name === "wasm" ? WASM_SESSION_OPTIONS : {}),
  };
  return {
    name,
    threads,
    ort,
    readsFiles: name === "native",
    async createSession(file: ModelFile): Promise<OrtSession> {
      try {
        const session = await openSession(ort, file, name === "native", sessionOptions);
        if (name === "wasm") releaseWasmBinary(ort);
        return session;
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
        throw loadFailed(name, file, error);
      }
    },
  };
}

async function openSession(
  ort: OrtApi,
  file: ModelFile,
  byPath: boolean,
  options: Record<string, unknown>,
): Promise<OrtSession> {
  const source = byPath && file.path ? file.path : file.bytes;
  if (!source) throw new Error("neither bytes nor a local path was given");
  return withFloat16Bits(
    await ort.InferenceSession.create(source, {
      ...options,
      ...(file.externalData?.length ? { externalData: file.externalData } : {}),
    }),
  );
}

function loadFailed(runtime: string, file: ModelFile, error: unknown): VlmError {
  return new VlmError(
    "model_invalid",
    `ONNX Runtime (${runtime}) could not load ${file.name}: ${(error as Error).message}`,
    {
      fix: "check that the file is a complete ONNX model for this dtype, " +
        "with its external data file next to it",
      cause: error,
    },
  );
}

// The host's runtime is used as given: nothing is imported, and its own defaults stand
// except the cpu provider (a host may default to another) and the threads asked for.
function hostBackend(host: HostBackend, threads: number | undefined): Backend {
  const cores = (globalThis.navigator?.hardwareConcurrency ?? 1) || 1;
  const label = `host ${JSON.stringify(host.name ?? "host")}`;
  const sessionOptions: Record<string, unknown> = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...host.sessionOptions,
  };
  const readsFiles = host.readsFiles ?? false;
  return {
    name: "host",
    threads: threads ?? cores,
    ort: host.ort,
    readsFiles,
    async createSession(file: ModelFile): Promise<OrtSession> {
      try {
        return await openSession(host.ort, file, readsFiles, sessionOptions);
      } catch (error) {
        throw loadFailed(label, file, error);
      }
    },
  };
}
