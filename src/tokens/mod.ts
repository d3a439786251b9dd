/**
 * Token and memory accounting: pure functions over a resolved `Plan`.
 *
 * @module
 */
export {
  MAX_IMAGE_SIDE,
  maxGridSide,
  maxTilesPerImage,
  planTiles,
  type PlanTilesOptions,
  resizeToLongestEdge,
  resizeToTileMultiple,
  type Size,
  type TilePlan,
  type TileSettings,
} from "./tiles.ts";
export {
  patchesPerTile,
  patchGridSide,
  projectorDownsample,
  tokensPerTile,
  validScaleFactors,
} from "./tile_tokens.ts";
export { expandImagePrompt, type ExpansionTokens, rowColText } from "./prompt.ts";
export {
  MOBILEVLM_SYSTEM_PROMPT,
  renderUserTurn,
  tokenizerAddsBos,
  type UserTurn,
} from "./conversation.ts";
export {
  estimatedTextCounter,
  type PromptSegments,
  segmentPrompt,
  specialTokenTexts,
  type TextTokenCounter,
} from "./text_counter.ts";
export {
  countImageTokens,
  countSequence,
  type ImageTokenCount,
  type SequenceCount,
  type SequenceRequest,
} from "./sequence.ts";
export {
  countParams,
  decoderParams,
  encoderParams,
  makeDivisible,
  projectorParams,
} from "./params.ts";
export {
  DTYPE_STORAGE,
  type DtypeStorage,
  kvBytesPerToken,
  kvCacheDtype,
  type ModuleDtypes,
  moduleWeightBytes,
  type WeightBytes,
  weightBytes,
} from "./memory.ts";
export { type BudgetChoice, type BudgetRequest, planBudget } from "./budget.ts";
export { sampledFrameCount, videoImageTokens } from "./video.ts";
