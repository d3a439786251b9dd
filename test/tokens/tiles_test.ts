import assert from "node:assert/strict";
import fc from "fast-check";
import {
  maxGridSide,
  maxTilesPerImage,
  planTiles,
  type TileSettings,
} from "../../src/tokens/tiles.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";

interface FixtureCase {
  config: string;
  width: number;
  height: number;
  split: boolean;
  stage1: { width: number; height: number };
  resized: { width: number; height: number };
  rows: number;
  cols: number;
  tiles: number;
  imageTokens: number;
}
interface Fixture {
  configs: Record<string, { longestEdge: number; tileSize: number; imageSeqLen: number }>;
  cases: FixtureCase[];
}

const fixture: Fixture = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/tile_plans.json", import.meta.url)),
);

function settingsOf(longestEdge: number, tileSize: number): TileSettings {
  return { longestEdge, tileSize, splitting: true, padToSquare: false };
}

const SMOLVLM = settingsOf(2048, 512);

Deno.test("tile plan: the issue's fixed vectors for SmolVLM-256M", () => {
  const photo = planTiles(640, 480, SMOLVLM);
  assert.deepEqual([photo.rows, photo.cols, photo.tiles], [3, 4, 13]);
  assert.deepEqual(photo.resized, { width: 2048, height: 1536 });
  const strip = planTiles(2048, 100, SMOLVLM);
  assert.deepEqual([strip.rows, strip.cols, strip.tiles], [1, 4, 5]);
  const unsplit = planTiles(640, 480, SMOLVLM, { split: false });
  assert.deepEqual([unsplit.rows, unsplit.cols, unsplit.tiles], [0, 0, 1]);
  assert.deepEqual(unsplit.resized, { width: 512, height: 512 });
});

Deno.test("tile plan: odd short side rounds up to even (1000×333 → 2048×682)", () => {
  assert.deepEqual(planTiles(1000, 333, SMOLVLM).stage1, { width: 2048, height: 682 });
});

Deno.test("tile plan: agrees with the Python-processor transcription on every fixture case", () => {
  assert.ok(fixture.cases.length > 3000, "fixture should hold thousands of cases");
  const mismatches: string[] = [];
  for (const c of fixture.cases) {
    const config = fixture.configs[c.config];
    const plan = planTiles(c.width, c.height, settingsOf(config.longestEdge, config.tileSize), {
      split: c.split,
    });
    const expected = {
      stage1: c.stage1,
      resized: c.resized,
      rows: c.rows,
      cols: c.cols,
      tiles: c.tiles,
      tokens: c.imageTokens,
    };
    const actual = {
      stage1: plan.stage1,
      resized: plan.resized,
      rows: plan.rows,
      cols: plan.cols,
      tiles: plan.tiles,
      tokens: plan.tiles * config.imageSeqLen,
    };
    try {
      assert.deepEqual(actual, expected);
    } catch {
      mismatches.push(`${c.config} ${c.width}×${c.height} split=${c.split}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("tile plan: rejects non-positive or fractional sizes with a typed error", () => {
  for (const [w, h] of [[0, 10], [10, -1], [1.5, 3], [NaN, 2]]) {
    assert.throws(() => planTiles(w, h, SMOLVLM), (error: unknown) => {
      assert.ok(error instanceof VlmError);
      assert.equal(error.code, "input_invalid");
      return true;
    });
  }
});

Deno.test("tile plan: pad-to-square models get one T×T view", () => {
  const plan = planTiles(1000, 300, {
    longestEdge: 336,
    tileSize: 336,
    splitting: false,
    padToSquare: true,
  });
  assert.deepEqual(plan.stage1, { width: 1000, height: 1000 });
  assert.deepEqual([plan.rows, plan.cols, plan.tiles], [0, 0, 1]);
});

// --- properties (each checked first against the Python formulas; see tools/reference/tile_plan.py)

const side = fc.integer({ min: 1, max: 20_000 });
const settings = fc.constantFrom(
  settingsOf(2048, 512),
  settingsOf(1536, 384),
  settingsOf(1456, 364),
  settingsOf(1000, 300),
);

Deno.test("property: the plan depends only on the aspect ratio (w,h and k·w,k·h agree)", () => {
  fc.assert(
    fc.property(
      side,
      side,
      fc.integer({ min: 2, max: 7 }),
      settings,
      fc.boolean(),
      (w, h, k, s, split) => {
        const a = planTiles(w, h, s, { split });
        const b = planTiles(w * k, h * k, s, { split });
        assert.deepEqual(
          [a.stage1, a.resized, a.rows, a.cols, a.tiles],
          [b.stage1, b.resized, b.rows, b.cols, b.tiles],
        );
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("property: tiles never exceed the worst case (17 for SmolVLM settings)", () => {
  fc.assert(
    fc.property(side, side, settings, (w, h, s) => {
      const plan = planTiles(w, h, s);
      assert.ok(plan.tiles <= maxTilesPerImage(s));
      assert.ok(plan.rows <= maxGridSide(s) && plan.cols <= maxGridSide(s));
    }),
    { numRuns: 2000 },
  );
  assert.equal(maxTilesPerImage(SMOLVLM), 17);
});

Deno.test("property: a split grid is exactly cols·T × rows·T, and tiles = rows·cols + 1", () => {
  fc.assert(
    fc.property(side, side, settings, (w, h, s) => {
      const plan = planTiles(w, h, s);
      if (plan.rows > 0) {
        assert.deepEqual(plan.resized, {
          width: plan.cols * s.tileSize,
          height: plan.rows * s.tileSize,
        });
        assert.equal(plan.tiles, plan.rows * plan.cols + 1);
      } else {
        assert.deepEqual(plan.resized, { width: s.tileSize, height: s.tileSize });
        assert.equal(plan.tiles, 1);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: stage 1 puts the longest side at longestEdge and keeps the short side even", () => {
  fc.assert(
    fc.property(side, side, settings, (w, h, s) => {
      const { stage1 } = planTiles(w, h, s);
      assert.equal(Math.max(stage1.width, stage1.height), s.longestEdge);
      const short = Math.min(stage1.width, stage1.height);
      assert.ok(short % 2 === 0 || short === 1, `short side ${short}`);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: transposing the image transposes the grid", () => {
  fc.assert(
    fc.property(side, side, settings, (w, h, s) => {
      const a = planTiles(w, h, s);
      const b = planTiles(h, w, s);
      assert.deepEqual([a.rows, a.cols, a.tiles], [b.cols, b.rows, b.tiles]);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: without splitting every image is one T×T tile", () => {
  fc.assert(
    fc.property(side, side, settings, (w, h, s) => {
      const plan = planTiles(w, h, s, { split: false });
      assert.deepEqual([plan.rows, plan.cols, plan.tiles], [0, 0, 1]);
      assert.deepEqual(plan.resized, { width: s.tileSize, height: s.tileSize });
    }),
  );
});

Deno.test("property: odd longest edges still stay within maxGridSide", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 50, max: 600 }),
      side,
      side,
      (longestEdge, tileSize, w, h) => {
        fc.pre(tileSize <= longestEdge);
        const s = settingsOf(longestEdge, tileSize);
        const plan = planTiles(w, h, s);
        assert.ok(plan.rows <= maxGridSide(s) && plan.cols <= maxGridSide(s));
        assert.ok(plan.tiles <= maxTilesPerImage(s));
      },
    ),
    { numRuns: 3000 },
  );
  // The square case that needs the even round-up: L = 999, T = 333 → 1000 → 4 tiles per side.
  const s = settingsOf(999, 333);
  assert.equal(planTiles(7, 7, s).rows, 4);
  assert.equal(maxGridSide(s), 4);
});
