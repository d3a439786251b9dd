/**
 * Reads an ONNX file's interface without running it: inputs and outputs with
 * element types and dims, opsets, operator counts, stored bytes and the
 * builder's metadata. Works on any export (weights may be external).
 *
 * @module
 */
import type { TensorInfo } from "../runtime/session_contract.ts";
import { decodeModel } from "./onnx_file.ts";

/** ONNX `TensorProto.DataType` names, as ONNX Runtime reports them. */
const TYPE_NAMES: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  16: "bfloat16",
};

/** What {@linkcode inspectOnnx} reports for one file. */
export interface OnnxInterface {
  /** Graph inputs (initializers excluded). */
  inputs: TensorInfo[];
  /** Graph outputs. */
  outputs: TensorInfo[];
  /** Imported opsets, `domain@version` (`ai.onnx` for the standard domain). */
  opsets: string[];
  /** Node count per operator type (domain-qualified when not standard). */
  operators: Record<string, number>;
  /** Tensor bytes stored inside the file. */
  inlineBytes: number;
  /** Tensor bytes kept in external data files. */
  externalBytes: number;
  /** Key/value metadata (the builder records variant, seed, dtype, parameters). */
  metadata: Record<string, string>;
}

type ValueInfo = {
  name?: string | null;
  type?: {
    tensorType?: { elemType?: number | null; shape?: { dim?: unknown[] | null } | null } | null;
  } | null;
};

function tensorInfo(value: ValueInfo): TensorInfo {
  const tensor = value.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d) => {
    const dim = d as {
      dimValue?: number | { toNumber(): number } | null;
      dimParam?: string | null;
    };
    if (dim.dimParam) return dim.dimParam;
    const v = dim.dimValue;
    if (v === null || v === undefined) return "?";
    return typeof v === "number" ? v : v.toNumber();
  });
  const type = tensor
    ? TYPE_NAMES[tensor.elemType ?? 0] ?? `type ${tensor.elemType}`
    : "non-tensor";
  return { name: value.name ?? "", type, dims };
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}

/** Describes the ONNX model in `bytes`. */
export function inspectOnnx(bytes: Uint8Array): OnnxInterface {
  const model = decodeModel(bytes);
  const graph = model.graph;
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name));
  const operators: Record<string, number> = {};
  for (const node of graph?.node ?? []) {
    const op = node.domain ? `${node.domain}.${node.opType}` : node.opType ?? "?";
    operators[op] = (operators[op] ?? 0) + 1;
  }
  let inlineBytes = 0;
  let externalBytes = 0;
  for (const t of graph?.initializer ?? []) {
    inlineBytes += t.rawData?.byteLength ?? 0;
    const length = t.externalData?.find((e) => e.key === "length")?.value;
    if (length) externalBytes += Number(length);
  }
  return {
    inputs: (graph?.input ?? []).filter((v) => !initializers.has(v.name)).map(tensorInfo),
    outputs: (graph?.output ?? []).map(tensorInfo),
    opsets: (model.opsetImport ?? []).map((o) => `${o.domain || "ai.onnx"}@${toNumber(o.version)}`),
    operators,
    inlineBytes,
    externalBytes,
    metadata: Object.fromEntries(
      (model.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""]),
    ),
  };
}
