/**
 * Serialises a model to ONNX bytes, optionally with its large tensors in a
 * separate external-data file. Protobuf messages cannot exceed 2 GiB, so
 * bigger graphs must keep their weights outside the `.onnx` file; the runtime
 * and transformers.js both read them from `<file>.onnx_data` next to it.
 *
 * @module
 */
import onnxProto from "npm:onnx-proto@8.0.1";

const { onnx } = onnxProto;

/** Protobuf's hard message limit, with headroom for the graph itself. */
export const INLINE_WEIGHT_LIMIT = 1_900_000_000;

/** Tensors at least this large move to external data (small constants stay inline). */
export const EXTERNAL_MIN_BYTES = 1024;

/** External data offsets are aligned so the file can be memory-mapped. */
export const EXTERNAL_ALIGNMENT = 4096;

/** Where the next tensor starts in a data file that is `size` bytes long. */
export function alignedOffset(size: number): number {
  return Math.ceil(size / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
}

/**
 * `tensor` (without its raw data) pointing at `length` bytes at `offset` of
 * the data file `location`.
 */
export function externalTensor(
  tensor: onnxProto.onnx.ITensorProto,
  location: string,
  offset: number,
  length: number,
): onnxProto.onnx.ITensorProto {
  return {
    ...tensor,
    rawData: null,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(length) },
    ],
  };
}

/** One serialised model. */
export interface OnnxFileBytes {
  /** The `.onnx` protobuf. */
  model: Uint8Array;
  /** External tensor data, when any tensor was moved out. */
  data?: Uint8Array;
}

/** Total raw tensor bytes of a model's initializers. */
export function initializerBytes(model: onnxProto.onnx.IModelProto): number {
  let total = 0;
  for (const t of model.graph?.initializer ?? []) total += t.rawData?.byteLength ?? 0;
  return total;
}

/**
 * Encodes `model`. With `externalDataName` (the data file's name, relative to
 * the model file) tensors of 1 KiB or more are written to `data` instead.
 */
export function serializeModel(
  model: onnxProto.onnx.IModelProto,
  externalDataName?: string,
): OnnxFileBytes {
  if (!externalDataName) {
    const bytes = initializerBytes(model);
    if (bytes > INLINE_WEIGHT_LIMIT) {
      throw new RangeError(
        `${model.graph?.name}: ${bytes} bytes of weights do not fit in one protobuf; use external data`,
      );
    }
    return { model: onnx.ModelProto.encode(model).finish() };
  }
  const moved: { tensor: onnxProto.onnx.ITensorProto; raw: Uint8Array; offset: number }[] = [];
  let size = 0;
  const initializers = (model.graph?.initializer ?? []).map((tensor) => {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength < EXTERNAL_MIN_BYTES) return tensor;
    const offset = alignedOffset(size);
    size = offset + raw.byteLength;
    const external = externalTensor(tensor, externalDataName, offset, raw.byteLength);
    moved.push({ tensor: external, raw, offset });
    return external;
  });
  const data = new Uint8Array(size);
  for (const { raw, offset } of moved) data.set(raw, offset);
  const stripped = { ...model, graph: { ...model.graph, initializer: initializers } };
  return { model: onnx.ModelProto.encode(stripped).finish(), data };
}

/** Decodes ONNX bytes (external data is not resolved). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
