/**
 * OpenAI's sampling adjustments as logits processors: `logit_bias` (a value
 * added to listed token ids) and `presence_penalty` / `frequency_penalty`
 * (subtracted per token already generated in this answer).
 *
 * @module
 */
import type { LogitsProcessor } from "../runtime/generation_types.ts";

/**
 * `logit_bias`: adds each value to its token id's logit; −100 bans the token
 * outright (as OpenAI documents: "should result in a ban"). Ids outside the
 * vocabulary are ignored.
 */
export function logitBias(bias: Record<string, number>): LogitsProcessor {
  const entries = Object.entries(bias).map(([id, value]) => [Number(id), value] as const);
  return (logits) => {
    for (const [id, value] of entries) {
      if (id < logits.length) logits[id] = value <= -100 ? -Infinity : logits[id] + value;
    }
  };
}

/**
 * OpenAI's penalties: `logit[j] -= count[j] * frequency + (count[j] > 0) * presence`,
 * counting the tokens generated so far (not the prompt). Undefined when both are 0.
 */
export function penalties(presence: number, frequency: number): LogitsProcessor | undefined {
  if (presence === 0 && frequency === 0) return undefined;
  return (logits, generated) => {
    const counts = new Map<number, number>();
    for (const id of generated) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) {
      if (id < logits.length) logits[id] -= count * frequency + presence;
    }
  };
}
