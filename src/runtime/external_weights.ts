/**
 * Moves a model's inline initializers out of its bytes, as external data
 * that points into those same bytes. onnxruntime-web copies the bytes it is
 * given into its wasm heap and parses them there, so an inline 138 MB
 * decoder sits in the heap once as the file and again as its tensors (the
 * heap never shrinks: both stay resident). External data is copied straight
 * from JS into each tensor: the heap then holds the tensors and a graph of a
 * few hundred kB. Nothing is copied here: the rewritten graph references the
 * original bytes by offset.
 *
 * @module
 */
import { fields, WIRE, type WireField } from "../onnx/protobuf_wire.ts";
import { MessageWriter } from "../onnx/message_writer.ts";
import { DATA_LOCATION, ENTRY, GRAPH, MODEL, TENSOR } from "../onnx/onnx_fields.ts";

/** Raw payloads below this stay inline: tiny tensors cost more as external entries. */
export const EXTERNAL_MIN_BYTES = 1024;

/** A model split into its graph and the weights it now references. */
export interface ExternalWeights {
  /** The model without the moved payloads. */
  graph: Uint8Array;
  /** The external data file: the original model bytes, under the name the graph uses. */
  weights: { path: string; data: Uint8Array };
  /** Initializers moved. */
  moved: number;
}

/** One initializer, pointed at its payload in the original bytes. */
function externalTensor(
  model: Uint8Array,
  tensor: WireField,
  raw: WireField,
  path: string,
): MessageWriter {
  const t = new MessageWriter();
  for (const f of fields(model, tensor.valueStart, tensor.valueEnd)) {
    if (f.field !== TENSOR.rawData) t.raw(model.subarray(f.start, f.end));
  }
  const entry = (key: string, value: string) =>
    t.bytes(
      TENSOR.externalData,
      new MessageWriter().bytes(ENTRY.key, key).bytes(ENTRY.value, value),
    );
  entry("location", path);
  entry("offset", String(raw.valueStart));
  entry("length", String(raw.valueEnd - raw.valueStart));
  t.varint(TENSOR.dataLocation, DATA_LOCATION.external);
  return new MessageWriter().bytes(GRAPH.initializer, t);
}

/**
 * `model` with every main-graph initializer whose raw payload is at least
 * {@linkcode EXTERNAL_MIN_BYTES} made external, in the file `path` whose
 * contents are `model` itself; `undefined` when there is none to move.
 * Initializers of subgraphs and sparse ones stay inline. Throws
 * `WireError` on bytes that are not a protobuf message.
 */
export function externalizeWeights(model: Uint8Array, path: string): ExternalWeights | undefined {
  const modelFields = [...fields(model)];
  const graph = modelFields.find((f) => f.field === MODEL.graph && f.wireType === WIRE.bytes);
  if (!graph) return undefined;
  const g = new MessageWriter();
  let moved = 0;
  for (const f of fields(model, graph.valueStart, graph.valueEnd)) {
    if (f.field === GRAPH.initializer && f.wireType === WIRE.bytes) {
      let raw: WireField | undefined;
      for (const t of fields(model, f.valueStart, f.valueEnd)) {
        if (t.field === TENSOR.rawData && t.wireType === WIRE.bytes) raw = t;
      }
      if (raw && raw.valueEnd - raw.valueStart >= EXTERNAL_MIN_BYTES) {
        g.raw(externalTensor(model, f, raw, path));
        moved++;
        continue;
      }
    }
    g.raw(model.subarray(f.start, f.end));
  }
  if (moved === 0) return undefined;
  const m = new MessageWriter();
  for (const f of modelFields) {
    if (f === graph) m.bytes(MODEL.graph, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return { graph: m.finish(), weights: { path, data: model }, moved };
}
