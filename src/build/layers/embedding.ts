/**
 * The token embedding module: input_ids → rows of `embed.weight`. The int8
 * format stores the table per-row quantized (one scale per token) and
 * dequantizes only the gathered rows.
 *
 * @module
 */
import { quantizeInt8 } from "../quantize.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import { floatWeight, type LayerContext } from "./ops.ts";

/** ids [B, S] (int64) → embeddings [B, S, H]. */
export function embedTokens(ctx: LayerContext, ids: string, table: WeightTensor): string {
  const { g } = ctx;
  const [vocab, hidden] = table.dims;
  if (ctx.format !== "int8") {
    return g.op("Gather", [floatWeight(g, "embed.weight", table), ids], { axis: 0 });
  }
  const q = quantizeInt8(table, 0);
  const values = g.weight("embed.weight_quantized", {
    type: "int8",
    dims: [vocab, hidden],
    data: q.values,
  }, vocab * hidden);
  const scales = g.weight(
    "embed.weight_scale",
    { type: "float32", dims: [vocab], data: q.scales },
    0,
  );
  const rows = g.op("Cast", [g.op("Gather", [values, ids], { axis: 0 })], { to: 1 }); // [B,S,H]
  const rowScales = g.op("Unsqueeze", [g.op("Gather", [scales, ids], { axis: 0 }), g.ints([-1])]); // [B,S,1]
  return g.op("Mul", [rows, rowScales]);
}
