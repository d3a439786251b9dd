/**
 * Rewrites an ONNX model's 4-bit `MatMulNBits` and `MatMulBnb4` nodes into
 * the int8 chain (DynamicQuantizeLinear → MatMulInteger → scale), on the
 * model's bytes and before its session opens. ONNX Runtime fuses that chain
 * into its integer matmul, the fast kernel on wasm; see `repackColumns` for
 * the weights. Nodes in a form this does not cover are left as they are.
 *
 * @module
 */
import { float16ToFloat32 } from "./float16.ts";
import { bnb4Problem, type Bnb4Weight, dequantizeBnb4Column } from "./bnb4_weight.ts";
import {
  dequantizeNBitsColumn,
  nbitsProblem,
  type NBitsWeight,
  REPACK_LEVELS,
  REPACK_TILE,
  repackColumns,
} from "./nbits_repack.ts";
import { fields, text, varints, WIRE, WireError, type WireField } from "../onnx/protobuf_wire.ts";
import { MessageWriter } from "../onnx/message_writer.ts";
import { type NodeFields, nodeProto, readNodeProto } from "../onnx/node_proto.ts";
import {
  DATA_LOCATION,
  ENTRY,
  GRAPH,
  MODEL,
  ONNX_TYPE,
  OPSET,
  TENSOR,
  VALUE_INFO,
} from "../onnx/onnx_fields.ts";

/** External weight files of a model, by the path its tensors name. */
export type ExternalData = readonly { path: string; data: Uint8Array }[];

/** A 4-bit matmul node left as it is, and why. */
export interface KeptNode {
  /** Node name (or its first output's). */
  node: string;
  /** What kept it. */
  reason: string;
}

/** What {@linkcode rewriteMatMulNBits} did. */
export interface NBitsRewrite {
  /** The model, rewritten (the input itself when nothing was rewritten). */
  bytes: Uint8Array;
  /** 4-bit matmul nodes replaced by the int8 chain. */
  rewritten: number;
  /** 4-bit matmul nodes kept. */
  kept: KeptNode[];
}

const MICROSOFT = "com.microsoft";
/** Tensor fields holding typed values rather than raw bytes. */
const TYPED_DATA: ReadonlySet<number> = new Set([
  TENSOR.floatData,
  TENSOR.int32Data,
  TENSOR.stringData,
  TENSOR.int64Data,
  TENSOR.doubleData,
  TENSOR.uint64Data,
]);

interface Node extends NodeFields {
  field: WireField;
}

interface Tensor {
  field: WireField;
  name: string;
  dims: number[];
  dataType: number;
  raw?: WireField;
  external?: { location: string; offset: number; length: number };
  plainData: boolean;
}

function parseNode(bytes: Uint8Array, f: WireField): Node {
  return { field: f, ...readNodeProto(bytes, f) };
}

function parseTensor(bytes: Uint8Array, f: WireField): Tensor {
  const t: Tensor = { field: f, name: "", dims: [], dataType: 0, plainData: false };
  const entries = new Map<string, string>();
  let location = 0;
  for (const g of fields(bytes, f.valueStart, f.valueEnd)) {
    if (g.field === TENSOR.dims) t.dims.push(...varints(bytes, g).map(Number));
    else if (g.field === TENSOR.dataType) t.dataType = Number(g.varint);
    else if (g.field === TENSOR.name) t.name = text(bytes, g);
    else if (g.field === TENSOR.rawData) t.raw = g;
    else if (g.field === TENSOR.dataLocation) location = Number(g.varint);
    else if (g.field === TENSOR.externalData) {
      let key = "";
      let value = "";
      for (const e of fields(bytes, g.valueStart, g.valueEnd)) {
        if (e.field === ENTRY.key) key = text(bytes, e);
        else if (e.field === ENTRY.value) value = text(bytes, e);
      }
      entries.set(key, value);
    } else if (TYPED_DATA.has(g.field)) {
      t.plainData = true;
    }
  }
  if (location === DATA_LOCATION.external) {
    t.external = {
      location: entries.get("location") ?? "",
      offset: Number(entries.get("offset") ?? 0),
      length: Number(entries.get("length") ?? -1),
    };
  }
  return t;
}

/** The tensor's bytes, or why they cannot be read. */
function tensorBytes(
  bytes: Uint8Array,
  t: Tensor,
  external: ExternalData | undefined,
): Uint8Array | string {
  if (t.raw) return bytes.subarray(t.raw.valueStart, t.raw.valueEnd);
  if (t.external) {
    const file = external?.find((e) => e.path === t.external!.location);
    if (!file) return `its data file ${t.external.location} was not given`;
    const { offset, length } = t.external;
    const end = length < 0 ? file.data.length : offset + length;
    if (end > file.data.length) return `${t.name} runs past the end of ${t.external.location}`;
    return file.data.subarray(offset, end);
  }
  return t.plainData ? `${t.name} stores typed values instead of raw bytes` : `${t.name} is empty`;
}

function floats(data: Uint8Array, dataType: number): Float32Array | undefined {
  // A fresh, aligned copy (`slice` of a Node Buffer would be a view of a shared pool).
  const copy = new Uint8Array(data);
  if (dataType === ONNX_TYPE.float32) return new Float32Array(copy.buffer, 0, copy.length >> 2);
  if (dataType === ONNX_TYPE.float16) {
    return float16ToFloat32(new Uint16Array(copy.buffer, 0, copy.length >> 1));
  }
  return undefined;
}

/** A 4-bit weight read one float column at a time. */
interface ColumnWeight {
  k: number;
  n: number;
  /** Activations (and scales) are float16. */
  half: boolean;
  column(col: number, out: Float32Array): void;
  /** Converts the float scales `column` reads; `close` drops them. */
  open(): void;
  close(): void;
}

/**
 * Stands in for a weight's float scales between its check and its re-pack: converted for
 * every node at once, they would all be held until the model is written (~17 MB for a
 * 256M decoder) and left to the collector after; each node converts its own as it is written.
 */
const NO_FLOATS = new Float32Array(0);

/** The weight of a MatMulBnb4 node, or why it is not one this rewrite covers. */
function bnb4WeightOf(
  bytes: Uint8Array,
  node: Node,
  initializers: Map<string, Tensor>,
  external: ExternalData | undefined,
): ColumnWeight | string {
  const k = node.ints.get("K");
  const n = node.ints.get("N");
  const blockSize = node.ints.get("block_size");
  const quantType = node.ints.get("quant_type");
  if (k === undefined || n === undefined || blockSize === undefined || quantType === undefined) {
    return "K, N, block_size or quant_type is missing";
  }
  const b = initializers.get(node.inputs[1]);
  const a = initializers.get(node.inputs[2]);
  if (!b || !a) return "B or absmax is not an initializer";
  if (b.dataType !== ONNX_TYPE.uint8) return "B is not uint8";
  if (a.dataType !== ONNX_TYPE.float32 && a.dataType !== ONNX_TYPE.float16) {
    return "absmax is not float or float16";
  }
  const bData = tensorBytes(bytes, b, external);
  const aData = tensorBytes(bytes, a, external);
  if (typeof bData === "string") return bData;
  if (typeof aData === "string") return aData;
  const absmax = () => floats(aData, a.dataType)!;
  const w: Bnb4Weight = { k, n, blockSize, quantType, packed: bData, absmax: absmax() };
  const problem = bnb4Problem(w);
  if (problem) return problem;
  w.absmax = NO_FLOATS;
  return {
    k,
    n,
    half: a.dataType === ONNX_TYPE.float16,
    column: (c, out) => dequantizeBnb4Column(w, c, out),
    open: () => void (w.absmax = absmax()),
    close: () => void (w.absmax = NO_FLOATS),
  };
}

/** The weight of a MatMulNBits node, or why it is not one this rewrite covers. */
function nbitsWeightOf(
  bytes: Uint8Array,
  node: Node,
  initializers: Map<string, Tensor>,
  external: ExternalData | undefined,
): ColumnWeight | string {
  const bits = node.ints.get("bits") ?? 4;
  if (bits !== 4) return `bits ${bits} (only 4-bit weights are re-packed)`;
  const k = node.ints.get("K");
  const n = node.ints.get("N");
  const blockSize = node.ints.get("block_size");
  if (k === undefined || n === undefined || blockSize === undefined) {
    return "K, N or block_size is missing";
  }
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0)) {
    return `block_size ${blockSize} is not a power of two ≥ 16`;
  }
  if (node.inputs.slice(4).some((name) => name !== "")) {
    return "it has g_idx or bias inputs";
  }
  const [, bName, sName, zName = ""] = node.inputs;
  const b = initializers.get(bName);
  const s = initializers.get(sName);
  const z = zName ? initializers.get(zName) : undefined;
  if (!b || !s || (zName && !z)) return "B, scales or zero_points is not an initializer";
  if (b.dataType !== ONNX_TYPE.uint8) return "B is not uint8";
  if (s.dataType !== ONNX_TYPE.float32 && s.dataType !== ONNX_TYPE.float16) {
    return "scales are not float or float16";
  }
  if (z && z.dataType !== ONNX_TYPE.uint8) return "zero_points are not packed uint8";
  const bData = tensorBytes(bytes, b, external);
  const sData = tensorBytes(bytes, s, external);
  const zData = z ? tensorBytes(bytes, z, external) : undefined;
  for (const d of [bData, sData, zData]) if (typeof d === "string") return d;
  const scales = () => floats(sData as Uint8Array, s.dataType)!;
  const weight: NBitsWeight = {
    k,
    n,
    blockSize,
    packed: bData as Uint8Array,
    scales: scales(),
    zeroPoints: zData as Uint8Array | undefined,
  };
  const problem = nbitsProblem(weight);
  if (problem) return problem;
  weight.scales = NO_FLOATS;
  return {
    k,
    n,
    half: s.dataType === ONNX_TYPE.float16,
    column: (c, out) => dequantizeNBitsColumn(weight, c, out),
    open: () => void (weight.scales = scales()),
    close: () => void (weight.scales = NO_FLOATS),
  };
}

function nodeBytes(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  ints: Record<string, number> = {},
): MessageWriter {
  return new MessageWriter().bytes(GRAPH.node, nodeProto(opType, inputs, outputs, { name, ints }));
}

function tensorField(
  name: string,
  dataType: number,
  dims: number[],
  raw: Uint8Array | { length: number; fill: (out: Uint8Array) => void },
): MessageWriter {
  const w = new MessageWriter();
  for (const d of dims) w.varint(TENSOR.dims, d);
  w.varint(TENSOR.dataType, dataType).bytes(TENSOR.name, name);
  if (raw instanceof Uint8Array) w.bytes(TENSOR.rawData, raw);
  else w.lazyBytes(TENSOR.rawData, raw.length, raw.fill);
  return new MessageWriter().bytes(GRAPH.initializer, w);
}

const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The int8 chain that replaces `node`: new nodes and initializers, as graph fields. */
function replacement(node: Node, weight: ColumnWeight, levels: number, scratch: Scratch) {
  const { half, k, n } = weight;
  // The int8 values are written straight into the finished model (see lazyBytes); the
  // scales, computed with them, are written after them.
  const scales = new Float32Array(n);
  const values = {
    length: k * n,
    fill(out: Uint8Array) {
      const into = new Int8Array(out.buffer, out.byteOffset, out.length);
      weight.open();
      try {
        repackColumns(k, n, weight.column, levels, { values: into, scales, scratch: scratch(k) });
      } finally {
        weight.close();
      }
    },
  };
  const base = `${node.name || node.outputs[0]}/int8_repack`;
  const v = (s: string) => `${base}/${s}`;
  const out = node.outputs[0];
  const nodes: MessageWriter[] = [];
  let a = node.inputs[0];
  if (half) {
    nodes.push(nodeBytes("Cast", [a], [v("a32")], v("CastIn"), { to: ONNX_TYPE.float32 }));
    a = v("a32");
  }
  nodes.push(
    nodeBytes("DynamicQuantizeLinear", [a], [v("aq"), v("a_scale"), v("a_zero")], v("Quantize")),
    nodeBytes("MatMulInteger", [v("aq"), v("B"), v("a_zero"), v("B_zero")], [v("p")], v("MatMul")),
    nodeBytes("Cast", [v("p")], [v("pf")], v("CastProduct"), { to: ONNX_TYPE.float32 }),
    nodeBytes("Mul", [v("a_scale"), v("B_scale")], [v("scale")], v("Scale")),
    nodeBytes("Mul", [v("pf"), v("scale")], [half ? v("y32") : out], v("Rescale")),
  );
  if (half) {
    nodes.push(nodeBytes("Cast", [v("y32")], [out], v("CastOut"), { to: ONNX_TYPE.float16 }));
  }
  const tensors = [
    tensorField(v("B"), ONNX_TYPE.int8, [k, n], values),
    tensorField(v("B_scale"), ONNX_TYPE.float32, [n], {
      length: n * 4,
      fill: (out: Uint8Array) => out.set(asBytes(scales)),
    }),
    tensorField(v("B_zero"), ONNX_TYPE.int8, [n], new Uint8Array(n)),
  ];
  return { nodes, tensors };
}

/** Working space for {@linkcode repackColumns}, shared by a model's nodes: one buffer, not one per node. */
type Scratch = (k: number) => Float32Array;

function sharedScratch(): Scratch {
  let buffer = new Float32Array(0);
  return (k) => {
    if (buffer.length < REPACK_TILE * k) buffer = new Float32Array(REPACK_TILE * k);
    return buffer;
  };
}

/** Whether the model imports the default domain at opset 11+ (DynamicQuantizeLinear). */
function defaultOpset(bytes: Uint8Array, modelFields: WireField[]): number {
  let version = 0;
  for (const f of modelFields) {
    if (f.field !== MODEL.opsetImport) continue;
    let domain = "";
    let v = 0;
    for (const g of fields(bytes, f.valueStart, f.valueEnd)) {
      if (g.field === OPSET.domain) domain = text(bytes, g);
      else if (g.field === OPSET.version) v = Number(g.varint);
    }
    if (domain === "" || domain === "ai.onnx") version = Math.max(version, v);
  }
  return version;
}

/**
 * Replaces every 4-bit MatMulNBits (and MatMulBnb4) node of the model's main graph whose
 * weights are initializers (inline or in `external`) with the int8 chain.
 * Its initializers are dropped when nothing else uses them. Nodes inside
 * subgraphs, and other forms (8-bit, g_idx, bias, float zero points), stay.
 * Throws {@linkcode WireError} on bytes that are not a protobuf message.
 */
export function rewriteMatMulNBits(
  model: Uint8Array,
  external?: ExternalData,
  levels = REPACK_LEVELS,
): NBitsRewrite {
  const modelFields = [...fields(model)];
  const graph = modelFields.find((f) => f.field === MODEL.graph && f.wireType === WIRE.bytes);
  if (!graph) return { bytes: model, rewritten: 0, kept: [] };
  const graphFields = [...fields(model, graph.valueStart, graph.valueEnd)];
  const nodes = graphFields.filter((f) => f.field === GRAPH.node).map((f) => parseNode(model, f));
  const nbits = nodes.filter((n) =>
    (n.opType === "MatMulNBits" || n.opType === "MatMulBnb4") && n.domain === MICROSOFT
  );
  const kept: KeptNode[] = [];
  if (nbits.length === 0) return { bytes: model, rewritten: 0, kept };
  const label = (n: Node) => n.name || n.outputs[0] || "(unnamed)";
  if (defaultOpset(model, modelFields) < 11) {
    const reason = "the model's opset is below 11 (no DynamicQuantizeLinear)";
    return { bytes: model, rewritten: 0, kept: nbits.map((n) => ({ node: label(n), reason })) };
  }
  const initializers = new Map<string, Tensor>();
  const initializerAt = new Map<WireField, string>();
  const graphInputs = new Set<string>();
  const graphOutputs = new Set<string>();
  for (const f of graphFields) {
    if (f.field === GRAPH.initializer) {
      const t = parseTensor(model, f);
      initializers.set(t.name, t);
      initializerAt.set(f, t.name);
    } else if (f.field === GRAPH.input || f.field === GRAPH.output) {
      const into = f.field === GRAPH.input ? graphInputs : graphOutputs;
      for (const g of fields(model, f.valueStart, f.valueEnd)) {
        if (g.field === VALUE_INFO.name) into.add(text(model, g));
      }
    }
  }
  const uses = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  // A subgraph may name an outer initializer: keep every initializer then.
  const subgraphs = nodes.some((n) => n.hasSubgraph);

  const replaced = new Map<WireField, ReturnType<typeof replacement>>();
  const dropped = new Set<string>();
  const scratch = sharedScratch();
  for (const node of nbits) {
    const found = node.opType === "MatMulBnb4"
      ? bnb4WeightOf(model, node, initializers, external)
      : nbitsWeightOf(model, node, initializers, external);
    if (typeof found === "string") {
      kept.push({ node: label(node), reason: found });
      continue;
    }
    replaced.set(node.field, replacement(node, found, levels, scratch));
    for (const name of node.inputs.slice(1, 4)) {
      if (
        name && !subgraphs && uses.get(name) === 1 && !graphInputs.has(name) &&
        !graphOutputs.has(name)
      ) dropped.add(name);
    }
  }
  if (replaced.size === 0) return { bytes: model, rewritten: 0, kept };

  const g = new MessageWriter();
  for (const f of graphFields) {
    const r = f.field === GRAPH.node ? replaced.get(f) : undefined;
    if (r) { for (const n of r.nodes) g.raw(n); }
    else if (!(f.field === GRAPH.initializer && dropped.has(initializerAt.get(f)!))) {
      g.raw(model.subarray(f.start, f.end));
    }
  }
  for (const r of replaced.values()) for (const t of r.tensors) g.raw(t);
  const m = new MessageWriter();
  for (const f of modelFields) {
    if (f === graph) m.bytes(MODEL.graph, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return { bytes: m.finish(), rewritten: replaced.size, kept };
}

export { WireError };
