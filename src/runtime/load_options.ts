/**
 * The one check of `loadModel`'s options (and `loadBackend`'s): unknown
 * names and bad values are refused before anything loads, every problem
 * reported at once, each naming the option and what it accepts.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Dtype } from "../spec/types.ts";
import type { HfModule, ModularModule } from "./model_spec.ts";
import { type HostBackend, hostBackendProblems } from "./host_runtime.ts";

// Records keyed by the union types, so a new dtype or module fails type checking until listed.
/** The runtimes vlmkit loads itself: `wasm` (onnxruntime-web) and `native` (onnxruntime-node). */
export type BackendName = "wasm" | "native";

/** The `backend` option: a runtime vlmkit loads, or one the host supplies. */
export type BackendChoice = BackendName | HostBackend;

/** The runtime a backend runs on: a {@linkcode BackendName}, or `host` for a {@linkcode HostBackend}. */
export type RuntimeName = BackendName | "host";

/** A valid `maxTiles`: an integer ≥ 1, or Infinity for no cap. */
export function isMaxTiles(value: unknown): value is number {
  return typeof value === "number" && value >= 1 && (Number.isInteger(value) || value === Infinity);
}

const BACKENDS: Record<BackendName, true> = { wasm: true, native: true };

/**
 * The `q4Kernel` option: how 4-bit (MatMulNBits, MatMulBnb4) weights run. `auto` re-packs
 * them to int8 on the wasm backend (which has no fast 4-bit kernel) and keeps
 * them elsewhere; `int8` re-packs on every backend; `original` never does.
 */
export type Q4Kernel = "auto" | "int8" | "original";
const Q4_KERNELS: Record<Q4Kernel, true> = { auto: true, int8: true, original: true };
const DTYPES: Record<Dtype, true> = {
  fp32: true,
  fp16: true,
  int8: true,
  uint8: true,
  q8: true,
  q4: true,
  q4f16: true,
  bnb4: true,
};
const MODULES: Record<HfModule | ModularModule, true> = {
  vision_encoder: true,
  embed_tokens: true,
  decoder_model_merged: true,
  encoder: true,
  projector: true,
  decoder: true,
};

/** A problem with one option and how to correct it. */
interface Problem {
  message: string;
  fix: string;
}

type Check = (value: unknown) => Problem | undefined;

const list = (names: Record<string, true>) =>
  Object.keys(names).map((n) => JSON.stringify(n)).join(", ");

const shown = (value: unknown) =>
  typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "object" && value !== null
    ? Object.prototype.toString.call(value)
    : String(value);

function oneOf(option: string, names: Record<string, true>): Check {
  return (value) =>
    typeof value === "string" && Object.hasOwn(names, value) ? undefined : {
      message: `${option} must be one of ${list(names)}, got ${shown(value)}`,
      fix: `set ${option} to one of ${list(names)}`,
    };
}

function integer(option: string, min: number): Check {
  return (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min ? undefined : {
      message: `${option} must be an integer ≥ ${min}, got ${shown(value)}`,
      fix: `set ${option} to an integer of ${min} or more`,
    };
}

const checkDtype: Check = (value) => {
  if (typeof value === "string") return oneOf("dtype", DTYPES)(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      message: `dtype must be a dtype name or an object of module dtypes, got ${shown(value)}`,
      fix: `set dtype to one of ${list(DTYPES)}, or to e.g. { decoder_model_merged: "q4" }`,
    };
  }
  const problems = Object.entries(value).map(([module, dtype]) =>
    Object.hasOwn(MODULES, module) ? oneOf(`dtype.${module}`, DTYPES)(dtype) : {
      message: `dtype names the unknown module ${JSON.stringify(module)}`,
      fix: `use module names from ${list(MODULES)}`,
    }
  ).filter((p) => p !== undefined);
  return problems.length ? joined(problems) : undefined;
};

const checkBackend: Check = (value) => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const problem = oneOf("backend", BACKENDS)(value);
    return problem && { ...problem, fix: `${problem.fix}, or to a host runtime { ort }` };
  }
  const problems = hostBackendProblems(value);
  return problems.length
    ? {
      message: `a host backend must be { ort, name?, sessionOptions?, readsFiles? }: ${
        problems.join("; ")
      }`,
      fix: "pass the host's onnxruntime-common API as backend: { ort } (e.g. " +
        'hostOnnxRuntime() on Supabase, or the onnxruntime-node module), or backend: "wasm"',
    }
    : undefined;
};

const CHECKS: Record<string, Check> = {
  backend: checkBackend,
  threads: integer("threads", 1),
  dtype: checkDtype,
  q4Kernel: oneOf("q4Kernel", Q4_KERNELS),
  maxPixels: integer("maxPixels", 1),
  featureCacheSize: integer("featureCacheSize", 0),
  maxTiles: (value) =>
    isMaxTiles(value) ? undefined : {
      message: `maxTiles must be an integer ≥ 1 or Infinity, got ${shown(value)}`,
      fix: "set maxTiles to e.g. 5 (1 = unsplit), or Infinity for the model's full split",
    },
  embedding: oneOf("embedding", { table: true, session: true }),
  kvCache: oneOf("kvCache", { auto: true, copy: true }),
  reusePrefix: (value) =>
    typeof value === "boolean" ? undefined : {
      message: `reusePrefix must be true or false, got ${shown(value)}`,
      fix: "set reusePrefix to true or false",
    },
  signal: (value) =>
    value instanceof AbortSignal ? undefined : {
      message: `signal must be an AbortSignal, got ${shown(value)}`,
      fix: "pass an AbortController's signal",
    },
  plugins: (value) =>
    Array.isArray(value) ? undefined : {
      message: `plugins must be an array of task plugins, got ${shown(value)}`,
      fix: "pass plugins: [myPlugin(), ...]",
    },
};

/** Option names of `loadBackend`. */
const BACKEND_OPTIONS = ["backend", "threads"];

function joined(problems: Problem[]): Problem {
  return {
    message: problems.map((p) => p.message).join("; "),
    fix: [...new Set(problems.map((p) => p.fix))].join("; "),
  };
}

function check(where: string, options: unknown, names: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new VlmError("usage", `${where} options must be an object, got ${shown(options)}`, {
      fix: `pass an object such as { backend: "wasm" }, or nothing`,
    });
  }
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (!names.includes(name)) {
      problems.push({
        message: `unknown option ${JSON.stringify(name)}`,
        fix: `remove ${name}; the options are ${names.join(", ")}`,
      });
    } else if (value !== undefined) {
      const problem = CHECKS[name](value);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length) {
    const { message, fix } = joined(problems);
    throw new VlmError("usage", `${where}: ${message}`, { fix });
  }
}

/** Refuses unknown names and bad values among `loadModel`'s options, all reported in one error. */
export function checkLoadOptions(options: unknown): void {
  check("loadModel", options, Object.keys(CHECKS));
}

/** Refuses unknown names and bad values among `loadBackend`'s options. */
export function checkBackendOptions(options: unknown): void {
  check("loadBackend", options, BACKEND_OPTIONS);
}
