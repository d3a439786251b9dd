/** `loopGuard`: loops are caught early, normal documents never trip it. */
import assert from "node:assert/strict";
import { loopGuard } from "../../../plugins/doctags/mod.ts";
import { CASES, input } from "./_conformance.ts";

const item = (y: number, text = "The value is 42.") =>
  `<list_item><loc_40><loc_${y}><loc_460><loc_${y + 8}>${text}</list_item>\n`;

Deno.test("loopGuard: the same element stepping down the page is a loop after three copies", () => {
  const head = "<doctag><unordered_list>";
  assert.equal(loopGuard(head + item(40) + item(50)).looping, false);
  const verdict = loopGuard(head + item(40) + item(50) + item(60));
  assert.deepEqual(verdict, {
    looping: true,
    reason: "repeated_element",
    repeats: 3,
    unit: "<list_item>The value is 42.",
  });
  // A partial element being written does not hide the run.
  assert.equal(
    loopGuard(head + item(40) + item(50) + item(60) + "<list_item><loc_40>The va").looping,
    true,
  );
});

Deno.test("loopGuard: irregular boxes need more copies; different texts are no loop", () => {
  const odd = [40, 47, 90, 95, 200].map((y) => item(y)).join("");
  assert.equal(loopGuard(odd).looping, false);
  assert.equal(loopGuard(odd + item(300)).looping, true, "six copies whatever the boxes");
  const distinct = [40, 50, 60, 70].map((y, i) => item(y, `Item ${i}`)).join("");
  assert.equal(loopGuard(distinct).looping, false);
  // Identical boxes count as a loop at once.
  assert.equal(loopGuard(item(40) + item(40) + item(40)).looping, true);
});

Deno.test("loopGuard: a closed table between repeats breaks the run", () => {
  const text = (y: number) =>
    `<text><loc_30><loc_${y}><loc_470><loc_${y + 8}>Total: 42 units.</text>\n`;
  const repeats = text(40) + text(50) + text(60);
  assert.equal(loopGuard(repeats).looping, true);
  assert.equal(loopGuard(repeats + "<otsl><fcel>a<nl></otsl>").looping, false);
});

Deno.test("loopGuard: identical rows at the end of an unfinished table", () => {
  const rows = (n: number) =>
    "<otsl><loc_1><loc_2><loc_3><loc_4><ched>Year<nl>" + "<fcel>2020<fcel>1<nl>".repeat(n);
  assert.equal(loopGuard(rows(5) + "<fcel>20").looping, false);
  const verdict = loopGuard(rows(6) + "<fcel>20");
  assert.equal(verdict.reason, "repeated_row");
  assert.equal(verdict.repeats, 6);
  assert.equal(loopGuard(rows(6) + "</otsl>").looping, false, "a finished table is not looping");
});

Deno.test("loopGuard: any long repeated stretch of text (fallback)", () => {
  const picture = (y: number) => `<picture><loc_0><loc_${y}><loc_10><loc_${y + 5}><logo></picture>`;
  const many = Array.from({ length: 20 }, (_, i) => picture(i * 7)).join("");
  const verdict = loopGuard(many);
  assert.equal(verdict.looping, true);
  assert.equal(loopGuard("ha ".repeat(300)).reason, "repeated_unit");
  assert.equal(loopGuard("ha ".repeat(20)).looping, false, "too short to matter");
});

Deno.test("loopGuard: token ids, with location ids as wildcards", () => {
  const unit = [
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
    30,
    31,
    32,
  ];
  const ids = [1, 2, 3, ...Array.from({ length: 10 }, () => unit).flat()];
  assert.deepEqual(loopGuard(ids), { looping: true, reason: "repeated_unit", repeats: 10 });
  assert.equal(loopGuard(ids.slice(0, 3 + 28 * 5)).looping, false);
  // Location tokens (here ids >= 1000) step, so only a wildcard makes the copies equal.
  const stepping = Array.from({ length: 12 }, (_, i) => [...unit, 1000 + i, 1001 + i]).flat();
  assert.equal(loopGuard(stepping).looping, false);
  assert.equal(loopGuard(stepping, { wildcardIds: (id) => id >= 1000 }).looping, true);
  assert.equal(
    loopGuard(stepping, { wildcardIds: new Set(stepping.filter((id) => id >= 1000)) }).looping,
    true,
  );
  // Random ids do not repeat.
  let seed = 7;
  const random = Array.from(
    { length: 2000 },
    () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 49152,
  );
  assert.equal(loopGuard(random).looping, false);
});

Deno.test({
  name: "loopGuard: never fires on any prefix of the well-formed conformance inputs",
  fn() {
    for (const c of CASES) {
      if (c.id.startsWith("repetition_")) continue;
      const text = input(c);
      // Every 40 characters, as a stop condition checking every few tokens would.
      for (let end = 40; end < text.length + 40; end += 40) {
        const verdict = loopGuard(text.slice(0, end));
        assert.equal(verdict.looping, false, `${c.id} at ${end}: ${JSON.stringify(verdict)}`);
      }
    }
  },
});

Deno.test({
  name: "loopGuard: fires on the looping conformance inputs while they are generated",
  fn() {
    const list = input(CASES.find((c) => c.id === "repetition_in_unclosed_list")!);
    assert.equal(loopGuard(list).looping, true);
    const first = [...Array(list.length).keys()].find((end) =>
      loopGuard(list.slice(0, end)).looping
    );
    // The third copy closes at the fourth line of the input.
    assert.equal(
      first,
      list.indexOf("</list_item>", list.indexOf("<loc_60>")) + "</list_item>".length,
    );
    const texts = input(CASES.find((c) => c.id === "repetition_closed_then_truncated")!);
    assert.equal(loopGuard(texts.slice(0, texts.indexOf("<otsl>"))).looping, true);
  },
});
