/**
 * The field numbers of the ONNX messages the runtime reads and writes on the
 * wire (from onnx.proto), and the enum values it uses: one table for the
 * outline reader and the graph rewrites.
 *
 * @module
 */

/** ModelProto fields. */
export const MODEL = { graph: 7, opsetImport: 8 } as const;

/** OperatorSetIdProto fields. */
export const OPSET = { domain: 1, version: 2 } as const;

/** GraphProto fields. */
export const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;

/** ValueInfoProto fields. */
export const VALUE_INFO = { name: 1 } as const;

/** NodeProto fields. */
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;

/** AttributeProto fields. */
export const ATTRIBUTE = { name: 1, i: 3, g: 6, ints: 8, graphs: 11, type: 20 } as const;

/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPE = { int: 2 } as const;

/** TensorProto fields. */
export const TENSOR = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int32Data: 5,
  stringData: 6,
  int64Data: 7,
  name: 8,
  rawData: 9,
  doubleData: 10,
  uint64Data: 11,
  externalData: 13,
  dataLocation: 14,
} as const;

/** TensorProto.DataLocation values. */
export const DATA_LOCATION = { external: 1 } as const;

/** StringStringEntryProto fields (a tensor's external data entries). */
export const ENTRY = { key: 1, value: 2 } as const;

/** ONNX element types the runtime reads or writes (TensorProto.DataType). */
export const ONNX_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int64: 7,
  float16: 10,
  uint4: 21,
  int4: 22,
} as const;
