/**
 * What the Plan alone says about a design point: parameters, weight bytes
 * per dtype, tokens per image, KV-cache bytes at 8k, and which edge memory
 * limits a q4 edge process is estimated to fit (runtime included). Measured latencies are added by the profiler.
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import { weightBytes } from "../tokens/memory.ts";
import { countImageTokens } from "../tokens/sequence.ts";
import { EDGE_PLATFORMS, type EdgeEstimate, estimateEdgePeak } from "./edge_verdict.ts";

/** Edge platform memory limits the profile compares against (bytes). */
export const EDGE_LIMITS = { "128MB": 128e6, "256MB": 256e6, "512MB": 512e6 } as const;

/** Reference images for tokens-per-image. */
export const REFERENCE_IMAGES = {
  photo43: { width: 2048, height: 1536 },
  square512: { width: 512, height: 512 },
} as const;

/** Static facts of one design point. */
export interface DesignFacts {
  /** Variant name. */
  name: string;
  /** Parameters per module and total. */
  params: { encoder: number; projector: number; decoder: number; total: number };
  /** Weight bytes (inference path) per dtype. */
  weightBytes: { fp32: number; int8: number; q4: number };
  /** Decoder tokens per tile. */
  tokensPerTile: number;
  /** Tiles and image tokens of the reference images. */
  images: Record<keyof typeof REFERENCE_IMAGES, { tiles: number; tokens: number }>;
  /** fp32 KV-cache bytes for 8192 tokens. */
  kvBytesAt8k: number;
  /**
   * Whether the estimated peak of a q4 edge process (runtime, weights, a
   * photo at the wasm defaults: `estimateEdgePeak`) fits each edge limit.
   */
  fitsEdge: Record<keyof typeof EDGE_LIMITS, boolean>;
  /** That estimate. */
  edgeEstimate: EdgeEstimate;
}

/** Computes the static facts of `plan`. */
export function designFacts(plan: Plan): DesignFacts {
  const p = plan.params;
  const bytes = (dtype: "fp32" | "int8" | "q4") => weightBytes(p, dtype).total;
  const images = Object.fromEntries(
    Object.entries(REFERENCE_IMAGES).map(([key, size]) => {
      const [count] = countImageTokens(plan, [size]);
      return [key, { tiles: count.tiles, tokens: count.tokens }];
    }),
  ) as DesignFacts["images"];
  const kv = plan.decoder.kvBytesPerToken * 8192;
  const q4 = bytes("q4");
  const edgeEstimate = estimateEdgePeak(plan, { dtype: "q4" });
  return {
    name: plan.spec.name,
    params: {
      encoder: p.encoder.total,
      projector: p.projector.total,
      decoder: p.decoder.total,
      total: p.total,
    },
    weightBytes: { fp32: bytes("fp32"), int8: bytes("int8"), q4 },
    tokensPerTile: plan.tokensPerTile,
    images,
    kvBytesAt8k: kv,
    fitsEdge: Object.fromEntries(
      Object.entries(EDGE_LIMITS).map(([key, limit]) => [
        key,
        edgeEstimate.platforms[EDGE_PLATFORMS.findIndex((p) => p.limitBytes === limit)].photo,
      ]),
    ) as DesignFacts["fitsEdge"],
    edgeEstimate,
  };
}

/**
 * Linear extrapolation in depth: the cost at `layers` from costs measured at
 * depths `low` and `high` (a wider gap divides measurement noise by it).
 */
export function extrapolateLayers(
  measured: { low: number; high: number; lowCost: number; highCost: number },
  layers: number,
): number {
  const perLayer = (measured.highCost - measured.lowCost) / (measured.high - measured.low);
  return measured.lowCost + (layers - measured.low) * perLayer;
}
