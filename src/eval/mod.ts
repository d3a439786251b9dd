/**
 * Evaluation: labeled JSONL sets, answer metrics, and model scoring.
 *
 * @module
 */
export { type LabeledItem, parseLabels, parsePredictions, type PredictedItem } from "./labels.ts";
export {
  charErrorRate,
  editDistance,
  emptyTally,
  normalizeAnswer,
  score,
  type ScoreTally,
} from "./metrics.ts";
export {
  agreement,
  type EvalPrediction,
  type EvalReport,
  evaluate,
  type EvaluateOptions,
  type PromptScore,
} from "./evaluate.ts";
