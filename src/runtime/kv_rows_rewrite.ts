/**
 * Rewrites a decoder graph so that its `present.{i}.key|value` outputs are
 * only the step's new rows of GroupQueryAttention's present: a Slice along the
 * sequence axis from the past length (`attention_mask` length − `inputs_embeds`
 * length) to the total length. onnxruntime-web copies every output out of its
 * heap into a new JS array; the whole present is the whole cache, so each
 * decode step would allocate megabytes of fresh memory, which the browser
 * pays for in page faults. The caller keeps the cache in capacity buffers it
 * feeds whole as past (GQA reads only the `seqlens_k + 1 − new` valid rows of
 * a longer past) and writes the returned rows into them.
 *
 * Only graphs whose present outputs come from GQA (directly, or through the
 * Cast of a float16 form) and declare its present-length rule
 * ({@linkcode SHARED_KV_AXIS}) are rewritten; others are returned as they are.
 *
 * With `attention: "ops"`, each float32 GQA is written as plain ops that read
 * the past buffer in place and return the new rows (`attention_ops.ts`);
 * graphs whose GQAs that does not cover keep GQA and the Slice.
 *
 * @module
 */
import { fields, text, WIRE, type WireField } from "../onnx/protobuf_wire.ts";
import { MessageWriter } from "../onnx/message_writer.ts";
import { type NodeFields, nodeProto, readNodeProto } from "../onnx/node_proto.ts";
import {
  DIMENSION,
  GRAPH,
  MODEL,
  NODE,
  ONNX_TYPE,
  OPSET,
  SHAPE,
  TENSOR,
  TENSOR_TYPE,
  TYPE_PROTO,
  VALUE_INFO,
} from "../onnx/onnx_fields.ts";
import { KV_ROWS_AXIS, SHARED_KV_AXIS } from "../modules/kv_buffer_axis.ts";
import { coveredGqa, GraphPatch, sharedAttention, writeAttention } from "./attention_ops.ts";

const PRESENT = /^present\.\d+\.(key|value)$/;
const PREFIX = "kv_rows";

/** Sub-fields of a length-delimited field. */
const inner = (bytes: Uint8Array, f: WireField) => [...fields(bytes, f.valueStart, f.valueEnd)];

/** The dims of a tensor ValueInfo's shape as raw Dimension fields, or undefined. */
function shapeDims(bytes: Uint8Array, info: WireField): WireField[] | undefined {
  const type = inner(bytes, info).find((f) => f.field === VALUE_INFO.type);
  const tensor = type && inner(bytes, type).find((f) => f.field === TYPE_PROTO.tensorType);
  const shape = tensor && inner(bytes, tensor).find((f) => f.field === TENSOR_TYPE.shape);
  return shape && inner(bytes, shape).filter((f) => f.field === SHAPE.dim);
}

function dimParam(bytes: Uint8Array, dim: WireField): string | undefined {
  const p = inner(bytes, dim).find((f) => f.field === DIMENSION.dimParam);
  return p && text(bytes, p);
}

/** `info` with its name, and axis 2 renamed `param`; other fields kept as they are. */
function withAxis(bytes: Uint8Array, info: WireField, param: string): MessageWriter {
  const rebuild = (f: WireField, depth: number): MessageWriter => {
    const w = new MessageWriter();
    let dim = 0;
    for (const g of inner(bytes, f)) {
      // ValueInfo → type → tensor_type → shape → dim[2].
      const path = [VALUE_INFO.type, TYPE_PROTO.tensorType, TENSOR_TYPE.shape, SHAPE.dim];
      if (depth < 4 && g.field === path[depth] && g.wireType === WIRE.bytes) {
        if (depth === 3 && dim++ !== 2) w.raw(bytes.subarray(g.start, g.end));
        else if (depth === 3) {
          w.bytes(SHAPE.dim, new MessageWriter().bytes(DIMENSION.dimParam, param));
        } else w.bytes(g.field, rebuild(g, depth + 1));
      } else w.raw(bytes.subarray(g.start, g.end));
    }
    return w;
  };
  return rebuild(info, 0);
}

function defaultOpset(bytes: Uint8Array, modelFields: WireField[]): number {
  let version = 0;
  for (const f of modelFields) {
    if (f.field !== MODEL.opsetImport) continue;
    let domain = "";
    let v = 0;
    for (const g of inner(bytes, f)) {
      if (g.field === OPSET.domain) domain = text(bytes, g);
      else if (g.field === OPSET.version) v = Number(g.varint);
    }
    if (domain === "" || domain === "ai.onnx") version = Math.max(version, v);
  }
  return version;
}

function node(
  opType: string,
  inputs: string[],
  output: string,
  ints: Record<string, number> = {},
): MessageWriter {
  return nodeProto(opType, inputs, [output], { ints });
}

/**
 * The model with present outputs of new rows only (axis 2 named
 * {@linkcode KV_ROWS_AXIS}), or undefined when its graph is not one this
 * covers (see the module doc). Throws `WireError` on bytes that are not a
 * protobuf message.
 */
export function rewriteKvRows(
  model: Uint8Array,
  attention: "gqa" | "ops" = "gqa",
): Uint8Array | undefined {
  return kvRowsForm(model, attention)?.bytes;
}

/** A decoder rewritten to return new KV rows, and the attention it then runs. */
export interface KvRowsForm {
  /** The rewritten model. */
  bytes: Uint8Array;
  /** `ops`: every GQA written as plain ops; `gqa`: GQA kept, its present sliced. */
  attention: "gqa" | "ops";
  /**
   * Whether activations are quantized with one scale per run (DynamicQuantizeLinear,
   * DynamicQuantizeMatMul): the rows of one run then depend on the other rows in it,
   * so splitting a prompt across runs changes the logits.
   */
  perRunScales: boolean;
}

/** Operators that quantize a whole input with one scale per run. */
const PER_RUN_SCALE_OPS = new Set([
  "DynamicQuantizeLinear@",
  "DynamicQuantizeLinear@ai.onnx",
  "DynamicQuantizeMatMul@com.microsoft",
]);

/**
 * {@linkcode rewriteKvRows}, saying which attention the rewritten graph runs and
 * whether its activations take one scale per run.
 */
export function kvRowsForm(
  model: Uint8Array,
  attention: "gqa" | "ops" = "gqa",
): KvRowsForm | undefined {
  const modelFields = [...fields(model)];
  const graph = modelFields.find((f) => f.field === MODEL.graph && f.wireType === WIRE.bytes);
  // Shape's start/end attributes are opset 15.
  if (!graph || defaultOpset(model, modelFields) < 15) return undefined;
  const graphFields = inner(model, graph);
  const inputs = new Set<string>();
  const presents = new Map<WireField, string>();
  for (const f of graphFields) {
    if (f.field !== GRAPH.input && f.field !== GRAPH.output) continue;
    const nameField = inner(model, f).find((g) => g.field === VALUE_INFO.name);
    const name = nameField ? text(model, nameField) : "";
    if (f.field === GRAPH.input) inputs.add(name);
    else if (PRESENT.test(name)) {
      const dims = shapeDims(model, f);
      if (dims?.length !== 4 || dimParam(model, dims[2]) !== SHARED_KV_AXIS) return undefined;
      presents.set(f, name);
    }
  }
  if (presents.size === 0 || !inputs.has("attention_mask") || !inputs.has("inputs_embeds")) {
    return undefined;
  }
  // Every present must be output 1 or 2 of a GroupQueryAttention node, or the
  // Cast of one (float16 forms run GQA in float32 between Casts).
  const wanted = new Set(presents.values());
  const made = new Map<string, { op: string; index: number; input: string }>();
  const nodes = new Map<WireField, NodeFields>();
  let perRunScales = false;
  for (const f of graphFields) {
    if (f.field !== GRAPH.node) continue;
    const node = readNodeProto(model, f);
    nodes.set(f, node);
    const opName = `${node.opType}@${node.domain}`;
    perRunScales ||= PER_RUN_SCALE_OPS.has(opName);
    node.outputs.forEach((o, index) =>
      made.set(o, { op: opName, index, input: node.inputs[0] ?? "" })
    );
  }
  const fromGqa = (name: string) => {
    const m = made.get(name);
    return m?.op === "GroupQueryAttention@com.microsoft" && (m.index === 1 || m.index === 2);
  };
  for (const name of wanted) {
    const m = made.get(name);
    if (!fromGqa(name) && !(m?.op === "Cast@" && fromGqa(m.input))) return undefined;
  }
  const producers = new Map<WireField, NodeFields>();
  let found = 0;
  for (const [f, node] of nodes) {
    const hits = node.outputs.filter((o) => wanted.has(o)).length;
    if (hits === 0) continue;
    producers.set(f, node);
    found += hits;
  }
  if (found !== wanted.size) return undefined;
  const gqas = attention === "ops" ? opsCovered(producers, wanted) : undefined;

  const full = (name: string) => `${PREFIX}/${name}.full`;
  const g = new MessageWriter();
  const total = `${PREFIX}/total`;
  const rows = `${PREFIX}/rows`;
  const past = `${PREFIX}/past`;
  const lengths = () => {
    g.bytes(GRAPH.node, node("Shape", ["attention_mask"], total, { start: 1, end: 2 }));
    g.bytes(GRAPH.node, node("Shape", ["inputs_embeds"], rows, { start: 1, end: 2 }));
    g.bytes(GRAPH.node, node("Sub", [total, rows], past));
  };
  const patch = new GraphPatch(g, `${PREFIX}/attention`);
  let shared: ReturnType<typeof sharedAttention> | undefined;
  for (const f of graphFields) {
    const gqa = gqas?.get(f);
    if (gqa) {
      // In place of the GQA node, so the graph stays in topological order.
      if (!shared) {
        lengths();
        const heads = gqa.ints.get("num_heads")!;
        const kvHeads = gqa.ints.get("kv_num_heads")!;
        shared = sharedAttention(
          patch,
          gqa.inputs[10],
          { past, total, rows },
          gqa.inputs[3],
          heads,
          kvHeads,
        );
      }
      writeAttention(patch, gqa, shared, [gqa.outputs[1], gqa.outputs[2]]);
    } else if (producers.has(f)) {
      // The GQA node now writes an inner value; the graph output is the slice of it.
      const w = new MessageWriter();
      for (const p of inner(model, f)) {
        const name = p.field === NODE.output ? text(model, p) : "";
        if (p.field === NODE.output && wanted.has(name)) w.bytes(NODE.output, full(name));
        else w.raw(model.subarray(p.start, p.end));
      }
      g.bytes(GRAPH.node, w);
    } else if (presents.has(f)) g.bytes(GRAPH.output, withAxis(model, f, KV_ROWS_AXIS));
    else g.raw(model.subarray(f.start, f.end));
  }
  if (gqas) {
    return { bytes: withGraph(model, modelFields, graph, g), attention: "ops", perRunScales };
  }
  const axis = `${PREFIX}/axis`;
  lengths();
  const two = new Uint8Array(BigInt64Array.of(2n).buffer);
  g.bytes(
    GRAPH.initializer,
    new MessageWriter().varint(TENSOR.dims, 1).varint(TENSOR.dataType, ONNX_TYPE.int64)
      .bytes(TENSOR.name, axis).bytes(TENSOR.rawData, two),
  );
  for (const name of wanted) {
    g.bytes(GRAPH.node, node("Slice", [full(name), past, total, axis], name));
  }
  return { bytes: withGraph(model, modelFields, graph, g), attention: "gqa", perRunScales };
}

function withGraph(
  model: Uint8Array,
  modelFields: WireField[],
  graph: WireField,
  g: MessageWriter,
): Uint8Array {
  const m = new MessageWriter();
  for (const f of modelFields) {
    if (f === graph) m.bytes(MODEL.graph, g);
    else m.raw(model.subarray(f.start, f.end));
  }
  return m.finish();
}

/**
 * The GQA nodes to write as plain ops, by graph field, when every present
 * output comes straight from a covered GQA and all share heads and bias;
 * otherwise undefined (GQA stays).
 */
function opsCovered(
  producers: Map<WireField, NodeFields>,
  wanted: Set<string>,
): Map<WireField, NodeFields> | undefined {
  const gqas = new Map<WireField, NodeFields>();
  for (const [f, node] of producers) {
    if (node.opType !== "GroupQueryAttention" || !coveredGqa(node)) return undefined;
    if (!wanted.has(node.outputs[1]) || !wanted.has(node.outputs[2])) return undefined;
    gqas.set(f, node);
  }
  const [first] = gqas.values();
  const same = [...gqas.values()].every((n) =>
    n.ints.get("num_heads") === first.ints.get("num_heads") &&
    n.ints.get("kv_num_heads") === first.ints.get("kv_num_heads") &&
    n.inputs[10] === first.inputs[10]
  );
  return same && gqas.size * 2 === wanted.size ? gqas : undefined;
}
