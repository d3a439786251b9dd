// The NodeProto reader and writer the graph rewrites share (src/onnx/node_proto.ts): what the
// writer writes reads back, and nodes onnx-proto encodes read as onnx-proto says.
import assert from "node:assert/strict";
import fc from "fast-check";
import onnxProto from "onnx-proto";
import { MessageWriter } from "../../src/onnx/message_writer.ts";
import { nodeProto, readNodeProto } from "../../src/onnx/node_proto.ts";
import { GRAPH } from "../../src/onnx/onnx_fields.ts";
import { fields } from "../../src/onnx/protobuf_wire.ts";

const { onnx } = onnxProto;

/** The node inside a graph's node field, as the rewrites meet it. */
function readBack(node: Uint8Array | MessageWriter) {
  const graph = new MessageWriter().bytes(GRAPH.node, node).finish();
  const [field] = [...fields(graph)];
  return readNodeProto(graph, field);
}

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_./:]{0,12}$/);
const int64 = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const float32 = fc.float({ noNaN: true }).map(Math.fround);

Deno.test("node proto: what nodeProto writes, readNodeProto reads", () => {
  fc.assert(fc.property(
    identifier,
    fc.array(fc.oneof(identifier, fc.constant("")), { maxLength: 11 }),
    fc.array(identifier, { minLength: 1, maxLength: 3 }),
    fc.option(identifier, { nil: undefined }),
    fc.dictionary(identifier, int64, { maxKeys: 4 }),
    fc.dictionary(identifier, float32, { maxKeys: 3 }),
    (opType, inputs, outputs, domain, ints, floats) => {
      // One attribute per name, as in a valid node.
      for (const key of Object.keys(floats)) delete ints[key];
      const node = readBack(nodeProto(opType, inputs, outputs, { domain, ints, floats }));
      assert.equal(node.opType, opType);
      assert.equal(node.domain, domain ?? "");
      assert.equal(node.name, outputs[0]);
      assert.deepEqual(node.inputs, inputs);
      assert.deepEqual(node.outputs, outputs);
      assert.deepEqual(node.ints, new Map(Object.entries(ints)));
      assert.deepEqual(node.floats, new Map(Object.entries(floats)));
      assert.equal(node.hasSubgraph, false);
    },
  ));
});

Deno.test("node proto: nodes onnx-proto encodes read as it says", () => {
  const T = onnx.AttributeProto.AttributeType;
  fc.assert(fc.property(
    identifier,
    fc.array(identifier, { maxLength: 4 }),
    fc.array(identifier, { maxLength: 3 }),
    fc.dictionary(identifier, int64, { maxKeys: 3 }),
    fc.dictionary(identifier, float32, { maxKeys: 3 }),
    fc.boolean(),
    (opType, input, output, ints, floats, subgraph) => {
      for (const key of Object.keys(floats)) delete ints[key];
      const attribute = [
        ...Object.entries(ints).map(([name, i]) => ({ name, i, type: T.INT })),
        ...Object.entries(floats).map(([name, f]) => ({ name, f, type: T.FLOAT })),
        { name: "perm", ints: [0, 2, 1, 3], type: T.INTS },
        ...(subgraph ? [{ name: "then_branch", g: { name: "g" }, type: T.GRAPH }] : []),
      ];
      const bytes = onnx.NodeProto.encode({
        opType,
        input,
        output,
        name: "n",
        domain: "com.microsoft",
        attribute,
      }).finish();
      const node = readBack(bytes);
      assert.equal(node.opType, opType);
      assert.equal(node.name, "n");
      assert.equal(node.domain, "com.microsoft");
      assert.deepEqual(node.inputs, input);
      assert.deepEqual(node.outputs, output);
      // Negative ints are ten-byte two's-complement varints (e.g. local_window_size = -1).
      assert.deepEqual(node.ints, new Map(Object.entries(ints)));
      assert.deepEqual(node.floats, new Map(Object.entries(floats)));
      assert.equal(node.hasSubgraph, subgraph);
    },
  ));
});
