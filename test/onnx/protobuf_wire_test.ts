// The protobuf wire codec under src/onnx/: fields written by MessageWriter are read back
// by both walkers (over bytes in memory, and over bytes read at positions), the two walkers
// agree field for field (and on which bytes are malformed), onnx-proto reads what is written
// and is read, and the ONNX field-number table matches onnx-proto's encoding.
import assert from "node:assert/strict";
import fc from "fast-check";
import onnxProto from "onnx-proto";
import { MessageWriter } from "../../src/onnx/message_writer.ts";
import {
  ATTRIBUTE,
  DATA_LOCATION,
  ENTRY,
  GRAPH,
  MODEL,
  NODE,
  ONNX_TYPE,
  OPSET,
  TENSOR,
  VALUE_INFO,
} from "../../src/onnx/onnx_fields.ts";
import {
  fields,
  readVarint,
  text,
  varints,
  WIRE,
  WireError,
  type WireField,
} from "../../src/onnx/protobuf_wire.ts";
import { type ByteSource, memorySource, WireReader } from "../../src/onnx/wire_reader.ts";

const { onnx } = onnxProto;

/** A field to write: a varint, bytes, or a nested message of such fields. */
type Spec =
  | { kind: "varint"; field: number; value: bigint }
  | { kind: "bytes"; field: number; value: Uint8Array }
  | { kind: "message"; field: number; value: Spec[] };

const fieldNumber = fc.integer({ min: 1, max: (1 << 29) - 1 });
const flat: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    kind: fc.constant("varint" as const),
    field: fieldNumber,
    value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }),
  fc.record({
    kind: fc.constant("bytes" as const),
    field: fieldNumber,
    value: fc.uint8Array({ maxLength: 300 }),
  }),
);
const spec: fc.Arbitrary<Spec> = fc.oneof(
  flat,
  fc.record({
    kind: fc.constant("message" as const),
    field: fieldNumber,
    value: fc.array(flat, { maxLength: 6 }),
  }),
);

function write(list: Spec[]): MessageWriter {
  const w = new MessageWriter();
  for (const f of list) {
    if (f.kind === "varint") w.varint(f.field, f.value);
    else if (f.kind === "bytes") w.bytes(f.field, f.value);
    else w.bytes(f.field, write(f.value));
  }
  return w;
}

/** The fields the positioned-read walker finds, or the WireError it throws. */
function walkSource(source: ByteSource, start = 0, end = source.size): WireField[] | WireError {
  try {
    const r = new WireReader(source, start, end);
    const out: WireField[] = [];
    for (let f = r.next(); f; f = r.next()) out.push(f);
    return out;
  } catch (error) {
    if (error instanceof WireError) return error;
    throw error;
  }
}

/** The fields the in-memory walker finds, or the WireError it throws. */
function walkBytes(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] | WireError {
  try {
    return [...fields(bytes, start, end)];
  } catch (error) {
    if (error instanceof WireError) return error;
    throw error;
  }
}

/** A source that serves each read from its own fresh buffer and counts the bytes read. */
function countingSource(bytes: Uint8Array): ByteSource & { readBytes: number } {
  const source = {
    size: bytes.length,
    readBytes: 0,
    read(position: number, length: number) {
      source.readBytes += length;
      return bytes.slice(position, position + length);
    },
  };
  return source;
}

Deno.test("protobuf wire: fields written are read back by both walkers, nested ones too", () => {
  fc.assert(fc.property(fc.array(spec, { maxLength: 12 }), (list) => {
    const bytes = write(list).finish();
    const source = memorySource(bytes);
    const check = (specs: Spec[], start: number, end: number) => {
      const read = walkBytes(bytes, start, end);
      assert.ok(!(read instanceof WireError), String(read));
      assert.equal(read.length, specs.length);
      read.forEach((r, i) => {
        const f = specs[i];
        assert.equal(r.field, f.field);
        if (f.kind === "varint") {
          assert.equal(r.wireType, WIRE.varint);
          assert.equal(r.varint, f.value);
        } else {
          assert.equal(r.wireType, WIRE.bytes);
          if (f.kind === "bytes") {
            assert.deepEqual(bytes.subarray(r.valueStart, r.valueEnd), f.value);
          } else check(f.value, r.valueStart, r.valueEnd);
        }
      });
      // The positioned-read walker finds the same fields at the same positions.
      assert.deepEqual(walkSource(source, start, end), read);
    };
    check(list, 0, bytes.length);
  }));
});

Deno.test("protobuf wire: a lazily filled field lands in the finished message", () => {
  const lazy = new MessageWriter().varint(1, 5).lazyBytes(2, 3, (out) => out.set([7, 8, 9]));
  const bytes = lazy.finish();
  const [, filled] = [...fields(bytes)];
  assert.deepEqual(bytes.subarray(filled.valueStart, filled.valueEnd), Uint8Array.of(7, 8, 9));
  const reader = new WireReader(memorySource(bytes));
  reader.next();
  assert.deepEqual(reader.bytes(reader.next()!), Uint8Array.of(7, 8, 9));
});

Deno.test("protobuf wire: packed and unpacked repeated varints read the same values", () => {
  fc.assert(fc.property(
    fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }),
    (values) => {
      // Unpacked: one field a value.
      const w = new MessageWriter();
      for (const v of values) w.varint(1, v);
      const unpacked = w.finish();
      const each = [...fields(unpacked)];
      assert.deepEqual(each.flatMap((f) => varints(unpacked, f)), values);
      // Packed: the same varints, without their tags, in one length-delimited field.
      const run = new Uint8Array(each.reduce((n, f) => n + f.valueEnd - f.valueStart, 0));
      let at = 0;
      for (const f of each) {
        run.set(unpacked.subarray(f.valueStart, f.valueEnd), at);
        at += f.valueEnd - f.valueStart;
      }
      const packed = new MessageWriter().bytes(3, run).finish();
      const [f] = fields(packed);
      assert.deepEqual(varints(packed, f), values);
      const reader = new WireReader(memorySource(packed));
      assert.deepEqual(reader.varints(reader.next()!), values);
    },
  ));
  assert.deepEqual(readVarint(Uint8Array.of(0xac, 0x02), 0), [300n, 2]);
});

Deno.test("protobuf wire: both walkers agree on cut and corrupted bytes", () => {
  fc.assert(fc.property(
    fc.array(spec, { minLength: 1, maxLength: 8 }),
    fc.nat(),
    fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))),
    (list, cutAt, flip) => {
      const whole = write(list).finish();
      const bytes = whole.slice(0, cutAt % (whole.length + 1));
      if (flip && bytes.length > 0) bytes[flip[0] % bytes.length] = flip[1];
      const inMemory = walkBytes(bytes);
      const positioned = walkSource(memorySource(bytes));
      if (inMemory instanceof WireError) assert.ok(positioned instanceof WireError);
      else assert.deepEqual(positioned, inMemory);
    },
  ));
  // A cut inside a field is an error, not a shorter message.
  const bytes = new MessageWriter().varint(1, 300).bytes(2, "abc").finish();
  for (let cut = 1; cut < bytes.length; cut++) {
    if (cut === 3) continue; // between the two fields
    assert.throws(() => [...fields(bytes.subarray(0, cut))], WireError);
    assert.ok(walkSource(memorySource(bytes.subarray(0, cut))) instanceof WireError, `cut ${cut}`);
  }
  assert.throws(() => [...fields(Uint8Array.of(0x08, 0x80))], WireError); // varint runs out
  assert.throws(() => [...fields(Uint8Array.of(0x00, 0x00))], WireError); // field number 0
  assert.throws(() => [...fields(Uint8Array.of(0x0b))], WireError); // group wire type
  assert.throws(
    () => [...fields(new Uint8Array([0x08, ...new Array(10).fill(0xff), 1]))],
    WireError,
  );
});

Deno.test("protobuf wire: headers across the read window, and a large field is located, not read", () => {
  const window = 64 * 1024;
  fc.assert(
    fc.property(
      fc.integer({ min: window - 40, max: window + 4 }),
      fc.array(flat, { minLength: 1, maxLength: 6 }),
      (padding, rest) => {
        const bytes = write([{ kind: "bytes", field: 1, value: new Uint8Array(padding) }, ...rest])
          .finish();
        const source = countingSource(bytes);
        assert.deepEqual(walkSource(source), walkBytes(bytes));
      },
    ),
    { numRuns: 60 },
  );
  // A 1 MB field between two small ones: the walk reads its header and what follows only.
  const big = 1 << 20;
  const bytes = new MessageWriter().bytes(8, "name").lazyBytes(9, big, (out) => out.fill(1))
    .varint(2, ONNX_TYPE.float32).finish();
  const source = countingSource(bytes);
  const read = walkSource(source);
  assert.ok(!(read instanceof WireError));
  assert.deepEqual(read.map((f) => f.field), [8, 9, 2]);
  assert.equal(read[1].valueEnd - read[1].valueStart, big);
  assert.ok(source.readBytes < 2 * window, `${source.readBytes} bytes read`);
});

Deno.test("protobuf wire: onnx-proto reads what is written, and what it writes is read", () => {
  fc.assert(fc.property(
    fc.string(),
    fc.array(fc.integer({ min: 0, max: 1 << 30 }), { maxLength: 4 }),
    fc.uint8Array({ maxLength: 64 }),
    (name, dims, raw) => {
      const w = new MessageWriter();
      for (const d of dims) w.varint(TENSOR.dims, d);
      const bytes = w.varint(TENSOR.dataType, ONNX_TYPE.int8).bytes(TENSOR.name, name)
        .bytes(TENSOR.rawData, raw).finish();
      const t = onnx.TensorProto.decode(bytes);
      assert.equal(t.name, name);
      assert.deepEqual(t.dims.map(Number), dims);
      assert.equal(t.dataType, ONNX_TYPE.int8);
      assert.deepEqual(new Uint8Array(t.rawData), raw);
      const back = onnx.TensorProto.encode(t).finish();
      const named = [...fields(back)].find((f) => f.field === TENSOR.name);
      assert.equal(named ? text(back, named) : "", name);
      const reader = new WireReader(memorySource(back));
      const found: Record<number, WireField> = {};
      for (let f = reader.next(); f; f = reader.next()) found[f.field] = f;
      if (name) assert.equal(reader.string(found[TENSOR.name]), name);
      if (dims.length) assert.deepEqual(reader.varints(found[TENSOR.dims]).map(Number), dims);
    },
  ));
});

/** The numbers of the top-level fields of an encoded message. */
function numbers(encoded: Uint8Array): number[] {
  return [...fields(encoded)].map((f) => f.field);
}

Deno.test("onnx fields: the table matches onnx-proto's field numbers", () => {
  const e = (m: { finish(): Uint8Array }) => m.finish();
  assert.deepEqual(numbers(e(onnx.ModelProto.encode({ graph: {} }))), [MODEL.graph]);
  assert.deepEqual(
    numbers(e(onnx.ModelProto.encode({ opsetImport: [{ domain: "", version: 17 }] }))),
    [MODEL.opsetImport],
  );
  assert.deepEqual(
    numbers(e(onnx.OperatorSetIdProto.encode({ domain: "d", version: 17 }))).sort(),
    [OPSET.domain, OPSET.version].sort(),
  );
  assert.deepEqual(numbers(e(onnx.GraphProto.encode({ node: [{}] }))), [GRAPH.node]);
  assert.deepEqual(numbers(e(onnx.GraphProto.encode({ initializer: [{}] }))), [GRAPH.initializer]);
  assert.deepEqual(numbers(e(onnx.GraphProto.encode({ input: [{}] }))), [GRAPH.input]);
  assert.deepEqual(numbers(e(onnx.GraphProto.encode({ output: [{}] }))), [GRAPH.output]);
  assert.deepEqual(numbers(e(onnx.ValueInfoProto.encode({ name: "x" }))), [VALUE_INFO.name]);
  const node = (o: Record<string, unknown>) => numbers(e(onnx.NodeProto.encode(o)));
  assert.deepEqual(node({ input: ["a"] }), [NODE.input]);
  assert.deepEqual(node({ output: ["a"] }), [NODE.output]);
  assert.deepEqual(node({ name: "a" }), [NODE.name]);
  assert.deepEqual(node({ opType: "a" }), [NODE.opType]);
  assert.deepEqual(node({ attribute: [{}] }), [NODE.attribute]);
  assert.deepEqual(node({ domain: "a" }), [NODE.domain]);
  const attribute = (o: Record<string, unknown>) => numbers(e(onnx.AttributeProto.encode(o)));
  assert.deepEqual(attribute({ name: "a" }), [ATTRIBUTE.name]);
  assert.deepEqual(attribute({ i: 3 }), [ATTRIBUTE.i]);
  assert.deepEqual(attribute({ g: {} }), [ATTRIBUTE.g]);
  assert.deepEqual(attribute({ ints: [1, 2] }), [ATTRIBUTE.ints]);
  assert.deepEqual(attribute({ graphs: [{}] }), [ATTRIBUTE.graphs]);
  assert.deepEqual(attribute({ type: onnx.AttributeProto.AttributeType.INT }), [ATTRIBUTE.type]);
  const tensor = (o: Record<string, unknown>) => numbers(e(onnx.TensorProto.encode(o)));
  assert.deepEqual(tensor({ dims: [2] }), [TENSOR.dims]);
  assert.deepEqual(tensor({ dataType: 1 }), [TENSOR.dataType]);
  assert.deepEqual(tensor({ floatData: [1] }), [TENSOR.floatData]);
  assert.deepEqual(tensor({ int32Data: [1] }), [TENSOR.int32Data]);
  assert.deepEqual(tensor({ stringData: [Uint8Array.of(1)] }), [TENSOR.stringData]);
  assert.deepEqual(tensor({ int64Data: [1] }), [TENSOR.int64Data]);
  assert.deepEqual(tensor({ name: "t" }), [TENSOR.name]);
  assert.deepEqual(tensor({ rawData: Uint8Array.of(1) }), [TENSOR.rawData]);
  assert.deepEqual(tensor({ doubleData: [1] }), [TENSOR.doubleData]);
  assert.deepEqual(tensor({ uint64Data: [1] }), [TENSOR.uint64Data]);
  assert.deepEqual(tensor({ externalData: [{}] }), [TENSOR.externalData]);
  assert.deepEqual(tensor({ dataLocation: 1 }), [TENSOR.dataLocation]);
  assert.equal(onnx.TensorProto.DataLocation.EXTERNAL, DATA_LOCATION.external);
  assert.deepEqual(
    numbers(e(onnx.StringStringEntryProto.encode({ key: "k", value: "v" }))),
    [ENTRY.key, ENTRY.value],
  );
  // onnx-proto 8 predates uint4 and int4 (21 and 22 since ONNX 1.16).
  const T = onnx.TensorProto.DataType;
  const { float32, uint8, int8, int64, float16 } = ONNX_TYPE;
  assert.deepEqual([float32, uint8, int8, int64, float16], [
    T.FLOAT,
    T.UINT8,
    T.INT8,
    T.INT64,
    T.FLOAT16,
  ]);
});
