/**
 * The budget planner: the largest resolution (and splitting choice) whose
 * conversation still fits a token budget and, optionally, a memory budget.
 *
 * Candidates are the stage-1 longest edges k·T for k = maxGridSide … 1 with
 * splitting on (what the processor's `size.longest_edge` option controls),
 * then splitting off. The first candidate that fits, i.e. the one with the
 * most image tokens, wins.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";
import type { Dtype } from "../spec/types.ts";
import { weightBytes } from "./memory.ts";
import { countSequence, type SequenceCount } from "./sequence.ts";
import type { TextTokenCounter } from "./text_counter.ts";
import type { Size } from "./tiles.ts";

/** What has to fit. */
export interface BudgetRequest {
  /** The image to plan for (only its aspect ratio matters). */
  image: Size;
  /** Question text counted with the image. */
  prompt?: string;
  /** Largest allowed sequence (default: the context length). */
  maxTokens?: number;
  /** Largest allowed weights + KV cache, in bytes. */
  maxBytes?: number;
  /** Weight dtype for the memory budget (default fp32). */
  dtype?: Dtype;
  /** Tokens reserved for the answer (default 0). */
  reserveForOutput?: number;
  /** Text token counter (default: the built-in estimate). */
  counter?: TextTokenCounter;
}

/** The chosen setting. */
export interface BudgetChoice {
  /** Stage-1 longest edge to configure (`size.longest_edge`). */
  longestEdge: number;
  /** Whether to split. */
  split: boolean;
  /** Token accounting at that setting. */
  count: SequenceCount;
  /** Weights + KV cache for the sequence and reserved output, in bytes. */
  bytes: number;
}

/** Picks the highest-resolution setting that fits; throws `budget_unsatisfiable` if none does. */
export function planBudget(plan: Plan, request: BudgetRequest): BudgetChoice {
  const { image: settings } = plan.spec;
  const maxTokens = Math.min(request.maxTokens ?? Infinity, plan.decoder.contextLength);
  const reserve = request.reserveForOutput ?? 0;
  const weights = weightBytes(plan.params, request.dtype ?? "fp32").total;
  const candidates: { longestEdge: number; split: boolean }[] = [];
  if (settings.splitting) {
    for (let k = plan.maxGridSide; k >= 1; k--) {
      const edge = Math.min(k * settings.tileSize, settings.longestEdge);
      if (!candidates.some((c) => c.longestEdge === edge)) {
        candidates.push({ longestEdge: edge, split: true });
      }
    }
  }
  candidates.push({ longestEdge: settings.tileSize, split: false });

  let smallest: BudgetChoice | undefined;
  for (const candidate of candidates) {
    const scoped: Plan = {
      ...plan,
      spec: { ...plan.spec, image: { ...settings, longestEdge: candidate.longestEdge } },
    };
    const count = countSequence(scoped, {
      images: [request.image],
      prompt: request.prompt,
      split: candidate.split,
      counter: request.counter,
    });
    const bytes = weights + (count.totalTokens + reserve) * plan.decoder.kvBytesPerToken;
    const choice = { ...candidate, count, bytes };
    smallest = choice;
    const tokensFit = count.totalTokens + reserve <= maxTokens;
    const bytesFit = request.maxBytes === undefined || bytes <= request.maxBytes;
    if (tokensFit && bytesFit) return choice;
  }
  throw new VlmError(
    "budget_unsatisfiable",
    `even one unsplit tile needs ${smallest!.count.totalTokens + reserve} tokens and ${
      smallest!.bytes
    } bytes, over the budget (${maxTokens} tokens${
      request.maxBytes === undefined ? "" : `, ${request.maxBytes} bytes`
    })`,
    { fix: "raise the budget, shorten the prompt, or use a smaller dtype" },
  );
}
