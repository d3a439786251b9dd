// Answers start at their first visible character, whether read whole or in streamed pieces.
import assert from "node:assert/strict";
import fc from "fast-check";
import { AnswerStart, trimAnswerStart } from "../../src/text/answer_start.ts";

Deno.test("answer start: the model's leading space is dropped, inner spacing kept", () => {
  assert.equal(trimAnswerStart(" A red square."), "A red square.");
  assert.equal(trimAnswerStart("\n  two  words "), "two  words ");
  const start = new AnswerStart();
  assert.deepEqual([" ", " A", " red", " "].map((d) => start.push(d)), ["", "A", " red", " "]);
});

Deno.test("answer start: streamed pieces join to the trimmed whole text (property)", () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom("", " ", "\n", "a", " b", "c ", "\t")), (pieces) => {
      const start = new AnswerStart();
      const streamed = pieces.map((p) => start.push(p)).join("");
      assert.equal(streamed, trimAnswerStart(pieces.join("")));
    }),
  );
});
