/**
 * One ONNX NodeProto on the wire, read and written, for the graph rewrites
 * that edit a model's bytes without decoding it: inputs, outputs, name, op
 * type, domain, and the scalar and list attributes they use.
 *
 * @module
 */
import { MessageWriter } from "./message_writer.ts";
import { ATTRIBUTE, ATTRIBUTE_TYPE, NODE } from "./onnx_fields.ts";
import { fields, text, WIRE, type WireField } from "./protobuf_wire.ts";

/** The tag of AttributeProto.f, a float on the wire as fixed32 (MessageWriter has no float). */
const FLOAT_TAG = (ATTRIBUTE.f << 3) | WIRE.fixed32;

/** A node's optional parts. */
export interface NodeOptions {
  /** The node's name (default: its first output). */
  name?: string;
  /** The operator's domain (default: the standard one). */
  domain?: string;
  /** Integer attributes. */
  ints?: Record<string, number>;
  /** Integer-list attributes. */
  lists?: Record<string, number[]>;
  /** Float attributes. */
  floats?: Record<string, number>;
}

/** The NodeProto message (not wrapped in a graph field). */
export function nodeProto(
  opType: string,
  inputs: string[],
  outputs: string[],
  options: NodeOptions = {},
): MessageWriter {
  const w = new MessageWriter();
  for (const i of inputs) w.bytes(NODE.input, i);
  for (const o of outputs) w.bytes(NODE.output, o);
  w.bytes(NODE.name, options.name ?? outputs[0]).bytes(NODE.opType, opType);
  if (options.domain) w.bytes(NODE.domain, options.domain);
  for (const [key, value] of Object.entries(options.ints ?? {})) {
    const attribute = new MessageWriter().bytes(ATTRIBUTE.name, key).varint(ATTRIBUTE.i, value);
    w.bytes(NODE.attribute, attribute.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.int));
  }
  for (const [key, values] of Object.entries(options.lists ?? {})) {
    const attribute = new MessageWriter().bytes(ATTRIBUTE.name, key);
    for (const v of values) attribute.varint(ATTRIBUTE.ints, v);
    w.bytes(NODE.attribute, attribute.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints));
  }
  for (const [key, value] of Object.entries(options.floats ?? {})) {
    const bits = new Uint8Array(Float32Array.of(value).buffer);
    const attribute = new MessageWriter().bytes(ATTRIBUTE.name, key)
      .raw(Uint8Array.of(FLOAT_TAG, ...bits));
    w.bytes(NODE.attribute, attribute.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.float));
  }
  return w;
}

/** A NodeProto as read from a model's bytes. */
export interface NodeFields {
  /** The node's name ("" when it has none). */
  name: string;
  /** The operator. */
  opType: string;
  /** The operator's domain ("" for the standard one). */
  domain: string;
  /** Inputs by position ("" for an absent optional input). */
  inputs: string[];
  /** Outputs by position. */
  outputs: string[];
  /** Integer attributes. */
  ints: Map<string, number>;
  /** Float attributes. */
  floats: Map<string, number>;
  /** Whether an attribute holds a subgraph (`g` or `graphs`). */
  hasSubgraph: boolean;
}

/** Reads the NodeProto `node` (a graph's node field) of `bytes`. */
export function readNodeProto(bytes: Uint8Array, node: WireField): NodeFields {
  const out: NodeFields = {
    name: "",
    opType: "",
    domain: "",
    inputs: [],
    outputs: [],
    ints: new Map(),
    floats: new Map(),
    hasSubgraph: false,
  };
  for (const g of fields(bytes, node.valueStart, node.valueEnd)) {
    if (g.field === NODE.input) out.inputs.push(text(bytes, g));
    else if (g.field === NODE.output) out.outputs.push(text(bytes, g));
    else if (g.field === NODE.name) out.name = text(bytes, g);
    else if (g.field === NODE.opType) out.opType = text(bytes, g);
    else if (g.field === NODE.domain) out.domain = text(bytes, g);
    else if (g.field === NODE.attribute) {
      let name = "";
      let int: number | undefined;
      let float: number | undefined;
      for (const a of fields(bytes, g.valueStart, g.valueEnd)) {
        if (a.field === ATTRIBUTE.name) name = text(bytes, a);
        else if (a.field === ATTRIBUTE.i && a.wireType === WIRE.varint) int = Number(a.varint);
        else if (a.field === ATTRIBUTE.f && a.wireType === WIRE.fixed32) {
          float = new DataView(bytes.buffer, bytes.byteOffset + a.valueStart, 4).getFloat32(
            0,
            true,
          );
        } else if (a.field === ATTRIBUTE.g || a.field === ATTRIBUTE.graphs) out.hasSubgraph = true;
      }
      if (int !== undefined) out.ints.set(name, int);
      if (float !== undefined) out.floats.set(name, float);
    }
  }
  return out;
}
