/**
 * The variant builder: synthesize runnable ONNX model folders with seeded
 * weights for any variant spec, and inspect ONNX folders.
 *
 * @module
 */
export {
  type Synthesis,
  type SynthesisProgress,
  synthesize,
  type SynthesizedFile,
  type SynthesizeOptions,
} from "./synthesize.ts";
export { type BuildScale, scaledSpec } from "./test_scale.ts";
export { inspectOnnx, type OnnxInterface } from "./inspect_onnx.ts";
export type { TensorInfo } from "../runtime/session_contract.ts";
export type { WeightFormat } from "./layers/ops.ts";
export type { WeightMap, WeightTensor } from "./seeded_weights.ts";
export { type BuildRecord, MODULAR_MANIFEST, type ModularManifest } from "./modular_manifest.ts";
