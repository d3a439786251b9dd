/**
 * vlmkit: run small vision-language models (SmolVLM, SmolDocling, Idefics3,
 * MobileVLM) on ONNX Runtime in Deno, Node, edge functions and browsers, and
 * answer every "how many tokens, how big" question about them exactly.
 *
 * ```ts
 * import { loadModel } from "vlmkit";
 *
 * const model = await loadModel("path/to/SmolVLM-256M-Instruct");
 * const result = await model.generate({
 *   prompt: "Describe this image.",
 *   images: ["photo.jpg"],
 *   maxNewTokens: 64,
 * });
 * console.log(result.text);
 * await model.dispose();
 * ```
 *
 * Accounting needs no weights:
 *
 * ```ts
 * import { countSequence, getPreset, resolve } from "vlmkit";
 *
 * const plan = resolve(getPreset("smolvlm-256m-instruct"));
 * const count = countSequence(plan, { images: [{ width: 640, height: 480 }], prompt: "Describe." });
 * console.log(count.imageTokens); // 832: 3×4 tiles + 1 global, 64 tokens each
 * ```
 *
 * The rest of the toolkit lives in subpaths: `vlmkit/plugin` (writing task
 * plugins), `vlmkit/plugins/<task>` (the built-in tasks), `vlmkit/doctags`,
 * `vlmkit/server`, `vlmkit/hub`, `vlmkit/build` (synthesize and convert),
 * `vlmkit/spec`, `vlmkit/tokens`, `vlmkit/variants` and `vlmkit/image`.
 *
 * @module
 */

// Running a model.
export { loadModel, type LoadModelOptions } from "./src/runtime/load_model.ts";
export { type CountRequest, countRequest } from "./src/runtime/count_request.ts";
export type {
  BackendChoice,
  BackendName,
  BackendOptions,
  OrtApi,
  OrtSession,
  OrtTensor,
  OrtTensorData,
  OrtValueMetadata,
  RuntimeName,
} from "./src/runtime/backend.ts";
export { type HostBackend, hostOnnxRuntime } from "./src/runtime/host_runtime.ts";
export { type PreparedInputs, VlmModel } from "./src/runtime/model.ts";
export type { KeptNode, Q4Kernel, Q4KernelReport } from "./src/runtime/q4_kernel.ts";
export type { TextTokenizer } from "./src/text/tokenizer.ts";
export type { DtypeChoice, HfModule, ModularModule } from "./src/runtime/model_spec.ts";
export type { ModelFolder } from "./src/runtime/model_folder.ts";
export type {
  FinishReason,
  GenerateRequest,
  GenerationResult,
  GenerationTimings,
  ImagePlan,
  ImageTiling,
  LogitsProcessor,
  StreamedToken,
  TokenLogprob,
  TopLogprob,
} from "./src/runtime/generation_types.ts";
export { GenerationStream, type StreamEvent } from "./src/runtime/generation_stream.ts";
export type { SamplingOptions } from "./src/runtime/sampler.ts";
export {
  type ResponseFormat,
  type ResponseFormatOptions,
  responseFormatProcessor,
} from "./src/structured/response_format.ts";
export type { ChatMessage, ContentPart, ImagePart, Role, TextPart } from "./src/text/messages.ts";
export type { ImageSource } from "./src/image/source.ts";
export type * from "./src/plugins/types.ts";

// Errors.
export { VlmError, type VlmErrorCode, type VlmErrorJson } from "./src/errors/vlm_error.ts";
export type { VlmIssue } from "./src/errors/issue.ts";
export { type SpecIssue, SpecValidationError } from "./src/errors/spec_error.ts";

// Variant specs and exact accounting (no weights needed).
export type * from "./src/spec/types.ts";
export type { ModuleParams, ParamCounts, Plan, PlannedFile } from "./src/spec/plan.ts";
export { parseSpec, type SpecValidation, validateSpec } from "./src/spec/validate.ts";
export { resolve } from "./src/spec/resolve.ts";
export { DEFAULT_PRESET, getPreset, presetNames } from "./variants/mod.ts";
export {
  countSequence,
  type ImageTokenCount,
  type SequenceCount,
  type SequenceRequest,
} from "./src/tokens/sequence.ts";
export type { Size, TilePlan } from "./src/tokens/tiles.ts";
export type { TextTokenCounter } from "./src/tokens/text_counter.ts";
export { type BudgetChoice, type BudgetRequest, planBudget } from "./src/tokens/budget.ts";

// Serving from an edge function.
export {
  createServerHandler,
  type ServerHandler,
  type ServerOptions,
} from "./src/server/handler.ts";
export type { QueueMemory } from "./src/server/request_queue.ts";
