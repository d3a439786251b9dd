// Rewrites the I/O of a built ONNX file into the forms published exports use:
// a rank-3 `image_features` and float16 boundaries, by wrapping the fp32
// graph in Reshape and Cast nodes, so tests can load the same weights in
// either form and compare.
import onnxProto from "onnx-proto";
import { decodeModel, serializeModel } from "../../src/build/onnx_file.ts";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

type Graph = onnxProto.onnx.IGraphProto;

/** Renames every use of `from` (as node input or output) to `to`. */
function renameUses(graph: Graph, from: string, to: string): void {
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((n) => (n === from ? to : n));
    node.output = (node.output ?? []).map((n) => (n === from ? to : n));
  }
}

function valueInfo(list: onnxProto.onnx.IValueInfoProto[] | null | undefined, name: string) {
  const info = (list ?? []).find((v) => v.name === name);
  if (!info) throw new Error(`no graph I/O named ${name}`);
  return info;
}

/** `output` ends with a Reshape to `shape`; its declared dims become `dims`. */
export function reshapeOutput(
  bytes: Uint8Array,
  output: string,
  shape: number[],
  dims: (number | string)[],
): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const flat = `${output}_before_reshape`;
  renameUses(graph, output, flat);
  graph.initializer!.push({
    name: `${output}_shape`,
    dataType: onnx.TensorProto.DataType.INT64,
    dims: [shape.length],
    int64Data: shape,
  });
  graph.node!.push({ opType: "Reshape", input: [flat, `${output}_shape`], output: [output] });
  valueInfo(graph.output, output).type!.tensorType!.shape = {
    dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
  };
  return serializeModel(model).model;
}

/** The named graph inputs and outputs become float16, cast to/from the float32 graph inside. */
export function float16Boundaries(
  bytes: Uint8Array,
  inputs: readonly string[],
  outputs: readonly string[],
): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const casts: onnxProto.onnx.INodeProto[] = [];
  for (const name of inputs) {
    renameUses(graph, name, `${name}_f32`);
    casts.push({
      opType: "Cast",
      input: [name],
      output: [`${name}_f32`],
      attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
    });
    valueInfo(graph.input, name).type!.tensorType!.elemType = FLOAT16;
  }
  for (const name of outputs) {
    renameUses(graph, name, `${name}_f32`);
    casts.push({
      opType: "Cast",
      input: [`${name}_f32`],
      output: [name],
      attribute: [{ name: "to", type: onnx.AttributeProto.AttributeType.INT, i: FLOAT16 }],
    });
    valueInfo(graph.output, name).type!.tensorType!.elemType = FLOAT16;
  }
  // Input casts first and output casts last keep the node list topologically sorted.
  const inputCasts = casts.slice(0, inputs.length);
  const outputCasts = casts.slice(inputs.length);
  graph.node = [...inputCasts, ...graph.node!, ...outputCasts];
  return serializeModel(model).model;
}
