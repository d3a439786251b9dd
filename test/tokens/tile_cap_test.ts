// The per-image tile cap: never exceeded, a no-op when the full split fits, and otherwise the
// largest plan the processor would make at a smaller longest edge (a multiple of the tile).
import assert from "node:assert/strict";
import fc from "fast-check";
import { planTiles, type TileSettings } from "../../src/tokens/tiles.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";

const SMOLVLM: TileSettings = {
  longestEdge: 2048,
  tileSize: 512,
  splitting: true,
  padToSquare: false,
};

Deno.test("tile cap: a 1024×768 photo goes from 13 tiles to a 2×2 grid + global at 5", () => {
  assert.equal(planTiles(1024, 768, SMOLVLM).tiles, 13);
  const capped = planTiles(1024, 768, SMOLVLM, { maxTiles: 5 });
  assert.deepEqual(
    { tiles: capped.tiles, rows: capped.rows, cols: capped.cols, stage1: capped.stage1 },
    { tiles: 5, rows: 2, cols: 2, stage1: { width: 1024, height: 768 } },
  );
  assert.equal(planTiles(1024, 768, SMOLVLM, { maxTiles: 1 }).tiles, 1);
  assert.equal(planTiles(1024, 768, SMOLVLM, { maxTiles: 1 }).split, false);
});

Deno.test("tile cap: bad caps are typed errors", () => {
  for (const maxTiles of [0, -1, Number.NaN]) {
    assert.throws(() => planTiles(1024, 768, SMOLVLM, { maxTiles }), (e: unknown) => {
      return e instanceof VlmError && e.code === "input_invalid" && /maxTiles/.test(e.message);
    });
  }
});

Deno.test("tile cap: within the cap, unchanged below it, and the largest fitting edge", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 30 }),
      fc.constantFrom(SMOLVLM, { ...SMOLVLM, longestEdge: 1536 }, {
        ...SMOLVLM,
        longestEdge: 192,
        tileSize: 64,
      }),
      (width, height, maxTiles, settings) => {
        const full = planTiles(width, height, settings);
        const capped = planTiles(width, height, settings, { maxTiles });
        assert.ok(capped.tiles <= maxTiles);
        if (full.tiles <= maxTiles) assert.deepEqual(capped, full);
        else if (capped.split) {
          // One tile side larger would not fit (or is the full size, which does not).
          const edge = Math.max(capped.stage1.width, capped.stage1.height);
          const bigger = Math.min(settings.longestEdge, edge + settings.tileSize);
          assert.ok(
            planTiles(width, height, { ...settings, longestEdge: bigger }).tiles > maxTiles,
          );
        }
      },
    ),
  );
});
