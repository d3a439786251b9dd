/**
 * The field numbers of the ONNX messages the runtime reads and writes on the
 * wire (from onnx.proto), and the enum values it uses: one table for the
 * outline reader and the graph rewrites. They are TypeScript enums so the
 * bundler inlines each number where it is used (an object's keys would ship).
 *
 * @module
 */

/** ModelProto fields. */
export enum MODEL {
  graph = 7,
  opsetImport = 8,
}

/** OperatorSetIdProto fields. */
export enum OPSET {
  domain = 1,
  version = 2,
}

/** GraphProto fields. */
export enum GRAPH {
  node = 1,
  initializer = 5,
  input = 11,
  output = 12,
}

/** ValueInfoProto fields. */
export enum VALUE_INFO {
  name = 1,
  type = 2,
}

/** TypeProto fields. */
export enum TYPE_PROTO {
  tensorType = 1,
}

/** TypeProto.Tensor fields. */
export enum TENSOR_TYPE {
  shape = 2,
}

/** TensorShapeProto fields. */
export enum SHAPE {
  dim = 1,
}

/** TensorShapeProto.Dimension fields. */
export enum DIMENSION {
  dimParam = 2,
}

/** NodeProto fields. */
export enum NODE {
  input = 1,
  output = 2,
  name = 3,
  opType = 4,
  attribute = 5,
  domain = 7,
}

/** AttributeProto fields. */
export enum ATTRIBUTE {
  name = 1,
  f = 2,
  i = 3,
  g = 6,
  ints = 8,
  graphs = 11,
  type = 20,
}

/** AttributeProto.AttributeType values. */
export enum ATTRIBUTE_TYPE {
  float = 1,
  int = 2,
  ints = 7,
}

/** TensorProto fields. */
export enum TENSOR {
  dims = 1,
  dataType = 2,
  floatData = 4,
  int32Data = 5,
  stringData = 6,
  int64Data = 7,
  name = 8,
  rawData = 9,
  doubleData = 10,
  uint64Data = 11,
  externalData = 13,
  dataLocation = 14,
}

/** TensorProto.DataLocation values. */
export enum DATA_LOCATION {
  external = 1,
}

/** StringStringEntryProto fields (a tensor's external data entries). */
export enum ENTRY {
  key = 1,
  value = 2,
}

/** ONNX element types the runtime reads or writes (TensorProto.DataType). */
export enum ONNX_TYPE {
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  int64 = 7,
  float16 = 10,
  uint4 = 21,
  int4 = 22,
}
