import assert from "node:assert/strict";
import fc from "fast-check";
import { findStop, safeEmitLength } from "../../src/runtime/stop_strings.ts";
import { TokenTextStream } from "../../src/runtime/token_text.ts";

Deno.test("findStop returns the earliest stop string position", () => {
  assert.equal(findStop("abc</s>def END", ["END", "</s>"]), 3);
  assert.equal(findStop("nothing here", ["END"]), undefined);
  assert.equal(findStop("x", [""]), undefined);
});

Deno.test("safeEmitLength holds back a possible stop-string prefix", () => {
  assert.equal(safeEmitLength("hello </", ["</s>"]), 6);
  assert.equal(safeEmitLength("hello", ["</s>"]), 5);
});

Deno.test("property: streamed deltas concatenate to the final text, cut before the stop string", () => {
  const alphabet = fc.constantFrom("a", "b", "<", "/", "s", ">", " ");
  fc.assert(fc.property(
    fc.array(fc.array(alphabet, { maxLength: 3 }).map((a) => a.join("")), { maxLength: 30 }),
    fc.constantFrom(["</s>"], ["ab"], ["</s>", "b b"], [] as string[]),
    (pieces, stops) => {
      // Each "token" id indexes a piece; decoding concatenates pieces.
      const stream = new TokenTextStream((ids) => ids.map((i) => pieces[i]).join(""), stops);
      let emitted = "";
      let stopped = false;
      const ids: number[] = [];
      for (let i = 0; i < pieces.length && !stopped; i++) {
        ids.push(i);
        const step = stream.push(ids);
        emitted += step.delta;
        stopped = step.stopped;
      }
      emitted += stream.flush();
      const full = pieces.slice(0, ids.length).join("");
      const cut = findStop(full, stops);
      assert.equal(emitted, cut === undefined ? full : full.slice(0, cut));
      assert.equal(emitted, stream.text);
      if (!stopped) assert.equal(findStop(emitted, stops), undefined);
    },
  ));
});

Deno.test("an incomplete UTF-8 character is held until its last byte arrives", () => {
  const bytes = new TextEncoder().encode("é!");
  const decoder = (ids: readonly number[]) =>
    new TextDecoder().decode(Uint8Array.from(ids.map((i) => bytes[i])));
  const stream = new TokenTextStream(decoder, []);
  assert.equal(stream.push([0]).delta, "");
  assert.equal(stream.push([0, 1]).delta, "é");
  assert.equal(stream.push([0, 1, 2]).delta, "!");
});

Deno.test("streaming detokenization decodes a bounded window per token, not the whole text", () => {
  let decodedIds = 0;
  const pieces = Array.from({ length: 2000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
  const stream = new TokenTextStream((ids) => {
    decodedIds += ids.length;
    return ids.map((i) => pieces[i]).join("");
  }, ["</s>"]);
  const ids: number[] = [];
  let emitted = "";
  for (let i = 0; i < pieces.length; i++) {
    ids.push(i);
    emitted += stream.push(ids).delta;
  }
  emitted += stream.flush();
  assert.equal(emitted, pieces.join(""));
  // Two short windows per step (≤ 2 + 1 ids each); a full re-decode would be ~2 million ids.
  assert.ok(
    decodedIds <= 6 * pieces.length,
    `decoded ${decodedIds} ids for ${pieces.length} tokens`,
  );
});
