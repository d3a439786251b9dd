/**
 * A small ONNX graph writer: named inputs, outputs, weights and nodes, turned
 * into an `onnx.ModelProto` (the `onnx-proto` package's protobuf classes).
 * Layer builders call {@linkcode GraphBuilder.op} with readable scopes so the
 * emitted node names read like `/layers.3/attn/MatMul_2`.
 *
 * @module
 */
import onnxProto from "npm:onnx-proto@8.0.1";
import type { TensorSink } from "./tensor_sink.ts";

const { onnx } = onnxProto;

/** Element types the builder emits. */
export type ElemType = "float32" | "float16" | "int64" | "int32" | "int8" | "uint8" | "bool";

/** A dimension: a size, or a symbolic name such as `"batch_size"`. */
export type Dim = number | string;

/** The typed array that holds each element type. */
export interface TensorArrays {
  /** 32-bit floats. */
  float32: Float32Array;
  /** IEEE half floats, as bit patterns. */
  float16: Uint16Array;
  /** 64-bit integers. */
  int64: BigInt64Array;
  /** 32-bit integers. */
  int32: Int32Array;
  /** Signed bytes. */
  int8: Int8Array;
  /** Unsigned bytes (also packed 4-bit data). */
  uint8: Uint8Array;
  /** Booleans, one byte each. */
  bool: Uint8Array;
}

/** A constant tensor: a weight or a small shape/index constant. */
export interface TensorData<T extends ElemType = ElemType> {
  /** Element type. */
  type: T;
  /** Concrete shape. */
  dims: number[];
  /** Values, row-major. */
  data: TensorArrays[T];
}

/** A float attribute (plain numbers are integer attributes). */
export class FloatAttr {
  /** Wraps `value`. */
  constructor(readonly value: number) {}
}

/** A graph attribute: the body of a control-flow node such as `If` (see {@linkcode GraphBuilder.subgraph}). */
export class GraphAttr {
  /** Wraps `graph`. */
  constructor(readonly graph: onnxProto.onnx.IGraphProto) {}
}

/** Attribute values: integers, `FloatAttr`, integer lists, strings, tensors or subgraphs. */
export type AttrValue = number | FloatAttr | number[] | string | TensorData | GraphAttr;

const ELEM_CODE: Record<ElemType, number> = {
  float32: 1,
  float16: 10,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
};

const ELEM_FROM_CODE = Object.fromEntries(
  Object.entries(ELEM_CODE).map(([name, code]) => [code, name]),
) as Record<number, ElemType>;

/** Element type name of an ONNX `TensorProto.DataType` code (`undefined` for others). */
export function elemTypeOf(code: number): ElemType | undefined {
  return ELEM_FROM_CODE[code];
}

/** Shorthand for a float attribute. */
export function float(value: number): FloatAttr {
  return new FloatAttr(value);
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_CODE[type],
        shape: {
          dim: dims.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }),
        },
      },
    },
  };
}

function rawBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The `TensorProto` of a constant (data as little-endian raw bytes, the platform order). */
export function tensorProto(name: string, tensor: TensorData): onnxProto.onnx.ITensorProto {
  return {
    name,
    dataType: ELEM_CODE[tensor.type],
    dims: tensor.dims,
    rawData: rawBytes(tensor.data),
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: Type.FLOAT, f: value.value };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`attribute ${name}: ${value} is not an integer; wrap floats in float()`);
    }
    return { name, type: Type.INT, i: value };
  }
  if (typeof value === "string") {
    return { name, type: Type.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) return { name, type: Type.INTS, ints: value };
  if (value instanceof GraphAttr) return { name, type: Type.GRAPH, g: value.graph };
  return { name, type: Type.TENSOR, t: tensorProto(name, value) };
}

/** Options of {@linkcode GraphBuilder.op}. */
export interface OpOptions {
  /** Operator domain, e.g. `com.microsoft` (default: the standard domain). */
  domain?: string;
  /** Names for the outputs (default: generated from the scope). */
  outputs?: string[];
}

/** An opset a model imports. */
export interface OpsetImport {
  /** Domain (`""` for the standard operators). */
  domain: string;
  /** Version. */
  version: number;
}

/** The standard opset every builder graph targets (LayerNormalization needs 17). */
export const STANDARD_OPSET: OpsetImport = { domain: "", version: 17 };

/** Microsoft contrib operators (MatMulNBits), imported only by graphs that use them. */
export const MICROSOFT_OPSET: OpsetImport = { domain: "com.microsoft", version: 1 };

/** Makes the sink of each graph built inside {@linkcode withTensorSinks}. */
export type TensorSinkFactory = (graphName: string) => TensorSink;

let ambientSinks: TensorSinkFactory | undefined;

/** The sink of a subgraph: its nodes read the outer graph's values and hold no tensors. */
const NO_TENSORS: TensorSink = {
  store(name: string): void {
    throw new Error(`subgraph tensor ${name}: create it in the outer graph`);
  },
  count: 0,
  initializers: () => [],
};

/**
 * Runs `body` with every {@linkcode GraphBuilder} it constructs (without a
 * sink of its own) storing its tensors in `sinks(graphName)`, so module
 * builders stream their weights without being told. Builds are synchronous,
 * so the setting cannot leak into another build.
 */
export function withTensorSinks<T>(sinks: TensorSinkFactory, body: () => T): T {
  const previous = ambientSinks;
  ambientSinks = sinks;
  try {
    return body();
  } finally {
    ambientSinks = previous;
  }
}

/**
 * Collects one graph. Weights are counted as parameters; constants (shapes,
 * axes, RoPE frequencies) are not. With a {@linkcode TensorSink} every tensor
 * goes to the sink as it is added and is not kept.
 */
export class GraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #initializers = new Map<string, TensorData>();
  readonly #domains = new Set<string>();
  readonly #counters = new Map<string, number>();
  #scope: string[] = [];
  #constants = 0;
  /** Logical parameters added through {@linkcode weight} (before any quantization). */
  parameters = 0;

  /** Where tensors go as they are added (`undefined`: kept in {@linkcode initializers}). */
  readonly sink: TensorSink | undefined;

  /**
   * Starts an empty graph called `name`, storing tensors in `sink` (default:
   * the one {@linkcode withTensorSinks} makes, else in memory).
   */
  constructor(readonly name: string, sink?: TensorSink) {
    this.sink = sink ?? ambientSinks?.(name);
  }

  #store(name: string, tensor: TensorData): void {
    if (this.sink) this.sink.store(name, tensor);
    else this.#initializers.set(name, tensor);
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: ElemType, dims: Dim[]): string {
    this.#inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` as the graph output `name` (renamed through Identity if needed). */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    if (value !== name) this.op("Identity", [value], {}, { outputs: [name] });
    this.#outputs.push(valueInfo(name, type, dims));
  }

  /**
   * Adds a stored tensor. `parameters` is how many model parameters it
   * represents (its element count unless it is a packed/quantized form).
   */
  weight(name: string, tensor: TensorData, parameters = elementCount(tensor.dims)): string {
    if (this.#initializers.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.#store(name, tensor);
    this.parameters += parameters;
    return name;
  }

  /** Adds a small constant tensor (not counted as parameters). */
  constant<T extends ElemType>(type: T, dims: number[], data: TensorArrays[T]): string {
    const name = `/const_${this.#constants++}`;
    this.#store(name, { type, dims, data });
    return name;
  }

  /** An int64 vector constant (shapes, axes, indices). */
  ints(values: number[]): string {
    return this.constant("int64", [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** A float32 scalar constant. */
  scalar(value: number): string {
    return this.constant("float32", [], Float32Array.of(value));
  }

  /** Runs `body` with node names prefixed by `name`. */
  scope<T>(name: string, body: () => T): T {
    this.#scope.push(name);
    try {
      return body();
    } finally {
      this.#scope.pop();
    }
  }

  /** Adds a node with one output and returns the output's name. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    options: OpOptions = {},
  ): string {
    return this.ops(
      opType,
      inputs,
      attrs,
      { ...options, outputs: options.outputs ?? undefined },
      1,
    )[0];
  }

  /** Adds a node with `count` outputs and returns their names. */
  ops(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue>,
    options: OpOptions,
    count: number,
  ): string[] {
    const prefix = `/${this.#scope.join("/")}${this.#scope.length ? "/" : ""}${opType}`;
    const n = this.#counters.get(prefix) ?? 0;
    this.#counters.set(prefix, n + 1);
    const nodeName = n === 0 ? prefix : `${prefix}_${n}`;
    const outputs = options.outputs ??
      Array.from({ length: count }, (_, i) => `${nodeName}_output_${i}`);
    if (options.domain) this.#domains.add(options.domain);
    this.#nodes.push({
      name: nodeName,
      opType,
      domain: options.domain ?? "",
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /**
   * A subgraph (an `If` branch) named `name`: `body` adds nodes to a builder
   * whose nodes may read any value of this graph (ONNX outer scope) but which
   * holds no tensors of its own, and returns the values it outputs with their
   * element types (shapes left to inference).
   */
  subgraph(
    name: string,
    body: (sub: GraphBuilder) => { value: string; type: ElemType }[],
  ): GraphAttr {
    const sub = new GraphBuilder(name, NO_TENSORS);
    sub.#scope = [...this.#scope, name];
    const outputs = body(sub);
    for (const domain of sub.#domains) this.#domains.add(domain);
    return new GraphAttr({
      name,
      node: sub.#nodes,
      output: outputs.map(({ value, type }) => ({
        name: value,
        type: { tensorType: { elemType: ELEM_CODE[type] } },
      })),
    });
  }

  /** The tensors kept in memory, by name (none when a sink takes them). */
  get initializers(): ReadonlyMap<string, TensorData> {
    return this.#initializers;
  }

  /** Tensors added so far (weights and constants), wherever they are stored. */
  get tensorCount(): number {
    return this.sink ? this.sink.count : this.#initializers.size;
  }

  /** The model, with the standard opset plus any domain a node used. */
  toModel(metadata: Record<string, string> = {}): onnxProto.onnx.IModelProto {
    const opsets: OpsetImport[] = [STANDARD_OPSET];
    if (this.#domains.has(MICROSOFT_OPSET.domain)) opsets.push(MICROSOFT_OPSET);
    return {
      irVersion: 8,
      producerName: "vlmkit",
      opsetImport: opsets,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.#nodes,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.sink
          ? this.sink.initializers()
          : [...this.#initializers].map(([name, t]) => tensorProto(name, t)),
      },
    };
  }
}

/** Product of the dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
