/**
 * A builder decoder's GroupQueryAttention written as plain ops, for the
 * KV-rows form (see `kv_rows_rewrite.ts`), where the past is the caller's
 * capacity buffer. Fed a past that is not its present buffer, ONNX Runtime's
 * CPU GQA zeroes a present of the buffer's capacity per layer, copies each KV
 * head's past into it once per query head, then attends head by head: at 512
 * tokens that is 40% of an int8 or q4 step on native
 * (`tools/bench/decode_profile.ts`), and its prompt path runs at a third of
 * these ops' speed on wasm. Here q and k are rotated by one node, every head
 * is moved by one Transpose, the buffer and the new rows are joined once, the
 * query heads of a KV head's group are the rows of one matmul over them, and
 * the bias masks the buffer's rows past the valid length. The new rows,
 * rotated, are the present outputs as they are. Measured on native: decode
 * 25–30% faster at 512 tokens and level at 64, a 512-token prefill 7–9%
 * slower (the mask and softmax cover whole rows, GQA's only the causal part).
 *
 * Covered: packed QKV, `do_rotary` (not interleaved), an `attention_bias`,
 * no local window, softcap or smooth softmax, float32 cache. Anything else
 * keeps GQA.
 *
 * @module
 */
import { MessageWriter } from "../onnx/message_writer.ts";
import { type NodeFields, type NodeOptions, nodeProto } from "../onnx/node_proto.ts";
import { GRAPH, ONNX_TYPE, TENSOR } from "../onnx/onnx_fields.ts";
/** The additive mask value of the builder's bias (−FLT_MAX). */
const MASKED = -3.4028234663852886e38;

/**
 * Whether `node`, a GroupQueryAttention read from the graph (outputs: context,
 * present key, present value), is one this module can write as plain ops.
 */
export function coveredGqa(node: NodeFields): boolean {
  const { inputs } = node;
  const int = (name: string) => node.ints.get(name);
  const heads = int("num_heads") ?? 0;
  const kvHeads = int("kv_num_heads") ?? 0;
  return heads > 0 && kvHeads > 0 && heads % kvHeads === 0 &&
    !inputs[1] && !inputs[2] && !!inputs[3] && !!inputs[4] &&
    !!inputs[7] && !!inputs[8] && !!inputs[9] && !!inputs[10] &&
    int("do_rotary") === 1 && !int("rotary_interleaved") &&
    (int("local_window_size") ?? -1) === -1 && !node.floats.get("softcap") &&
    !int("smooth_softmax") && (node.floats.get("scale") ?? 0) > 0 &&
    node.outputs.length === 3 && node.outputs.every((o) => o !== "");
}

/** Writes nodes and initializers into a graph under a name prefix. */
export class GraphPatch {
  readonly #graph: MessageWriter;
  readonly #prefix: string;
  #count = 0;

  /** Writes into `graph`; every name starts with `prefix`. */
  constructor(graph: MessageWriter, prefix: string) {
    this.#graph = graph;
    this.#prefix = prefix;
  }

  /** A fresh value name. */
  name(hint: string): string {
    return `${this.#prefix}/${hint}_${this.#count++}`;
  }

  /** A node; returns its (single or first) output. */
  node(
    opType: string,
    inputs: string[],
    options: Omit<NodeOptions, "name"> & { outputs?: string[] } = {},
  ): string {
    const { outputs = [this.name(opType)], ...parts } = options;
    this.#graph.bytes(GRAPH.node, nodeProto(opType, inputs, outputs, parts));
    return outputs[0];
  }

  /** An int64 vector initializer. */
  ints(values: number[]): string {
    const name = this.name("ints");
    const w = new MessageWriter().varint(TENSOR.dims, values.length)
      .varint(TENSOR.dataType, ONNX_TYPE.int64).bytes(TENSOR.name, name)
      .bytes(TENSOR.rawData, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer));
    this.#graph.bytes(GRAPH.initializer, w);
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(value: number): string {
    const name = this.name("scalar");
    const w = new MessageWriter().varint(TENSOR.dataType, ONNX_TYPE.float32)
      .bytes(TENSOR.name, name).bytes(
        TENSOR.rawData,
        new Uint8Array(Float32Array.of(value).buffer),
      );
    this.#graph.bytes(GRAPH.initializer, w);
    return name;
  }
}

/** Values every layer's attention shares: the bias over buffer and new rows, and shapes. */
export interface SharedAttention {
  /** Query heads of every layer. */
  heads: number;
  /** KV heads of every layer. */
  kvHeads: number;
  /** [2]: the packed projection's split, (heads + kv)·hd then kv·hd. */
  qkSplit: string;
  /** [4]: [B, kv, G·S, hd] as a Reshape target. */
  queryShape: string;
  /** [4]: [B, h, S, hd] as a Reshape target. */
  headsShape: string;
  /**
   * [B, 1, G·S, capacity + S]: the bias of the buffer's columns (its rows past
   * the valid length masked), then of the new rows', repeated per query head
   * of a group.
   */
  bias: string;
}

/**
 * The shared values for GQAs of `heads` query heads over `kvHeads` KV heads
 * reading `bias` [B, 1, S, T], with `past` ([1]: T − S), `total` ([1]: T),
 * `rows` ([1]: S) and `pastKey` (any layer's past buffer, for its capacity
 * and head size).
 */
export function sharedAttention(
  p: GraphPatch,
  bias: string,
  lengths: { past: string; total: string; rows: string },
  pastKey: string,
  heads: number,
  kvHeads: number,
): SharedAttention {
  const group = heads / kvHeads;
  const capacity = p.node("Shape", [pastKey], { ints: { start: 2, end: 3 } });
  const headDim = p.node("Shape", [pastKey], { ints: { start: 3, end: 4 } });
  const axis0 = { ints: { axis: 0 } };
  const three = p.ints([3]);
  const pastPart = p.node("Slice", [bias, p.ints([0]), lengths.past, three]);
  const pads = p.node(
    "Concat",
    [p.ints([0, 0, 0, 0, 0, 0, 0]), p.node("Sub", [capacity, lengths.past])],
    axis0,
  );
  const padded = p.node("Pad", [pastPart, pads, p.scalar(MASKED)]);
  const newPart = p.node("Slice", [bias, lengths.past, lengths.total, three]);
  // Rows of a group's matmul are (query head in the group, position): the bias repeats per head.
  const repeats = p.ints([1, 1, group, 1]);
  return {
    bias: p.node("Tile", [p.node("Concat", [padded, newPart], { ints: { axis: 3 } }), repeats]),
    heads,
    kvHeads,
    qkSplit: p.node("Mul", [headDim, p.ints([heads + kvHeads, kvHeads])]),
    queryShape: p.node("Concat", [p.ints([0, kvHeads, -1]), headDim], axis0),
    headsShape: p.node("Concat", [p.ints([0, heads, -1]), headDim], axis0),
  };
}

/**
 * Writes `node` as plain ops: its context output keeps its name, and its
 * present outputs are the step's new rows [B, kv, S, hd] under `rowNames`.
 */
export function writeAttention(
  p: GraphPatch,
  node: NodeFields,
  shared: SharedAttention,
  rowNames: [string, string],
): void {
  const { heads, kvHeads } = shared;
  const [packed, , , pastKey, pastValue, , , cos, sin, positions] = node.inputs;
  // q and k are adjacent in the packed projection: one rotation over their heads, then all
  // heads moved before the positions in one Transpose. Nodes are few on purpose: at short
  // context a decode step's cost is mostly their dispatch.
  const [qk, v] = [p.name("qk"), p.name("v")];
  p.node("Split", [packed, shared.qkSplit], { outputs: [qk, v], ints: { axis: -1 } });
  const rotated = p.node("RotaryEmbedding", [qk, positions, cos, sin], {
    ints: { num_heads: heads + kvHeads },
    domain: "com.microsoft",
  });
  // [B, S, (h + 2kv)·hd] → [B, h + 2kv, S, hd].
  const headsFirst = p.node("Transpose", [
    p.node("Reshape", [
      p.node("Concat", [rotated, v], { ints: { axis: -1 } }),
      p.ints([0, 0, heads + 2 * kvHeads, -1]),
    ]),
  ], { lists: { perm: [0, 2, 1, 3] } });
  const q = p.name("q");
  p.node("Split", [headsFirst, p.ints([heads, kvHeads, kvHeads])], {
    outputs: [q, ...rowNames],
    ints: { axis: 1 },
  });
  const [newKey, newValue] = rowNames;
  // [B, h, S, hd] → [B, kv, G·S, hd]: query head kv·G + g, so a group's heads are the rows of
  // one matmul.
  const query = p.node("Reshape", [q, shared.queryShape]);
  const scores = p.node("FusedMatMul", [
    query,
    p.node("Concat", [pastKey, newKey], { ints: { axis: 2 } }),
  ], {
    ints: { transB: 1 },
    floats: { alpha: node.floats.get("scale")! },
    domain: "com.microsoft",
  });
  // The bias masks the buffer's rows past the valid length.
  const probs = p.node("Softmax", [p.node("Add", [scores, shared.bias])], { ints: { axis: -1 } });
  const mixed = p.node("MatMul", [
    probs,
    p.node("Concat", [pastValue, newValue], { ints: { axis: 2 } }),
  ]);
  // [B, kv, G·S, hd] → [B, h, S, hd] → [B, S, h, hd] → [B, S, h·hd].
  const perPosition = p.node("Transpose", [p.node("Reshape", [mixed, shared.headsShape])], {
    lists: { perm: [0, 2, 1, 3] },
  });
  p.node("Reshape", [perPosition, p.ints([0, 0, -1])], { outputs: [node.outputs[0]] });
}
