/**
 * One ONNX NodeProto written on the wire, for the graph rewrites that edit a
 * model's bytes without decoding it: inputs, outputs, name, op type, domain,
 * then the attributes (ints, int lists, floats).
 *
 * @module
 */
import { MessageWriter } from "./message_writer.ts";
import { ATTRIBUTE, ATTRIBUTE_TYPE, NODE } from "./onnx_fields.ts";
import { WIRE } from "./protobuf_wire.ts";

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
