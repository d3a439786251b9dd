/**
 * `evaluate`: runs a model greedily over labeled items and scores the
 * answers — exact match overall and per prompt, character error rate, and
 * generation throughput.
 *
 * @module
 */
import type { ImageSource } from "../image/source.ts";
import type { VlmModel } from "../runtime/model.ts";
import type { LabeledItem } from "./labels.ts";
import { charErrorRate, emptyTally, normalizeAnswer, score, type ScoreTally } from "./metrics.ts";

/** Options of {@linkcode evaluate}. */
export interface EvaluateOptions {
  /** Generation limit per answer (default 32). */
  maxNewTokens?: number;
  /** Where each item's image comes from (default: its `image` string as a path or URL). */
  imageSource?: (item: LabeledItem) => ImageSource;
  /** Called after each item (progress reporting). */
  onItem?: (prediction: EvalPrediction, done: number, total: number) => void;
  /** Cancels the run between and during items. */
  signal?: AbortSignal;
}

/** One model answer. */
export interface EvalPrediction extends LabeledItem {
  /** The model's answer, whitespace-trimmed. */
  prediction: string;
  /** Whether it equals the trimmed expected answer. */
  exact: boolean;
  /** Tokens generated. */
  tokens: number;
}

/** Scores of one prompt. */
export interface PromptScore {
  /** Items with this prompt. */
  count: number;
  /** Fraction answered exactly. */
  exactMatch: number;
  /** Edits per answer character. */
  charErrorRate: number;
}

/** The `vlm eval` report. */
export interface EvalReport {
  /** Items evaluated. */
  count: number;
  /** Fraction answered exactly. */
  exactMatch: number;
  /** Scores per prompt text. */
  perPrompt: Record<string, PromptScore>;
  /** Edits per answer character, over all items. */
  charErrorRate: number;
  /** Generated tokens per second of generation wall time (preprocessing and vision included). */
  tokensPerSec: number;
}

function promptScore(tally: ScoreTally): PromptScore {
  return {
    count: tally.count,
    exactMatch: tally.exact / tally.count,
    charErrorRate: charErrorRate(tally),
  };
}

/** Runs `model` on every item (greedy) and scores the answers. */
export async function evaluate(
  model: VlmModel,
  items: readonly LabeledItem[],
  options: EvaluateOptions = {},
): Promise<{ report: EvalReport; predictions: EvalPrediction[] }> {
  const overall = emptyTally();
  const byPrompt = new Map<string, ScoreTally>();
  const predictions: EvalPrediction[] = [];
  let tokens = 0;
  let seconds = 0;
  for (const item of items) {
    const started = performance.now();
    const result = await model.generate({
      prompt: item.prompt,
      images: [options.imageSource ? options.imageSource(item) : item.image],
      maxNewTokens: options.maxNewTokens ?? 32,
      temperature: 0,
      signal: options.signal,
    });
    seconds += (performance.now() - started) / 1000;
    tokens += result.tokenIds.length;
    const tally = byPrompt.get(item.prompt) ?? emptyTally();
    byPrompt.set(item.prompt, tally);
    score(tally, result.text, item.answer);
    const exact = score(overall, result.text, item.answer);
    const prediction = {
      ...item,
      prediction: normalizeAnswer(result.text),
      exact,
      tokens: result.tokenIds.length,
    };
    predictions.push(prediction);
    options.onItem?.(prediction, predictions.length, items.length);
  }
  const report: EvalReport = {
    count: overall.count,
    exactMatch: overall.count === 0 ? 0 : overall.exact / overall.count,
    perPrompt: Object.fromEntries(
      [...byPrompt].map(([prompt, tally]) => [prompt, promptScore(tally)]),
    ),
    charErrorRate: charErrorRate(overall),
    tokensPerSec: seconds === 0 ? 0 : tokens / seconds,
  };
  return { report, predictions };
}

/**
 * Agreement with another system's answers on the same items (matched by
 * image and prompt): the fraction of shared items whose trimmed answers are
 * identical, and how many items were shared.
 */
export function agreement(
  ours: readonly { image: string; prompt: string; prediction: string }[],
  theirs: readonly { image: string; prompt: string; prediction: string }[],
): { agreement: number; compared: number } {
  const key = (p: { image: string; prompt: string }) => `${p.image}\u0000${p.prompt}`;
  const reference = new Map(theirs.map((p) => [key(p), normalizeAnswer(p.prediction)]));
  let compared = 0;
  let same = 0;
  for (const p of ours) {
    const other = reference.get(key(p));
    if (other === undefined) continue;
    compared++;
    if (other === normalizeAnswer(p.prediction)) same++;
  }
  return { agreement: compared === 0 ? 0 : same / compared, compared };
}
