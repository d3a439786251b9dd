/**
 * A byte-level recognizer of JSON documents valid for a compiled schema
 * ({@linkcode SchemaNode}). A state is an immutable stack of frames (one per
 * open value), so stepping a byte allocates a frame or two and shares the
 * rest: the token mask walks a trie of the vocabulary from one state without
 * copying it.
 *
 * Three questions drive constrained decoding: `advance` (may this byte come
 * next?), `accepts` (is the document complete, so EOS may come?) and
 * `remaining` (the fewest bytes still needed to complete it, used to close
 * the document before the token budget runs out). `remaining` is always the
 * length of a real completion whose next byte lowers it by one, so steering
 * by it never strands generation.
 *
 * Limits that keep every accepted number finite and every integer safe:
 * integers of at most 15 digits; numbers of at most 21 integer digits, 24
 * fraction digits (all `JSON.stringify` writes for doubles in fixed notation)
 * and 2 exponent digits.
 * Whitespace between tokens is allowed in runs of at most `maxWhitespace`.
 *
 * @module
 */
import {
  ANY,
  type ArrayNode,
  arrayNode,
  type LiteralsNode,
  literalsNode,
  memberCost,
  type ObjectNode,
  objectNode,
  type SchemaNode,
} from "./schema_node.ts";

const MAX_INTEGER_DIGITS = 15;
const MAX_NUMBER_DIGITS = 21;
const MAX_FRAC_DIGITS = 24;
const MAX_EXP_DIGITS = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;

const ANY_OBJECT = objectNode(new Map(), new Set(), ANY);
const ANY_ARRAY = arrayNode(ANY, 0, Infinity);
const KEYWORDS: LiteralsNode = literalsNode([true, false, null]);

/** Phases of a value being read; which apply depends on the frame's kind. */
const enum P {
  Start,
  Child,
  Done,
  // object
  Open,
  Key,
  Colon,
  Value,
  After,
  Comma,
  // string
  Chars,
  Escape,
  Hex,
  Utf8,
  // number
  Minus,
  Zero,
  Int,
  Dot,
  Frac,
  ExpE,
  ExpSign,
  Exp,
}

interface RootFrame {
  readonly kind: "root";
  readonly node: SchemaNode;
  readonly phase: P.Start | P.Child | P.Done;
}

interface ObjectFrame {
  readonly kind: "object";
  readonly node: ObjectNode;
  readonly phase: P;
  /** Declared properties already given. */
  readonly seen: ReadonlySet<string>;
  /** Schema of the value after the current key. */
  readonly value: SchemaNode;
}

interface ArrayFrame {
  readonly kind: "array";
  readonly node: ArrayNode;
  readonly phase: P;
  /** Items completed. */
  readonly count: number;
}

interface StringFrame {
  readonly kind: "string";
  readonly maxLength: number;
  /** UTF-16 code units so far. */
  readonly length: number;
  readonly phase: P;
  /** Hex digits or UTF-8 continuation bytes still expected. */
  readonly pending: number;
  /** Range of the next UTF-8 continuation byte. */
  readonly lo: number;
  readonly hi: number;
  /** An object key (its parent interprets it). */
  readonly key: boolean;
  /** The key's bytes so far (one char per byte), when its text decides its schema. */
  readonly raw: string | null;
}

interface NumberFrame {
  readonly kind: "number";
  readonly integer: boolean;
  readonly phase: P;
  readonly digits: number;
}

interface LiteralFrame {
  readonly kind: "literal";
  readonly values: readonly Uint8Array[];
  /** Indices of the values still matching. */
  readonly alive: readonly number[];
  /** Bytes matched. */
  readonly pos: number;
  /** For keys: the property name of each value. */
  readonly names: readonly string[] | null;
}

type Frame = RootFrame | ObjectFrame | ArrayFrame | StringFrame | NumberFrame | LiteralFrame;

interface Stack {
  readonly frame: Frame;
  readonly below: Stack | null;
}

/** A recognizer state: the open values and the current whitespace run. */
export interface JsonState {
  /** Open values, innermost first. */
  readonly stack: Stack;
  /** Whitespace bytes just read. */
  readonly whitespace: number;
}

/** What a frame does with a byte. */
type Outcome =
  | { readonly t: "set"; readonly frame: Frame }
  | { readonly t: "push"; readonly frame: Frame; readonly child: Frame }
  | { readonly t: "close"; readonly frame: Frame }
  | { readonly t: "end" }
  | { readonly t: "space" }
  | null;

const END: Outcome = { t: "end" };
const SPACE: Outcome = { t: "space" };

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isHex(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of a complete key from its raw bytes (escapes resolved). */
function keyText(raw: string): string {
  if (!raw.includes("\\") && [...raw].every((c) => c < "\x80")) return raw;
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  return JSON.parse(`"${utf8.decode(bytes)}"`);
}

/** Raw body bytes of each declared key, per object node. */
const keyBodies = new WeakMap<ObjectNode, Map<string, string>>();

function bodiesOf(node: ObjectNode): Map<string, string> {
  let bodies = keyBodies.get(node);
  if (!bodies) {
    bodies = new Map();
    for (const [name, bytes] of node.keyBytes) {
      bodies.set(name, String.fromCharCode(...bytes.subarray(1, bytes.length - 1)));
    }
    keyBodies.set(node, bodies);
  }
  return bodies;
}

/** The recognizer for one compiled schema. */
export class JsonAutomaton {
  /** The compiled schema. */
  readonly root: SchemaNode;
  /** Longest whitespace run allowed between tokens. */
  readonly maxWhitespace: number;

  /** A recognizer of documents valid for `root`. */
  constructor(root: SchemaNode, maxWhitespace = 8) {
    this.root = root;
    this.maxWhitespace = maxWhitespace;
  }

  /** The state before any byte. */
  initial(): JsonState {
    return {
      stack: { frame: { kind: "root", node: this.root, phase: P.Start }, below: null },
      whitespace: 0,
    };
  }

  /** The state after `byte`, or null when `byte` cannot come next. */
  advance(state: JsonState, byte: number): JsonState | null {
    let stack = state.stack;
    const spaceOk = state.whitespace < this.maxWhitespace;
    for (;;) {
      const outcome = consume(stack.frame, byte, spaceOk);
      if (outcome === null) return null;
      switch (outcome.t) {
        case "space":
          return { stack, whitespace: state.whitespace + 1 };
        case "set":
          return { stack: settle(outcome.frame, stack.below), whitespace: 0 };
        case "push":
          return {
            stack: settle(outcome.child, { frame: outcome.frame, below: stack.below }),
            whitespace: 0,
          };
        case "close": {
          const parent = stack.below!;
          const frame = completeChild(parent.frame, outcome.frame);
          if (!frame) return null;
          return { stack: { frame, below: parent.below }, whitespace: 0 };
        }
        case "end": {
          const parent = stack.below!;
          const frame = completeChild(parent.frame, stack.frame);
          if (!frame) return null;
          stack = { frame, below: parent.below };
          continue;
        }
      }
    }
  }

  /** The state after all of `bytes`, or null when one of them cannot come. */
  advanceAll(state: JsonState, bytes: Uint8Array): JsonState | null {
    let current: JsonState | null = state;
    for (let i = 0; i < bytes.length && current; i++) current = this.advance(current, bytes[i]);
    return current;
  }

  /** Whether the bytes so far are a complete valid document. */
  accepts(state: JsonState): boolean {
    const { frame, below } = state.stack;
    if (frame.kind === "root") return frame.phase === P.Done;
    return below !== null && below.frame.kind === "root" && canEnd(frame);
  }

  /** The fewest bytes that complete the document from `state` (0 when it is complete). */
  remaining(state: JsonState): number {
    let stack: Stack | null = state.stack;
    const top = stack.frame;
    let total: number;
    if ((top.kind === "literal" && top.names) || (top.kind === "string" && top.key)) {
      total = keyRest(stack.below!.frame as ObjectFrame, top);
      stack = stack.below!.below;
    } else {
      total = rest(top);
      stack = stack.below;
    }
    for (; stack; stack = stack.below) total += restAfterChild(stack.frame);
    return total;
  }

  /**
   * The innermost open string, when the next bytes are plain string content
   * (no quote, backslash or control byte; whole characters): the token mask
   * then prices such tokens without stepping through them. `cost(raw)` is
   * `remaining` after plain content `raw` (one char per byte) of any length.
   */
  openString(state: JsonState): OpenString | undefined {
    const { frame, below } = state.stack;
    if (frame.kind !== "string" || frame.phase !== P.Chars) return undefined;
    const base = this.remaining(state);
    if (frame.raw === null) {
      return {
        length: frame.length,
        maxLength: frame.maxLength,
        cost: () => base,
      };
    }
    // A key whose text picks its schema: only content leading toward a declared name differs.
    if (frame.raw.includes("\\")) return undefined;
    const object = below!.frame as ObjectFrame;
    const ahead: string[] = [];
    for (const body of bodiesOf(object.node).values()) {
      if (body.length > frame.raw.length && body.startsWith(frame.raw)) {
        ahead.push(body.slice(frame.raw.length));
      }
    }
    const extended = (raw: string): JsonState => ({
      stack: { frame: { ...frame, raw: frame.raw + raw }, below },
      whitespace: 0,
    });
    // Content toward no declared name makes a new name: the same cost for all such content.
    let plain = 1 + 1 + object.node.additional!.min + tail(object.node, object.seen);
    for (let stack = below!.below; stack; stack = stack.below) plain += restAfterChild(stack.frame);
    return {
      length: frame.length,
      maxLength: frame.maxLength,
      cost: (raw) =>
        ahead.some((rest) => rest.startsWith(raw)) ? this.remaining(extended(raw)) : plain,
    };
  }
}

/** See {@linkcode JsonAutomaton.openString}. */
export interface OpenString {
  /** UTF-16 code units in the string so far. */
  length: number;
  /** Most code units allowed. */
  maxLength: number;
  /** Bytes to complete the document after plain content `raw` (one char per byte). */
  cost(raw: string): number;
}

/** A closed literal or integer zero takes no more bytes: hand it to its parent now. */
function settle(frame: Frame, below: Stack | null): Stack {
  const closed =
    (frame.kind === "literal" && frame.alive.every((i) => frame.values[i].length === frame.pos)) ||
    (frame.kind === "number" && frame.integer && frame.phase === P.Zero);
  if (closed && below) {
    const parent = completeChild(below.frame, frame);
    // A key literal names an unseen property, so its parent always takes it.
    if (parent) return { frame: parent, below: below.below };
  }
  return { frame, below };
}

function canEnd(frame: Frame): boolean {
  if (frame.kind === "number") {
    return frame.phase === P.Zero || frame.phase === P.Int || frame.phase === P.Frac ||
      frame.phase === P.Exp;
  }
  if (frame.kind === "literal") {
    return frame.alive.some((i) => frame.values[i].length === frame.pos);
  }
  return false;
}

/** The frame a value of `node` opens with its first byte, or null. */
function startValue(node: SchemaNode, byte: number): Frame | null {
  switch (node.kind) {
    case "any":
      if (byte === OPEN_BRACE) return startValue(ANY_OBJECT, byte);
      if (byte === OPEN_BRACKET) return startValue(ANY_ARRAY, byte);
      if (byte === QUOTE) return startValue({ kind: "string", maxLength: Infinity, min: 2 }, byte);
      if (byte === MINUS || isDigit(byte)) {
        return startValue({ kind: "number", integer: false, min: 1 }, byte);
      }
      return startValue(KEYWORDS, byte);
    case "object":
      return byte === OPEN_BRACE
        ? { kind: "object", node, phase: P.Open, seen: new Set(), value: ANY }
        : null;
    case "array":
      return byte === OPEN_BRACKET ? { kind: "array", node, phase: P.Open, count: 0 } : null;
    case "string":
      return byte === QUOTE ? stringFrame(node.maxLength, false, null) : null;
    case "number":
      if (byte === MINUS) {
        return { kind: "number", integer: node.integer, phase: P.Minus, digits: 0 };
      }
      if (byte === 0x30) return { kind: "number", integer: node.integer, phase: P.Zero, digits: 1 };
      if (isDigit(byte)) return { kind: "number", integer: node.integer, phase: P.Int, digits: 1 };
      return null;
    case "literals": {
      const alive = [...node.values.keys()].filter((i) => node.values[i][0] === byte);
      return alive.length > 0
        ? { kind: "literal", values: node.values, alive, pos: 1, names: null }
        : null;
    }
    case "anyOf": {
      const index = node.byFirstByte[byte];
      return index < 0 ? null : startValue(node.options[index], byte);
    }
  }
}

function stringFrame(maxLength: number, key: boolean, raw: string | null): StringFrame {
  return {
    kind: "string",
    maxLength,
    length: 0,
    phase: P.Chars,
    pending: 0,
    lo: 0,
    hi: 0,
    key,
    raw,
  };
}

/** A key's frame after its opening quote. */
function startKey(frame: ObjectFrame): Frame | null {
  const { node } = frame;
  if (node.additional === null) {
    const names = [...node.properties.keys()].filter((name) => !frame.seen.has(name));
    if (names.length === 0) return null;
    const values = names.map((name) => node.keyBytes.get(name)!);
    return { kind: "literal", values, alive: [...values.keys()], pos: 1, names };
  }
  return stringFrame(Infinity, true, node.properties.size > 0 ? "" : null);
}

function canAddMember(frame: ObjectFrame): boolean {
  if (frame.node.additional !== null) return true;
  for (const name of frame.node.properties.keys()) if (!frame.seen.has(name)) return true;
  return false;
}

function hasAllRequired(frame: ObjectFrame): boolean {
  for (const name of frame.node.required) if (!frame.seen.has(name)) return false;
  return true;
}

function consume(frame: Frame, byte: number, spaceOk: boolean): Outcome {
  switch (frame.kind) {
    case "root": {
      if (frame.phase === P.Child) return null;
      if (isSpace(byte)) return spaceOk ? SPACE : null;
      if (frame.phase === P.Done) return null;
      const child = startValue(frame.node, byte);
      return child ? { t: "push", frame: { ...frame, phase: P.Child }, child } : null;
    }
    case "object":
      return consumeObject(frame, byte, spaceOk);
    case "array":
      return consumeArray(frame, byte, spaceOk);
    case "string":
      return consumeString(frame, byte);
    case "number":
      return consumeNumber(frame, byte);
    case "literal": {
      const alive = frame.alive.filter((i) => frame.values[i][frame.pos] === byte);
      if (alive.length > 0) return { t: "set", frame: { ...frame, alive, pos: frame.pos + 1 } };
      return canEnd(frame) ? END : null;
    }
  }
}

function consumeObject(frame: ObjectFrame, byte: number, spaceOk: boolean): Outcome {
  const space = isSpace(byte);
  switch (frame.phase) {
    case P.Open:
    case P.Comma: {
      if (space) return spaceOk ? SPACE : null;
      if (byte === CLOSE_BRACE && frame.phase === P.Open && hasAllRequired(frame)) {
        return { t: "close", frame };
      }
      if (byte !== QUOTE) return null;
      const child = startKey(frame);
      return child ? { t: "push", frame: { ...frame, phase: P.Key }, child } : null;
    }
    case P.Colon:
      if (space) return spaceOk ? SPACE : null;
      return byte === COLON ? { t: "set", frame: { ...frame, phase: P.Value } } : null;
    case P.Value: {
      if (space) return spaceOk ? SPACE : null;
      const child = startValue(frame.value, byte);
      return child ? { t: "push", frame: { ...frame, phase: P.Child }, child } : null;
    }
    case P.After:
      if (space) return spaceOk ? SPACE : null;
      if (byte === COMMA && canAddMember(frame)) {
        return { t: "set", frame: { ...frame, phase: P.Comma } };
      }
      return byte === CLOSE_BRACE && hasAllRequired(frame) ? { t: "close", frame } : null;
    default:
      return null;
  }
}

function consumeArray(frame: ArrayFrame, byte: number, spaceOk: boolean): Outcome {
  const { node } = frame;
  if (frame.phase === P.Child) return null;
  if (isSpace(byte)) return spaceOk ? SPACE : null;
  if (frame.phase === P.After) {
    if (byte === COMMA && frame.count < node.maxItems) {
      return { t: "set", frame: { ...frame, phase: P.Comma } };
    }
    return byte === CLOSE_BRACKET && frame.count >= node.minItems ? { t: "close", frame } : null;
  }
  if (frame.phase === P.Open && byte === CLOSE_BRACKET) {
    return node.minItems === 0 ? { t: "close", frame } : null;
  }
  if (frame.count >= node.maxItems) return null;
  const child = startValue(node.items, byte);
  return child ? { t: "push", frame: { ...frame, phase: P.Child }, child } : null;
}

function consumeString(frame: StringFrame, byte: number): Outcome {
  const raw = frame.raw === null ? null : frame.raw + String.fromCharCode(byte);
  const room = frame.maxLength - frame.length;
  switch (frame.phase) {
    case P.Chars: {
      if (byte === QUOTE) return { t: "close", frame };
      if (byte < 0x20) return null;
      if (byte === BACKSLASH) {
        return room >= 1
          ? { t: "set", frame: { ...frame, phase: P.Escape, length: frame.length + 1, raw } }
          : null;
      }
      if (byte < 0x80) {
        return room >= 1 ? { t: "set", frame: { ...frame, length: frame.length + 1, raw } } : null;
      }
      // UTF-8 lead byte: how many continuation bytes, the range of the first, UTF-16 units.
      let pending: number, lo = 0x80, hi = 0xbf, units = 1;
      if (byte >= 0xc2 && byte <= 0xdf) pending = 1;
      else if (byte >= 0xe0 && byte <= 0xef) {
        pending = 2;
        if (byte === 0xe0) lo = 0xa0;
        if (byte === 0xed) hi = 0x9f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        pending = 3;
        units = 2;
        if (byte === 0xf0) lo = 0x90;
        if (byte === 0xf4) hi = 0x8f;
      } else return null;
      if (room < units) return null;
      return {
        t: "set",
        frame: { ...frame, phase: P.Utf8, pending, lo, hi, length: frame.length + units, raw },
      };
    }
    case P.Escape:
      if (byte === 0x75) return { t: "set", frame: { ...frame, phase: P.Hex, pending: 4, raw } };
      return '"\\/bfnrt'.includes(String.fromCharCode(byte))
        ? { t: "set", frame: { ...frame, phase: P.Chars, raw } }
        : null;
    case P.Hex:
      if (!isHex(byte)) return null;
      return {
        t: "set",
        frame: {
          ...frame,
          pending: frame.pending - 1,
          phase: frame.pending === 1 ? P.Chars : P.Hex,
          raw,
        },
      };
    case P.Utf8:
      if (byte < frame.lo || byte > frame.hi) return null;
      return {
        t: "set",
        frame: {
          ...frame,
          pending: frame.pending - 1,
          phase: frame.pending === 1 ? P.Chars : P.Utf8,
          lo: 0x80,
          hi: 0xbf,
          raw,
        },
      };
    default:
      return null;
  }
}

function consumeNumber(frame: NumberFrame, byte: number): Outcome {
  const digit = isDigit(byte);
  const to = (phase: P, digits = 0): Outcome => ({ t: "set", frame: { ...frame, phase, digits } });
  const fractionOrExponent = (): Outcome => {
    if (frame.integer) return END;
    if (byte === 0x2e) return to(P.Dot);
    if (byte === 0x65 || byte === 0x45) return to(P.ExpE);
    return END;
  };
  switch (frame.phase) {
    case P.Minus:
      if (byte === 0x30) return to(P.Zero, 1);
      return digit ? to(P.Int, 1) : null;
    case P.Zero:
      return digit ? null : fractionOrExponent();
    case P.Int:
      if (digit) {
        const most = frame.integer ? MAX_INTEGER_DIGITS : MAX_NUMBER_DIGITS;
        return frame.digits < most ? to(P.Int, frame.digits + 1) : null;
      }
      return fractionOrExponent();
    case P.Dot:
      return digit ? to(P.Frac, 1) : null;
    case P.Frac:
      if (digit) return frame.digits < MAX_FRAC_DIGITS ? to(P.Frac, frame.digits + 1) : null;
      return byte === 0x65 || byte === 0x45 ? to(P.ExpE) : END;
    case P.ExpE:
      if (byte === 0x2b || byte === MINUS) return to(P.ExpSign);
      return digit ? to(P.Exp, 1) : null;
    case P.ExpSign:
      return digit ? to(P.Exp, 1) : null;
    case P.Exp:
      if (digit) return frame.digits < MAX_EXP_DIGITS ? to(P.Exp, frame.digits + 1) : null;
      return END;
    default:
      return null;
  }
}

/** The parent after its child value (or key) completed, or null when the parent refuses it. */
function completeChild(parent: Frame, child: Frame): Frame | null {
  switch (parent.kind) {
    case "root":
      return { ...parent, phase: P.Done };
    case "array":
      return { ...parent, phase: P.After, count: parent.count + 1 };
    case "object": {
      if (parent.phase === P.Child) return { ...parent, phase: P.After, value: ANY };
      const { node } = parent;
      let name: string | undefined;
      if (child.kind === "literal") {
        name = child.names![child.alive.find((i) => child.values[i].length === child.pos)!];
      } else if (child.kind === "string" && child.raw !== null) name = keyText(child.raw);
      if (name !== undefined && node.properties.has(name)) {
        if (parent.seen.has(name)) return null;
        const seen = new Set(parent.seen).add(name);
        return { ...parent, phase: P.Colon, seen, value: node.properties.get(name)! };
      }
      return { ...parent, phase: P.Colon, value: node.additional ?? ANY };
    }
    default:
      return null;
  }
}

/** Bytes to close the object after its current member, given the properties seen. */
function tail(node: ObjectNode, seen: ReadonlySet<string>): number {
  let total = 1;
  for (const name of node.required) if (!seen.has(name)) total += 1 + memberCost(node, name);
  return total;
}

function missingRequired(node: ObjectNode, seen: ReadonlySet<string>): boolean {
  for (const name of node.required) if (!seen.has(name)) return true;
  return false;
}

/** Cheapest member to add when none is required: a declared one or `"":value`. */
function cheapestMember(frame: ObjectFrame): number {
  const { node } = frame;
  let best = Infinity;
  for (const name of node.properties.keys()) {
    if (!frame.seen.has(name)) best = Math.min(best, memberCost(node, name));
  }
  if (node.additional !== null) {
    // `""`, or a one-character name no property has when `""` is declared.
    best = Math.min(best, (node.properties.has("") ? 3 : 2) + 1 + node.additional.min);
  }
  return best;
}

function stringRest(frame: StringFrame): number {
  if (frame.phase === P.Chars) return 1;
  if (frame.phase === P.Escape) return 2;
  return frame.pending + 1;
}

function rest(frame: Frame): number {
  switch (frame.kind) {
    case "root":
      return frame.phase === P.Start ? frame.node.min : 0;
    case "object": {
      const { node, seen } = frame;
      switch (frame.phase) {
        case P.Open:
          return missingRequired(node, seen) ? tail(node, seen) - 1 : 1;
        case P.Colon:
          return 1 + frame.value.min + tail(node, seen);
        case P.Value:
          return frame.value.min + tail(node, seen);
        case P.After:
          return tail(node, seen);
        default: // Comma
          return missingRequired(node, seen) ? tail(node, seen) - 1 : cheapestMember(frame) + 1;
      }
    }
    case "array": {
      const { node, count } = frame;
      if (frame.phase === P.Open) return node.minItems === 0 ? 1 : node.min - 1;
      if (frame.phase === P.After) {
        return Math.max(0, node.minItems - count) * (1 + node.items.min) + 1;
      }
      const items = Math.max(1, node.minItems - count);
      return items * node.items.min + items; // Comma: items, separators between them, `]`
    }
    case "string":
      return stringRest(frame);
    case "number":
      return frame.phase === P.Minus || frame.phase === P.Dot || frame.phase === P.ExpE ||
          frame.phase === P.ExpSign
        ? 1
        : 0;
    case "literal": {
      let best = Infinity;
      for (const i of frame.alive) best = Math.min(best, frame.values[i].length - frame.pos);
      return best;
    }
  }
}

function restAfterChild(frame: Frame): number {
  switch (frame.kind) {
    case "object":
      return tail(frame.node, frame.seen);
    case "array":
      return Math.max(0, frame.node.minItems - frame.count - 1) * (1 + frame.node.items.min) + 1;
    default:
      return 0;
  }
}

/** Bytes to finish a key being read, its value, and the object. */
function keyRest(object: ObjectFrame, key: LiteralFrame | StringFrame): number {
  const { node, seen } = object;
  const member = (name: string) => {
    const value = node.properties.get(name)!;
    return 1 + value.min + tail(node, new Set(seen).add(name));
  };
  if (key.kind === "literal") {
    let best = Infinity;
    for (const i of key.alive) {
      best = Math.min(best, key.values[i].length - key.pos + member(key.names![i]));
    }
    return best;
  }
  const additional = 1 + node.additional!.min + tail(node, seen);
  if (key.raw === null) return stringRest(key) + additional;
  // Spelling out a declared name (its escapes included) ...
  let best = Infinity;
  for (const [name, body] of bodiesOf(node)) {
    if (!seen.has(name) && body.length > key.raw.length && body.startsWith(key.raw)) {
      best = Math.min(best, body.length - key.raw.length + 1 + member(name));
    }
  }
  if (key.phase !== P.Chars) {
    // ... or finishing the escape or character with its smallest bytes, then as below.
    const next = key.phase === P.Escape ? 0x6e : key.phase === P.Hex ? 0x30 : key.lo;
    const outcome = consumeString(key, next) as { frame: StringFrame };
    return Math.min(best, 1 + keyRest(object, outcome.frame));
  }
  // ... or closing the key now: a new name, a declared one, or one more character after a
  // name already given.
  const text = keyText(key.raw);
  if (!node.properties.has(text)) best = Math.min(best, 1 + additional);
  else if (!seen.has(text)) best = Math.min(best, 1 + member(text));
  else best = Math.min(best, 2 + additional);
  return best;
}
