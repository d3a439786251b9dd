// Answer metrics and the labels parser: properties of the edit distance and
// strict, line-numbered parsing.
import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { agreement } from "../../src/eval/evaluate.ts";
import { parseLabels, parsePredictions } from "../../src/eval/labels.ts";
import { charErrorRate, editDistance, emptyTally, score } from "../../src/eval/metrics.ts";

const text = fc.string({ maxLength: 12, unit: fc.constantFrom("A", "B", "7", " ", "é", "🙂") });

Deno.test("metrics: edit distance is a metric bounded by the lengths", () => {
  fc.assert(fc.property(text, text, text, (a, b, c) => {
    const ab = editDistance(a, b);
    assert.equal(editDistance(a, a), 0);
    assert.equal(ab, editDistance(b, a));
    assert.ok(ab <= editDistance(a, c) + editDistance(c, b));
    const [la, lb] = [[...a].length, [...b].length];
    assert.ok(ab >= Math.abs(la - lb) && ab <= Math.max(la, lb));
    assert.equal(ab === 0, a === b);
  }));
});

Deno.test("metrics: known distances, code points not UTF-16 units", () => {
  assert.equal(editDistance("KITTEN", "SITTING"), 3);
  assert.equal(editDistance("AB12", "AB12"), 0);
  assert.equal(editDistance("AB12", "A12"), 1);
  assert.equal(editDistance("🙂", "🙃"), 1);
  assert.equal(editDistance("", "XYZ"), 3);
});

Deno.test("metrics: exact match trims whitespace; CER is edits per answer character", () => {
  const tally = emptyTally();
  assert.equal(score(tally, " ABC12 ", "ABC12"), true);
  assert.equal(score(tally, "ABX12", "ABC12"), false);
  assert.equal(score(tally, "red", "blue"), false);
  assert.equal(tally.count, 3);
  assert.equal(tally.exact, 1);
  assert.equal(charErrorRate(tally), (0 + 1 + 4) / (5 + 5 + 4));
});

Deno.test("labels: strict parsing names the line and the field", () => {
  const good =
    '{"image":"a.png","prompt":"Read the text.","answer":"AB1"}\n\n{"image":"b.png","prompt":"p","answer":"x","extra":1}\n';
  assert.deepEqual(parseLabels(good, "l.jsonl"), [
    { image: "a.png", prompt: "Read the text.", answer: "AB1" },
    { image: "b.png", prompt: "p", answer: "x" },
  ]);
  const cases: [string, RegExp][] = [
    [
      '{"image":"a.png","prompt":"p","answer":"x"}\n{"image":"","prompt":"p","answer":"x"}',
      /l\.jsonl:2: field "image"/,
    ],
    ['{"image":"a.png","prompt":"p"}', /l\.jsonl:1: field "answer"/],
    ["not json", /l\.jsonl:1: not JSON/],
    ["\n \n", /has no items/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseLabels(input, "l.jsonl"),
      (e: unknown) => e instanceof VlmError && message.test(e.message),
    );
  }
  assert.throws(
    () => parsePredictions('{"image":"a.png","prompt":"p","answer":"x"}', "p.jsonl"),
    (e: unknown) => e instanceof VlmError && /field "prediction"/.test(e.message),
  );
});

Deno.test("labels: any input either parses or raises a typed input_invalid error", () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (input) => {
    try {
      parseLabels(input, "fuzz");
    } catch (error) {
      assert.ok(error instanceof VlmError && error.code === "input_invalid", String(error));
    }
  }));
});

Deno.test("agreement: compares shared items by image and prompt, trimmed", () => {
  const ours = [
    { image: "a", prompt: "p", prediction: "X" },
    { image: "b", prompt: "p", prediction: "Y" },
    { image: "c", prompt: "p", prediction: "Z" },
  ];
  const theirs = [
    { image: "a", prompt: "p", prediction: " X" },
    { image: "b", prompt: "p", prediction: "N" },
    { image: "d", prompt: "p", prediction: "Z" },
  ];
  assert.deepEqual(agreement(ours, theirs), { agreement: 0.5, compared: 2 });
});
