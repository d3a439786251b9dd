/**
 * The variant builder: synthesize runnable ONNX model folders with seeded
 * weights for any variant spec, and inspect ONNX folders.
 *
 * @module
 */
export {
  type FolderSink,
  type StreamedSynthesis,
  type Synthesis,
  type SynthesisProgress,
  synthesize,
  type SynthesizedFile,
  type SynthesizeOptions,
  synthesizeToFolder,
  type WrittenFile,
} from "./synthesize.ts";
export type { AppendFile } from "./tensor_sink.ts";
export { type BuildScale, scaledSpec } from "./test_scale.ts";
export { inspectOnnx, type OnnxInterface } from "./inspect_onnx.ts";
export type { TensorInfo } from "../runtime/session_contract.ts";
export type { WeightFormat } from "./layers/ops.ts";
export type { VisionAttention } from "./layers/vit_attention.ts";
export type { WeightMap, WeightTensor } from "./seeded_weights.ts";
export { type BuildRecord, MODULAR_MANIFEST, type ModularManifest } from "./modular_manifest.ts";
export { seededSources, type WeightSource, type WeightSources } from "./weight_source.ts";
export {
  type Conversion,
  convertCheckpoint,
  convertCheckpointToFolder,
  type ConvertOptions,
  type StreamedConversion,
} from "./checkpoint/convert.ts";
export type { Checkpoint } from "./checkpoint/checkpoint.ts";
export type { SafetensorsDtype, SafetensorsEntry } from "./checkpoint/safetensors_header.ts";
export type { ModelPart, PartOrigin } from "./checkpoint/checkpoint_weights.ts";
export { specFromCheckpointConfigs } from "./checkpoint/checkpoint_config.ts";
export type { CheckpointConfig, CheckpointConfigs } from "../families/types.ts";
