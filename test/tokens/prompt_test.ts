import assert from "node:assert/strict";
import fc from "fast-check";
import { expandImagePrompt } from "../../src/tokens/prompt.ts";
import { segmentPrompt } from "../../src/tokens/text_counter.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import { presetCopy } from "../_plans.ts";

interface PromptCase {
  width: number;
  height: number;
  split: boolean;
  longestEdge: number;
  tileSize: number;
  imageSeqLen: number;
  rows: number;
  cols: number;
  expansion: string;
}

const fixture: { prompts: PromptCase[] } = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/tile_plans.json", import.meta.url)),
);
const tokens = presetCopy("smolvlm-256m-instruct").tokens;

Deno.test("prompt expansion: byte-identical to the reference transcription", () => {
  assert.ok(fixture.prompts.length >= 10);
  for (const c of fixture.prompts) {
    const plan = planTiles(c.width, c.height, {
      longestEdge: c.longestEdge,
      tileSize: c.tileSize,
      splitting: true,
      padToSquare: false,
    }, { split: c.split });
    assert.deepEqual([plan.rows, plan.cols], [c.rows, c.cols]);
    assert.equal(expandImagePrompt(plan.rows, plan.cols, c.imageSeqLen, tokens), c.expansion);
  }
});

Deno.test("prompt expansion: the 1×2 layout spelled out", () => {
  const f = "<fake_token_around_image>";
  assert.equal(
    expandImagePrompt(1, 2, 1, tokens),
    `${f}<row_1_col_1><image>${f}<row_1_col_2><image>\n\n${f}<global-img><image>${f}`,
  );
  assert.equal(expandImagePrompt(0, 0, 2, tokens), `${f}<global-img><image><image>${f}`);
});

Deno.test("property: the expansion holds exactly tiles·N <image> tokens, one marker per tile", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 1, max: 200 }),
      (rows, cols, n) => {
        fc.pre((rows === 0) === (cols === 0));
        const text = expandImagePrompt(rows, cols, n, tokens);
        const { special } = segmentPrompt(text, tokens);
        const tiles = rows === 0 ? 1 : rows * cols + 1;
        assert.equal(special.filter((t) => t === "<image>").length, tiles * n);
        assert.equal(special.filter((t) => t === "<global-img>").length, 1);
        assert.equal(special.filter((t) => t.startsWith("<row_")).length, rows * cols);
        assert.equal(text.split("\n").length - 1, rows === 0 ? 0 : rows + 1);
      },
    ),
  );
});

Deno.test("property: segmenting a prompt loses nothing (segments rebuild the text)", () => {
  const pieces = fc.constantFrom(
    "<image>",
    "<fake_token_around_image>",
    "<row_2_col_3>",
    "<end_of_utterance>",
    "<|im_start|>",
    "<imag",
    "hello ",
    "\n",
    "row_1_col_1",
  );
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
      const text = parts.join("");
      const { special, text: runs } = segmentPrompt(text, tokens);
      const rebuilt = special.join("").length + runs.join("").length;
      assert.equal(rebuilt, text.length);
      for (const run of runs) assert.ok(!run.includes("<image>"));
    }),
  );
});
