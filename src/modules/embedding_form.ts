/**
 * Recognises an `embed_tokens` graph whose output is a row gather of one
 * initializer table, possibly dequantized row by row, so the rows can be
 * gathered in JS with the same arithmetic instead of through a session:
 *
 * - `Gather(table, input_ids)` on a float32 or float16 table (fp32 and
 *   published fp16 exports; the builder's uint8, q4 and bnb4 files too);
 * - `Cast(Gather(Cast(table16 → float32)) → float16)`: the builder's fp16 and
 *   q4f16 form (lossless round trip, so the rows are the float16 table's), and
 *   `Cast(Gather(table16) → float32)` (float16 weights with float32 I/O);
 * - `Mul(Cast(Gather(int8 table)), Unsqueeze(Gather(scales), -1))`: the
 *   builder's int8 form, one float32 scale per row;
 * - `DequantizeLinear(Gather(int8/uint8 table), scale, zero point)` with one
 *   scale for the table: ONNX Runtime's dynamic quantizer (published int8 /
 *   `_quantized` exports);
 * - `com.microsoft.GatherBlockQuantized` on a 4-bit (uint8 packed, uint4,
 *   int4) or 8-bit table with float32 block scales along each row: ONNX
 *   Runtime's weight-only quantizer applied to embeddings.
 *
 * Identity nodes between these are looked through. Any other graph (another
 * op, another wiring) is not recognised and keeps its session.
 *
 * @module
 */
import type { OnnxOutline, OutlineNode, OutlineTensor } from "../onnx/onnx_outline.ts";
import { ONNX_TYPE } from "../onnx/onnx_fields.ts";

/** How the rows of the table become `inputs_embeds` values. */
export type EmbeddingForm =
  | {
    /** Float rows as stored (float16 widened to float32). */
    readonly kind: "float";
    /** `[vocab, hidden]` float32 or float16. */
    readonly table: OutlineTensor;
    /** Element type of `inputs_embeds`. */
    readonly output: "float32" | "float16";
  }
  | {
    /** `float32(q) · scales[row]` (float32 product). */
    readonly kind: "row_scaled";
    /** `[vocab, hidden]` int8. */
    readonly table: OutlineTensor;
    /** `[vocab]` float32. */
    readonly scales: OutlineTensor;
    /** Element type of `inputs_embeds`. */
    readonly output: "float32";
  }
  | {
    /** `float32(q − zero) · scale` (float32 product). */
    readonly kind: "dequantize";
    /** `[vocab, hidden]` int8 or uint8. */
    readonly table: OutlineTensor;
    /** One float32 scale. */
    readonly scale: OutlineTensor;
    /** One zero point of the table's type, if the graph gives one. */
    readonly zeroPoint: OutlineTensor | undefined;
    /** Element type of `inputs_embeds`. */
    readonly output: "float32";
  }
  | {
    /** `float32(q − zero[block]) · scale[block]` along each row, blocks of `blockSize`. */
    readonly kind: "block_quantized";
    /** Packed `[vocab, hidden · bits / 8]` uint8, or `[vocab, hidden]` uint4 / int4. */
    readonly table: OutlineTensor;
    /** How values are stored. */
    readonly storage: "uint8" | "uint4" | "int4";
    /** 4 or 8. */
    readonly bits: 4 | 8;
    /** Values per row. */
    readonly hidden: number;
    /** Values per block. */
    readonly blockSize: number;
    /** `[vocab, ceil(hidden / blockSize)]` float32. */
    readonly scales: OutlineTensor;
    /** Zero points (the table's type; 4-bit ones packed), if the graph gives them. */
    readonly zeroPoints: OutlineTensor | undefined;
    /** Element type of `inputs_embeds`. */
    readonly output: "float32";
  };

const IDS = "input_ids";
const OUTPUT = "inputs_embeds";
const CAST_FLOAT = 1n;
const CAST_FLOAT16 = 10n;

/** Recognises `outline` as one of the forms above, or `undefined`. */
export function recogniseEmbedding(outline: OnnxOutline): EmbeddingForm | undefined {
  if (outline.inputs.length !== 1 || outline.inputs[0] !== IDS) return undefined;
  if (outline.outputs.length !== 1 || outline.outputs[0] !== OUTPUT) return undefined;
  const producer = new Map<string, OutlineNode>();
  for (const n of outline.nodes) {
    const microsoft = n.domain === "com.microsoft" && n.opType === "GatherBlockQuantized";
    if (n.domain !== "" && n.domain !== "ai.onnx" && !microsoft) return undefined;
    for (const o of n.outputs) producer.set(o, n);
  }
  const used = new Set<OutlineNode>();
  const init = (name: string) => outline.initializers.get(name);
  /** The node that computes `name`, looking through Identity nodes (the builder renames with them). */
  const through = (name: string | undefined): OutlineNode | undefined => {
    let n = name === undefined ? undefined : producer.get(name);
    while (n?.opType === "Identity" && n.inputs.length === 1) {
      used.add(n);
      n = producer.get(n.inputs[0]);
    }
    return n;
  };
  const by = (name: string | undefined, op: string): OutlineNode | undefined => {
    const n = through(name);
    if (n?.opType !== op || n.outputs.length !== 1) return undefined;
    used.add(n);
    return n;
  };
  const attr = (n: OutlineNode, name: string, fallback: bigint) => {
    const v = n.attributes.get(name);
    return v === undefined ? fallback : v.length === 1 ? v[0] : undefined;
  };
  /** The table of `Gather(table, input_ids)` on axis 0 (the table is an initializer name). */
  const gathered = (name: string | undefined): string | undefined => {
    const g = by(name, "Gather");
    if (!g || g.inputs.length !== 2 || g.inputs[1] !== IDS) return undefined;
    return attr(g, "axis", 0n) === 0n ? g.inputs[0] : undefined;
  };
  const matrix = (t: OutlineTensor | undefined, type: number) =>
    t?.dataType === type && t.dims.length === 2 && t.bytes ? t : undefined;
  const scalar = (t: OutlineTensor | undefined, type: number) =>
    t?.dataType === type && t.dims.every((d) => d === 1) && t.bytes ? t : undefined;

  const match = (): EmbeddingForm | undefined => {
    const last = through(OUTPUT);
    if (!last) return undefined;
    if (last.opType === "Gather") {
      const name = gathered(OUTPUT)!;
      const f32 = matrix(init(name), ONNX_TYPE.float32);
      if (f32) return { kind: "float", table: f32, output: "float32" };
      const f16 = matrix(init(name), ONNX_TYPE.float16);
      return f16 && { kind: "float", table: f16, output: "float16" };
    }
    if (last.opType === "Cast") {
      const outer = by(OUTPUT, "Cast")!;
      if (attr(outer, "to", -1n) === CAST_FLOAT) {
        // A float16 table widened at the output (float16 conversion keeping float32 I/O).
        const table = matrix(init(gathered(outer.inputs[0]) ?? ""), ONNX_TYPE.float16);
        return table && { kind: "float", table, output: "float32" };
      }
      if (attr(outer, "to", -1n) !== CAST_FLOAT16) return undefined;
      const widened = by(gathered(outer.inputs[0]), "Cast");
      if (!widened || attr(widened, "to", -1n) !== CAST_FLOAT) return undefined;
      const table = matrix(init(widened.inputs[0]), ONNX_TYPE.float16);
      return table && { kind: "float", table, output: "float16" };
    }
    if (last.opType === "DequantizeLinear") {
      const dq = by(OUTPUT, "DequantizeLinear")!;
      const name = gathered(dq.inputs[0]);
      const table = matrix(init(name ?? ""), ONNX_TYPE.int8) ??
        matrix(init(name ?? ""), ONNX_TYPE.uint8);
      const scale = scalar(init(dq.inputs[1] ?? ""), ONNX_TYPE.float32);
      if (!table || !scale || dq.inputs.length > 3) return undefined;
      const zpName = dq.inputs[2] ?? "";
      const zeroPoint = zpName === "" ? undefined : scalar(init(zpName), table.dataType);
      if (zpName !== "" && !zeroPoint) return undefined;
      return { kind: "dequantize", table, scale, zeroPoint, output: "float32" };
    }
    if (last.opType === "GatherBlockQuantized") {
      return blockQuantized(by(OUTPUT, "GatherBlockQuantized")!, init);
    }
    if (last.opType === "Mul") {
      const mul = by(OUTPUT, "Mul")!;
      for (const [a, b] of [[0, 1], [1, 0]]) {
        const cast = through(mul.inputs[a]);
        const unsqueeze = through(mul.inputs[b]);
        if (cast?.opType !== "Cast" || unsqueeze?.opType !== "Unsqueeze") continue;
        by(mul.inputs[a], "Cast");
        by(mul.inputs[b], "Unsqueeze");
        if (attr(cast, "to", -1n) !== CAST_FLOAT) return undefined;
        const table = matrix(init(gathered(cast.inputs[0]) ?? ""), ONNX_TYPE.int8);
        const scales = init(gathered(unsqueeze.inputs[0]) ?? "");
        if (!table || scales?.dataType !== ONNX_TYPE.float32 || !scales.bytes) return undefined;
        if (scales.dims.length !== 1 || scales.dims[0] !== table.dims[0]) return undefined;
        if (!lastAxis(unsqueeze, init(unsqueeze.inputs[1] ?? ""))) return undefined;
        return { kind: "row_scaled", table, scales, output: "float32" };
      }
    }
    return undefined;
  };
  const form = match();
  // Every node must be part of the pattern: an extra op changes what the graph computes.
  return form && used.size === outline.nodes.length ? form : undefined;
}

/** The GatherBlockQuantized form of node `n` (ONNX Runtime's CPU kernel's layout), or `undefined`. */
function blockQuantized(
  n: OutlineNode,
  init: (name: string) => OutlineTensor | undefined,
): EmbeddingForm | undefined {
  const int = (name: string, fallback: bigint) => {
    const v = n.attributes.get(name);
    return v === undefined ? fallback : v.length === 1 ? v[0] : undefined;
  };
  const [dataName, ids, scalesName, zpName = ""] = n.inputs;
  const bits = int("bits", 4n);
  const blockSize = Number(int("block_size", 128n) ?? 0);
  const quantizeAxis = int("quantize_axis", 1n);
  if (ids !== IDS || int("gather_axis", 0n) !== 0n || n.inputs.length > 4) return undefined;
  if ((quantizeAxis !== 1n && quantizeAxis !== -1n) || (bits !== 4n && bits !== 8n)) {
    return undefined;
  }
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) return undefined;
  const table = init(dataName);
  const scales = init(scalesName ?? "");
  if (!table?.bytes || table.dims.length !== 2 || !scales?.bytes) return undefined;
  const storage = table.dataType === ONNX_TYPE.uint8
    ? "uint8"
    : table.dataType === ONNX_TYPE.uint4
    ? "uint4"
    : table.dataType === ONNX_TYPE.int4
    ? "int4"
    : undefined;
  if (!storage || (storage !== "uint8" && bits !== 4n)) return undefined;
  const [vocab, width] = table.dims;
  const hidden = storage === "uint8" && bits === 4n ? width * 2 : width;
  // Rows must start on a byte: a 4-bit table of odd width is left to the session.
  if (storage !== "uint8" && hidden % 2 !== 0) return undefined;
  const blocks = Math.ceil(hidden / blockSize);
  if (scales.dataType !== ONNX_TYPE.float32) return undefined;
  if (scales.dims.length !== 2 || scales.dims[0] !== vocab || scales.dims[1] !== blocks) {
    return undefined;
  }
  let zeroPoints: OutlineTensor | undefined;
  if (zpName !== "") {
    zeroPoints = init(zpName);
    const zpWidth = storage === "uint8" && bits === 4n ? Math.ceil(blocks / 2) : blocks;
    if (zeroPoints?.dataType !== table.dataType || !zeroPoints.bytes) return undefined;
    if (zeroPoints.dims.length !== 2 || zeroPoints.dims[0] !== vocab) return undefined;
    if (zeroPoints.dims[1] !== zpWidth) return undefined;
  }
  return {
    kind: "block_quantized",
    table,
    storage,
    bits: bits === 4n ? 4 : 8,
    hidden,
    blockSize,
    scales,
    zeroPoints,
    output: "float32",
  };
}

/** Whether an Unsqueeze of a `[B, S]` tensor adds the last axis (axes −1 or 2). */
function lastAxis(n: OutlineNode, axesInput: OutlineTensor | undefined): boolean {
  let axes: readonly bigint[] | undefined = n.attributes.get("axes");
  const b = axesInput?.dataType === ONNX_TYPE.int64 ? axesInput.bytes : undefined;
  if (!axes && b?.kind === "decoded" && b.bytes.length === 8) {
    axes = [new DataView(b.bytes.buffer, b.bytes.byteOffset).getBigInt64(0, true)];
  }
  return axes?.length === 1 && (axes[0] === -1n || axes[0] === 2n);
}
