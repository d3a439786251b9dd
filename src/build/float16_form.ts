/**
 * The float16 form of a built model, for the `fp16` and `q4f16` dtypes: every
 * float weight is stored as float16 (half the bytes), and the boundaries the
 * published fp16 exports keep in float16 (`inputs_embeds`, `logits`,
 * `image_features`, the KV cache) take and return float16. The arithmetic
 * stays float32: each weight is cast up where it is used (ONNX Runtime folds
 * those casts at load time) and the boundaries are cast at the graph's edge,
 * since the CPU kernels of both backends compute most operators in float32
 * anyway. Small constants (shapes, masks, RoPE tables) stay float32.
 *
 * @module
 */
import onnxProto from "npm:onnx-proto@8.0.1";
import { float32ToFloat16 } from "../runtime/float16.ts";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

type Model = onnxProto.onnx.IModelProto;
type Node = onnxProto.onnx.INodeProto;

/** Whether a graph input or output is one the published fp16 exports keep in float16. */
export function isFloat16Boundary(name: string): boolean {
  return name === "inputs_embeds" || name === "logits" || name === "image_features" ||
    name.startsWith("past_key_values.") || name.startsWith("present.");
}

function cast(input: string, output: string, to: number): Node {
  return {
    name: `${output}/Cast`,
    opType: "Cast",
    input: [input],
    output: [output],
    attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: to }],
  };
}

function float32Raw(raw: Uint8Array): Float32Array {
  const copy = raw.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** Suffix of a weight's float16 initializer (the float32 name is its Cast's output). */
export const FLOAT16_SUFFIX = "_fp16";

/**
 * Whether initializer `name` of ONNX type `dataType` is stored as float16 in
 * the float16 form: float weights, not the builder's `/const_N` constants.
 */
export function isFloat16Weight(name: string, dataType: number): boolean {
  return dataType === FLOAT && !name.startsWith("/const_");
}

/** Options of {@linkcode float16Form}. */
export interface Float16FormOptions {
  /**
   * Initializers (by their `_fp16` name) already stored as float16, e.g. by a
   * writer that streamed them to external data: they only get their Cast.
   */
  converted?: ReadonlySet<string>;
}

/** Returns `model` in the float16 form described above (a new model; `model` is unchanged). */
export function float16Form(model: Model, options: Float16FormOptions = {}): Model {
  const graph = model.graph!;
  const head: Node[] = [];
  const tail: Node[] = [];
  const rename = new Map<string, string>();
  const initializer = (graph.initializer ?? []).map((tensor) => {
    const name = tensor.name ?? "";
    if (options.converted?.has(name)) {
      head.push(cast(name, name.slice(0, -FLOAT16_SUFFIX.length), FLOAT));
      return tensor;
    }
    // Builder constants are named `/const_N`; weights carry their module names.
    if (!isFloat16Weight(name, tensor.dataType ?? 0) || !tensor.rawData) return tensor;
    const half = float32ToFloat16(float32Raw(tensor.rawData));
    head.push(cast(`${name}${FLOAT16_SUFFIX}`, name, FLOAT));
    return {
      ...tensor,
      name: `${name}${FLOAT16_SUFFIX}`,
      dataType: FLOAT16,
      rawData: new Uint8Array(half.buffer),
    };
  });
  const retype = (info: onnxProto.onnx.IValueInfoProto) => ({
    ...info,
    type: { tensorType: { ...info.type!.tensorType!, elemType: FLOAT16 } },
  });
  const input = (graph.input ?? []).map((info) => {
    const name = info.name ?? "";
    if (!isFloat16Boundary(name) || info.type?.tensorType?.elemType !== FLOAT) return info;
    rename.set(name, `${name}_f32`);
    head.push(cast(name, `${name}_f32`, FLOAT));
    return retype(info);
  });
  const output = (graph.output ?? []).map((info) => {
    const name = info.name ?? "";
    if (!isFloat16Boundary(name) || info.type?.tensorType?.elemType !== FLOAT) return info;
    rename.set(name, `${name}_f32`);
    tail.push(cast(`${name}_f32`, name, FLOAT16));
    return retype(info);
  });
  const renamed = (names: string[] | null | undefined) =>
    (names ?? []).map((n) => rename.get(n) ?? n);
  // Casts of inputs and weights first, of outputs last: the node list stays topologically sorted.
  const node = [
    ...head,
    ...(graph.node ?? []).map((n) => ({
      ...n,
      input: renamed(n.input),
      output: renamed(n.output),
    })),
    ...tail,
  ];
  return { ...model, graph: { ...graph, initializer, input, output, node } };
}
