/**
 * Pipeline modules (encoder, projector, embedder, decoder) and their ONNX
 * implementations.
 *
 * @module
 */
export * from "./types.ts";
export { OnnxVisionEncoder } from "./onnx_vision_encoder.ts";
export { OnnxEmbedder } from "./onnx_embedder.ts";
export { OnnxTileEncoder } from "./onnx_tile_encoder.ts";
export { OnnxProjector } from "./onnx_projector.ts";
export { type DecoderGeometry, OnnxDecoder } from "./onnx_decoder.ts";
