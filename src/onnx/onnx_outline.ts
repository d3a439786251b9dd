/**
 * The outline of an ONNX model read with the wire walker: graph inputs and
 * outputs by name, nodes (op type, inputs, outputs, integer attributes) and
 * initializers described by type, dims and where their bytes lie (inline in
 * the file, in an external data file, or decoded here when small). Enough to
 * recognise a small graph and read its weights without loading the file.
 *
 * @module
 */
import {
  ATTRIBUTE,
  DATA_LOCATION,
  ENTRY,
  GRAPH,
  MODEL,
  NODE,
  ONNX_TYPE,
  TENSOR,
  VALUE_INFO,
} from "./onnx_fields.ts";
import { WIRE, WireError, type WireField } from "./protobuf_wire.ts";
import { type ByteSource, WireReader } from "./wire_reader.ts";

/** A node of the graph. */
export interface OutlineNode {
  /** Operator type, e.g. `Gather`. */
  readonly opType: string;
  /** Operator domain ("" for the default one). */
  readonly domain: string;
  /** Input value names ("" for an omitted optional input). */
  readonly inputs: readonly string[];
  /** Output value names. */
  readonly outputs: readonly string[];
  /** Attributes holding integers (`i` or `ints`), by name; other attributes are listed as `[]`. */
  readonly attributes: ReadonlyMap<string, readonly bigint[]>;
}

/** Where an initializer's little-endian bytes are. */
export type TensorBytes =
  | { readonly kind: "inline"; readonly offset: number; readonly length: number }
  | {
    readonly kind: "external";
    readonly location: string;
    readonly offset: number;
    readonly length: number;
  }
  | { readonly kind: "decoded"; readonly bytes: Uint8Array };

/** An initializer, without its data. */
export interface OutlineTensor {
  /** Initializer name. */
  readonly name: string;
  /** TensorProto data type. */
  readonly dataType: number;
  /** Dims. */
  readonly dims: readonly number[];
  /** Where its bytes are; `undefined` for a storage this reader does not handle. */
  readonly bytes: TensorBytes | undefined;
}

/** The outline of a model. */
export interface OnnxOutline {
  /** Graph input names (without initializers listed as inputs). */
  readonly inputs: readonly string[];
  /** Graph output names. */
  readonly outputs: readonly string[];
  /** Nodes in file order. */
  readonly nodes: readonly OutlineNode[];
  /** Initializers by name. */
  readonly initializers: ReadonlyMap<string, OutlineTensor>;
}

/** Inline tensors up to this size are decoded into the outline. */
const SMALL_BYTES = 4096;

function node(r: WireReader): OutlineNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, bigint[]>();
  let opType = "";
  let domain = "";
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === NODE.input) inputs.push(r.string(f));
    else if (f.field === NODE.output) outputs.push(r.string(f));
    else if (f.field === NODE.opType) opType = r.string(f);
    else if (f.field === NODE.domain) domain = r.string(f);
    else if (f.field === NODE.attribute) {
      const a = r.message(f);
      let name = "";
      const ints: bigint[] = [];
      for (let g = a.next(); g; g = a.next()) {
        if (g.field === ATTRIBUTE.name) name = a.string(g);
        else if (g.field === ATTRIBUTE.i && g.wireType === WIRE.varint) ints.push(g.varint);
        else if (g.field === ATTRIBUTE.ints) ints.push(...a.varints(g));
      }
      attributes.set(name, ints);
    }
  }
  return { opType, domain, inputs, outputs, attributes };
}

/** Little-endian bytes of the values of a packed repeated numeric field. */
function packedBytes(r: WireReader, f: WireField, dataType: number): Uint8Array | undefined {
  const fixed = f.field === TENSOR.floatData || f.field === TENSOR.doubleData;
  if (f.wireType === WIRE.bytes && fixed) return r.bytes(f);
  const values = r.varints(f);
  if (f.field === TENSOR.int64Data) return new Uint8Array(BigInt64Array.from(values).buffer);
  // int32_data carries int8, uint8 and float16 (as bits) one per value.
  if (dataType === ONNX_TYPE.int8) return new Uint8Array(Int8Array.from(values, Number).buffer);
  if (dataType === ONNX_TYPE.uint8) return Uint8Array.from(values, Number);
  if (dataType === ONNX_TYPE.float16) {
    return new Uint8Array(Uint16Array.from(values, Number).buffer);
  }
  return undefined;
}

function tensor(r: WireReader): OutlineTensor {
  let name = "";
  let dataType = 0;
  const dims: number[] = [];
  let bytes: TensorBytes | undefined;
  let decoded: Uint8Array[] = [];
  let external = false;
  const entries = new Map<string, string>();
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === TENSOR.dims) dims.push(...r.varints(f).map(Number));
    else if (f.field === TENSOR.dataType) dataType = Number(f.varint);
    else if (f.field === TENSOR.name) name = r.string(f);
    else if (f.field === TENSOR.rawData) {
      // Small tensors (scales, zero points, shape constants) are read now; tables stay put.
      const length = f.valueEnd - f.valueStart;
      bytes = length <= SMALL_BYTES
        ? { kind: "decoded", bytes: r.bytes(f) }
        : { kind: "inline", offset: f.valueStart, length };
    } else if (
      f.field === TENSOR.floatData || f.field === TENSOR.int32Data || f.field === TENSOR.int64Data
    ) {
      const part = packedBytes(r, f, dataType);
      if (part) decoded.push(part);
      else decoded = [];
    } else if (f.field === TENSOR.externalData) {
      const e = r.message(f);
      let key = "";
      let value = "";
      for (let g = e.next(); g; g = e.next()) {
        if (g.field === ENTRY.key) key = e.string(g);
        else if (g.field === ENTRY.value) value = e.string(g);
      }
      entries.set(key, value);
    } else if (f.field === TENSOR.dataLocation) {
      external = f.varint === BigInt(DATA_LOCATION.external);
    }
  }
  if (external) {
    const location = entries.get("location");
    const offset = Number(entries.get("offset") ?? 0);
    const length = entries.has("length") ? Number(entries.get("length")) : NaN;
    bytes = location !== undefined && Number.isSafeInteger(offset) && Number.isSafeInteger(length)
      ? { kind: "external", location, offset, length }
      : undefined;
  } else if (!bytes && decoded.length > 0) {
    const total = decoded.reduce((n, d) => n + d.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const d of decoded) {
      joined.set(d, at);
      at += d.length;
    }
    bytes = { kind: "decoded", bytes: joined };
  }
  return { name, dataType, dims, bytes };
}

function valueName(r: WireReader): string {
  for (let f = r.next(); f; f = r.next()) if (f.field === VALUE_INFO.name) return r.string(f);
  return "";
}

/**
 * Reads the outline of the ONNX model in `source`. Throws {@linkcode WireError}
 * when the bytes are not a model.
 */
export function readOnnxOutline(source: ByteSource): OnnxOutline {
  const model = new WireReader(source);
  let graph: WireReader | undefined;
  for (let f = model.next(); f; f = model.next()) {
    if (f.field === MODEL.graph && f.wireType === WIRE.bytes) graph = model.message(f);
  }
  if (!graph) throw new WireError("no graph in the model");
  const inputs: string[] = [];
  const outputs: string[] = [];
  const nodes: OutlineNode[] = [];
  const initializers = new Map<string, OutlineTensor>();
  for (let f = graph.next(); f; f = graph.next()) {
    if (f.wireType !== WIRE.bytes) continue;
    if (f.field === GRAPH.node) nodes.push(node(graph.message(f)));
    else if (f.field === GRAPH.initializer) {
      const t = tensor(graph.message(f));
      initializers.set(t.name, t);
    } else if (f.field === GRAPH.input) inputs.push(valueName(graph.message(f)));
    else if (f.field === GRAPH.output) outputs.push(valueName(graph.message(f)));
  }
  return {
    inputs: inputs.filter((name) => !initializers.has(name)),
    outputs,
    nodes,
    initializers,
  };
}
