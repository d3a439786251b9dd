/**
 * vlmkit: declarative variant specs for small vision-language models
 * (SmolVLM, SmolDocling, Idefics3, MobileVLM), exact token accounting, and the
 * building blocks of edge-ready pipelines.
 *
 * ```ts
 * import { countSequence, getPreset, resolve } from "./mod.ts";
 *
 * const plan = resolve(getPreset("smolvlm-256m-instruct"));
 * const count = countSequence(plan, { images: [{ width: 640, height: 480 }], prompt: "Describe." });
 * console.log(count.imageTokens); // 832: 3×4 tiles + 1 global, 64 tokens each
 * ```
 *
 * @module
 */
export * from "./src/errors/mod.ts";
export * from "./src/spec/mod.ts";
export * from "./src/tokens/mod.ts";
export { DEFAULT_PRESET, getPreset, PRESET_JSON, presetNames } from "./variants/mod.ts";
export {
  type DesignGrid,
  GRID_SCALE_FACTORS,
  type InvalidGridPoint,
  smolvlmPaperGrid,
} from "./variants/smolvlm_paper_grid.ts";
export * from "./src/image/mod.ts";
export * from "./src/text/mod.ts";
export * from "./src/modules/mod.ts";
export * from "./src/runtime/mod.ts";
export * from "./src/build/mod.ts";
export * from "./src/eval/mod.ts";
export * from "./src/plugins/mod.ts";
export * from "./src/server/mod.ts";
