/**
 * Everything a task-plugin author needs, and nothing that reads files, the
 * Hugging Face Hub or ONNX Runtime: the plugin contract and its hooks'
 * types, option parsing, the prompt helper, the runner, the error type a hook
 * may throw, and `z` (zod at the version vlmkit pins, so a plugin and vlmkit
 * share one zod).
 *
 * ```ts
 * import { parsePluginOptions, type TaskPlugin, userTurn, z } from "vlmkit/plugin";
 *
 * export function shout(options: { times?: number } = {}): TaskPlugin<{ text: string }> {
 *   const o = parsePluginOptions("shout", z.object({ times: z.int().min(1).default(1) }), options);
 *   return {
 *     name: "shout",
 *     maxNewTokens: 64,
 *     output: z.object({ text: z.string() }),
 *     hooks: {
 *       prompt: (input) => userTurn(input.images ?? [], input.prompt ?? "What is this?"),
 *       postprocess: (text) => ({ text: text.trim().toUpperCase() + "!".repeat(o.times) }),
 *     },
 *   };
 * }
 * ```
 *
 * @module
 */
export type * from "./types.ts";
export { parsePluginOptions } from "./plugin_options.ts";
export { callHook, runTask, type TaskModel } from "./run_task.ts";
export { userTurn } from "./user_turn.ts";
export {
  type ResponseFormat,
  type ResponseFormatOptions,
  responseFormatProcessor,
} from "../structured/response_format.ts";
export { isTaskPlugin, pluginProblems } from "./validate_plugin.ts";
export { z } from "./zod.ts";
export { VlmError, type VlmErrorCode, type VlmErrorOptions } from "../errors/vlm_error.ts";
export type {
  FinishReason,
  GenerateRequest,
  GenerationResult,
  GenerationTimings,
  LogitsProcessor,
  StreamedToken,
} from "../runtime/generation_types.ts";
export type { ChatMessage, ContentPart, ImagePart, Role, TextPart } from "../text/messages.ts";
export type { ImageSource } from "../image/source.ts";
export type { SamplingOptions } from "../runtime/sampler.ts";
export type { ModuleParams, ParamCounts, Plan, PlannedFile } from "../spec/plan.ts";
export type * from "../spec/types.ts";
export type { TextTokenizer } from "../text/tokenizer.ts";
export type { TextTokenCounter } from "../tokens/text_counter.ts";
