/**
 * The reduced-depth "test" scale: the same variant structure (families,
 * projector, image geometry, tokens per tile, special-token ids, context) with
 * two layers and narrow widths, so every preset can be synthesized and run in
 * seconds on a CPU.
 *
 * @module
 */
import { parseSpec } from "../spec/validate.ts";
import type { VariantSpec } from "../spec/types.ts";

/** Build scales: `full` keeps the spec; `test` shrinks depth and width. */
export type BuildScale = "full" | "test";

/** Per-head width at the test scale. */
const TEST_HEAD_DIM = 16;

/** `spec` at `scale` (validated; `-test` is appended to the name). */
export function scaledSpec(spec: VariantSpec, scale: BuildScale): VariantSpec {
  if (scale === "full") return spec;
  const e = spec.encoder;
  const d = spec.decoder;
  // Keep the GQA grouping: one or two KV heads, each serving the same number of query heads.
  const group = d.heads / d.kvHeads;
  const kvHeads = group === 1 ? 2 : 1;
  const heads = kvHeads * group;
  const hidden = heads * TEST_HEAD_DIM;
  return parseSpec({
    ...spec,
    name: `${spec.name}-test`,
    description: `${spec.description} (reduced test scale)`,
    encoder: { ...e, hidden: 32, heads: 2, mlp: 64, layers: 2 },
    decoder: {
      ...d,
      hidden,
      heads,
      kvHeads,
      headDim: TEST_HEAD_DIM,
      intermediate: 2 * hidden,
      layers: 2,
    },
  });
}
