/**
 * Running models: `loadModel`, generation, streaming, backends.
 *
 * @module
 */
export { loadModel, type LoadModelOptions } from "./load_model.ts";
export {
  describeModelFolder,
  type DtypeChoice,
  type HfModule,
  type ModelDescription,
  MODULAR_MANIFEST_FILE,
  type ModularModule,
} from "./model_spec.ts";
export { type PreparedInputs, VlmModel, type VlmModelParts } from "./model.ts";
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
} from "./generation_types.ts";
export { GenerationStream, type StreamEvent } from "./generation_stream.ts";
export {
  type Backend,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
  loadBackend,
  type ModelFile,
  type OrtApi,
  type OrtSession,
  type OrtTensor,
  type OrtTensorData,
  type OrtValueMetadata,
  type RuntimeName,
} from "./backend.ts";
export { type HostBackend, hostOnnxRuntime } from "./host_runtime.ts";
export type { KeptNode, Q4Kernel, Q4KernelReport } from "./q4_kernel.ts";
export { argmax, Sampler, type SamplingOptions } from "./sampler.ts";
export { type HfFiles, specFromHfFiles } from "./hf_config.ts";
export { isModelFolder, type ModelFolder, openModelFolder } from "./model_folder.ts";
export {
  contractProblems,
  describeTensors,
  type ExpectedTensor,
  type TensorInfo,
} from "./session_contract.ts";
export {
  WASM_MEMORY_LIMIT,
  type WasmMemoryEstimate,
  wasmMemoryEstimate,
  type WasmMemoryOptions,
  wasmResidentBytes,
} from "./wasm_memory.ts";
export { type CountRequest, countRequest } from "./count_request.ts";
