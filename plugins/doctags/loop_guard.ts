/**
 * `loopGuard`: tells, from what has been generated so far, whether a
 * DocTags model is stuck in a repetition loop, so generation can stop early
 * instead of running to the token limit (SmolDocling is prone to this,
 * docling issue #1515).
 *
 * It is a pure function of the output so far: call it every few steps from a
 * stop condition or logits processor. Only a bounded tail (`lookback`) is
 * examined, so each call costs O(lookback).
 *
 * @module
 */

/** Options of {@link loopGuard}. */
export interface LoopGuardOptions {
  /**
   * Text: copies of the same element (same tag, same text) in a row that
   * count as a loop when their boxes repeat or step regularly down or across
   * the page, as in docling's `DocTagsRepetitionStopper`. Default 3.
   */
  minRepeats?: number;
  /** Text: copies of the same element in a row that count as a loop whatever their boxes. Default 6. */
  maxIdentical?: number;
  /** Text: identical table rows at the end of an unfinished `<otsl>` that count as a loop. Default 6. */
  maxIdenticalRows?: number;
  /** Characters (text) or tokens (ids) examined at the end. Default 8000 characters / 1024 tokens. */
  lookback?: number;
  /**
   * Copies of a repeated unit at the end (any stretch of tokens, or of text
   * for the fallback check on text) that count as a loop. Default 8 for ids,
   * 10 for text.
   */
  minUnitRepeats?: number;
  /**
   * The repeated units must cover at least this many tokens / characters, so
   * that short legitimate repeats (a few identical table rows) do not trip
   * the guard. Default 256 tokens / 500 characters.
   */
  minSpan?: number;
  /**
   * Token ids that compare equal to each other, typically the 500 `<loc_N>`
   * ids, so that elements whose coordinates step down the page still read as
   * repeats.
   */
  wildcardIds?: ReadonlySet<number> | ((id: number) => boolean);
}

/** The verdict of {@link loopGuard}. */
export interface LoopVerdict {
  /** True when the tail of the output repeats. */
  looping: boolean;
  /** Which check fired. */
  reason?: "repeated_element" | "repeated_row" | "repeated_unit";
  /** How many copies were found. */
  repeats?: number;
  /** The repeated element's tag and text, or the repeated unit (text input). */
  unit?: string;
}

// Elements compared for repeats. Closed containers are matched too, as a
// whole, so that a table or list between two runs separates them.
const ELEMENT_TAGS = "title|text|caption|footnote|list_item|page_header|page_footer|formula|code|" +
  "picture|chart|paragraph|reference|handwritten_text|checkbox_selected|checkbox_unselected|" +
  "section_header_level_\\d+|otsl|ordered_list|unordered_list|key_value_region|inline";

/**
 * Whether generation is looping. Give the decoded text so far (DocTags
 * aware: repeated elements, repeated table rows, any repeated stretch of
 * text) or the generated token ids (any repeated unit of tokens, with
 * `wildcardIds` for the location tokens).
 *
 * @example
 * ```ts
 * if (loopGuard(decodedSoFar).looping) stopGeneration();
 * ```
 */
export function loopGuard(
  generated: string | readonly number[],
  options: LoopGuardOptions = {},
): LoopVerdict {
  if (typeof generated === "string") return textVerdict(generated, options);
  return idsVerdict(generated, options);
}

function textVerdict(full: string, o: LoopGuardOptions): LoopVerdict {
  const text = full.slice(-(o.lookback ?? 8000));
  const element = repeatedElement(text, o.minRepeats ?? 3, o.maxIdentical ?? 6);
  if (element) return element;
  const row = repeatedRow(text, o.maxIdenticalRows ?? 6);
  if (row) return row;
  // Fallback: any stretch repeating at the end (loops without closing tags,
  // locations normalised so stepping boxes still match).
  const normalised = text.replace(/<loc_\d+>/g, "\u0001");
  const unit = periodicTail(
    [...normalised].map((c) => c.codePointAt(0)!),
    o.minUnitRepeats ?? 10,
    o.minSpan ?? 500,
  );
  if (unit) {
    const chars = [...normalised].slice(-unit.period).join("").split("\u0001").join("<loc_N>");
    return { looping: true, reason: "repeated_unit", repeats: unit.repeats, unit: chars };
  }
  return { looping: false };
}

/** Whether 3+ values increase with roughly even steps (±20%). */
function regular(values: readonly number[]): boolean {
  if (values.length < 3) return false;
  const diffs = values.slice(1).map((v, i) => v - values[i]);
  if (diffs.some((d) => d <= 0)) return false;
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  return diffs.every((d) => Math.abs(d - mean) <= 0.2 * mean);
}

function repeatedElement(
  text: string,
  minRepeats: number,
  maxIdentical: number,
): LoopVerdict | undefined {
  const pattern = new RegExp(`<(${ELEMENT_TAGS})>([\\s\\S]*?)</\\1>`, "g");
  const run: number[][] = [];
  let key = "";
  for (const m of text.matchAll(pattern)) {
    const locs = [...m[2].matchAll(/<loc_(\d+)>/g)].slice(0, 4).map((l) => Number(l[1]));
    const body = m[2].replace(/<loc_\d+>/g, "").trim();
    const k = `${m[1]}\u0000${body}`;
    if (k === key) run.push(locs);
    else {
      key = k;
      run.length = 0;
      run.push(locs);
    }
  }
  if (run.length < minRepeats) return undefined;
  const boxes = run.map((b) => b.join(","));
  const duplicate = new Set(boxes).size < boxes.length;
  const column = (i: number) => run.map((b) => b[i] ?? -1);
  const stable = (i: number) => column(i).every((v) => v === column(i)[0]);
  const complete = run.every((b) => b.length === 4);
  const stepping = complete &&
    (((stable(0) || stable(2)) && regular(column(1))) ||
      ((stable(1) || stable(3)) && regular(column(0))));
  if (duplicate || stepping || run.length >= maxIdentical) {
    const [tag, body] = key.split("\u0000");
    return {
      looping: true,
      reason: "repeated_element",
      repeats: run.length,
      unit: `<${tag}>${body}`,
    };
  }
  return undefined;
}

function repeatedRow(text: string, maxRows: number): LoopVerdict | undefined {
  const start = text.lastIndexOf("<otsl>");
  if (start < 0 || text.indexOf("</otsl>", start) >= 0) return undefined;
  const rows = text.slice(start + "<otsl>".length).replace(/<loc_\d+>/g, "").split("<nl>");
  rows.pop(); // the row being written
  let count = 1;
  for (let i = rows.length - 1; i > 0 && rows[i] === rows[i - 1]; i--) count++;
  if (rows.length > 0 && count >= maxRows) {
    return { looping: true, reason: "repeated_row", repeats: count, unit: rows[rows.length - 1] };
  }
  return undefined;
}

function idsVerdict(all: readonly number[], o: LoopGuardOptions): LoopVerdict {
  const ids = all.slice(-(o.lookback ?? 1024));
  const wild = o.wildcardIds;
  const isWild = typeof wild === "function"
    ? wild
    : wild
    ? (id: number) => wild.has(id)
    : () => false;
  const seq = ids.map((id) => (isWild(id) ? -1 : id));
  const unit = periodicTail(seq, o.minUnitRepeats ?? 8, o.minSpan ?? 256);
  return unit
    ? { looping: true, reason: "repeated_unit", repeats: unit.repeats }
    : { looping: false };
}

/**
 * The shortest period of the longest suffix that is made of at least
 * `minRepeats` copies and spans at least `minSpan` items, via the prefix
 * function of the reversed sequence (linear time).
 */
function periodicTail(seq: readonly number[], minRepeats: number, minSpan: number): {
  period: number;
  repeats: number;
} | undefined {
  const n = seq.length;
  if (n < minSpan) return undefined;
  const rev = seq.slice().reverse();
  const pi = new Int32Array(n);
  let best: { period: number; repeats: number } | undefined;
  for (let i = 1; i < n; i++) {
    let k = pi[i - 1];
    while (k > 0 && rev[i] !== rev[k]) k = pi[k - 1];
    if (rev[i] === rev[k]) k++;
    pi[i] = k;
    const length = i + 1;
    const period = length - k;
    const repeats = Math.floor(length / period);
    if (length >= minSpan && repeats >= minRepeats) best = { period, repeats };
  }
  return best;
}
