/**
 * Per-platform verdicts for running a model at the edge (on the wasm
 * backend, through the edge bundle): does the whole process — the runtime
 * itself, the loaded weights and one request — stay under Cloudflare
 * Workers' 128 MB, Supabase Edge Functions' 256 MB, Deno Deploy's 512 MB?
 * `vlm profile --model` measures the peak (VmHWM of a child process) and
 * judges that; `vlm synth --json`, which cannot run the model cheaply, gives
 * an estimate from constants measured by the edge bench, each chosen at or
 * above what was measured, so an estimate never reads "fits" where a
 * measured run does not.
 *
 * @module
 */
import { planModuleDtypes, wasmMemoryEstimate } from "../runtime/wasm_memory.ts";
import { WASM_MAX_TILES } from "../runtime/edge_defaults.ts";
import { requestMemory } from "../server/request_memory.ts";
import type { Plan } from "../spec/plan.ts";
import type { Dtype } from "../spec/types.ts";
import type { Size } from "../tokens/tiles.ts";

/** An edge platform and its memory limit, as the README states it (MB = 10⁶ bytes). */
export interface EdgePlatform {
  /** Its name. */
  name: string;
  /** Memory an instance may use, in bytes. */
  limitBytes: number;
}

/** The platforms judged, smallest limit first. */
export const EDGE_PLATFORMS: readonly EdgePlatform[] = [
  { name: "Cloudflare Workers", limitBytes: 128e6 },
  { name: "Supabase Edge Functions", limitBytes: 256e6 },
  { name: "Deno Deploy", limitBytes: 512e6 },
];

/** The two requests judged, as the edge bench sends them. */
export const EDGE_REQUESTS = {
  /** A 512×512 image, unsplit (one tile). */
  unsplit: { image: { width: 512, height: 512 }, split: false, maxTiles: 1 },
  /** A 1024×768 photo at the wasm backend's default image budget. */
  photo: { image: { width: 1024, height: 768 }, split: true, maxTiles: WASM_MAX_TILES },
} as const satisfies Record<string, { image: Size; split: boolean; maxTiles: number }>;

/** Peak RSS of a whole process for each judged request, in bytes. */
export interface EdgePeaks {
  /** With the unsplit 512² image. */
  unsplit: number;
  /** With the 1024×768 photo at the edge defaults. */
  photo: number;
}

/** One platform's verdict. */
export interface PlatformVerdict {
  /** The platform. */
  platform: string;
  /** Its limit in bytes. */
  limitBytes: number;
  /** Whether the unsplit request's peak stays under the limit. */
  unsplit: boolean;
  /** Whether the photo's peak stays under the limit. */
  photo: boolean;
}

/** The verdict of every platform for `peaks`. */
export function platformVerdicts(peaks: EdgePeaks): PlatformVerdict[] {
  return EDGE_PLATFORMS.map((p) => ({
    platform: p.name,
    limitBytes: p.limitBytes,
    unsplit: peaks.unsplit <= p.limitBytes,
    photo: peaks.photo <= p.limitBytes,
  }));
}

const MiB = 2 ** 20;

/**
 * The estimate's constants, from `deno task bench --section edge` on the
 * development machine (edge bundle, wasm, one process per figure, VmHWM; the
 * README's "what fits where" table), each rounded up:
 * - runtime floor: the tiny model (10 MiB of fp32 weights) after `loadModel`
 *   is 291 MiB, most of it V8's compiled code for ONNX Runtime's wasm binary
 *   (120 MiB right after the import) → 300 MiB;
 * - weights: ONNX Runtime's heap for them as `wasmMemoryEstimate` gives it
 *   (`heapBytes`: the resident weights, 4-bit matmuls as their int8 re-pack and
 *   the embedding table on disk, grown by at most one 20 % step; an upper bound
 *   on the heap's resident pages). SmolVLM-256M after `loadModel`: int8 505 MiB
 *   and q4 478 MiB measured, 300 + 286 MiB estimated for both;
 * - a request: the tiny model's peak is 26–85 MiB above its RSS after load
 *   (the README's run; reruns on a busy machine, where V8's background
 *   tier-up of the ORT binary lands during the request) for a plan estimate
 *   (`requestMemory`) of 1.6 MiB → 96 MiB fixed; SmolVLM-256M
 *   int8 unsplit is 170 MiB above for an estimate of 87 MiB, its 5-tile photo
 *   381 MiB for 412 MiB → twice the plan estimate.
 */
export const EDGE_ESTIMATE_CONSTANTS = {
  runtimeFloorBytes: 300 * MiB,
  requestOverheadBytes: 96 * MiB,
  activationFactor: 2,
} as const;

/** An estimated edge peak and its verdicts. */
export interface EdgeEstimate {
  /** Always "estimate": computed from the Plan, not measured. */
  kind: "estimate";
  /** Where the constants come from. */
  method: string;
  /** Estimated RSS after `loadModel`. */
  afterLoadBytes: number;
  /** Estimated peak RSS per request. */
  peakBytes: EdgePeaks;
  /** Verdict per platform from the estimated peaks. */
  platforms: PlatformVerdict[];
}

/**
 * Estimates the peak RSS of an edge process (edge bundle, wasm backend)
 * running `plan`'s files (or all modules in `dtype`) with one request of
 * each kind: a prompt of `textTokens` and `maxNewTokens` new tokens (default
 * the bench's: 8 and 32).
 */
export function estimateEdgePeak(
  plan: Plan,
  options: { textTokens?: number; maxNewTokens?: number; dtype?: Dtype } = {},
): EdgeEstimate {
  const c = EDGE_ESTIMATE_CONSTANTS;
  const request = { textTokens: options.textTokens ?? 8, maxNewTokens: options.maxNewTokens ?? 32 };
  const dtypes = options.dtype
    ? { encoder: options.dtype, projector: options.dtype, decoder: options.dtype }
    : planModuleDtypes(plan);
  const afterLoadBytes = c.runtimeFloorBytes + wasmMemoryEstimate(plan, { dtypes }).heapBytes;
  const peak = (kind: keyof typeof EDGE_REQUESTS) => {
    const { image, split, maxTiles } = EDGE_REQUESTS[kind];
    const need = requestMemory(plan, { images: [image], split, maxTiles, ...request });
    return Math.ceil(
      afterLoadBytes + c.requestOverheadBytes + c.activationFactor * need.totalBytes,
    );
  };
  const peakBytes = { unsplit: peak("unsplit"), photo: peak("photo") };
  return {
    kind: "estimate",
    method: "runtime floor + the weights' ONNX Runtime wasm heap (wasmMemoryEstimate) + " +
      "a request's plan estimate × 2 + 96 MiB; constants from the edge bench " +
      "(EDGE_ESTIMATE_CONSTANTS); measure with `vlm profile --model DIR`",
    afterLoadBytes,
    peakBytes,
    platforms: platformVerdicts(peakBytes),
  };
}
