/**
 * Seeded mutators for the fuzz suites: text mutations of real seed files
 * (truncate, delete, repeat a stretch, insert a token, flip a character) and
 * value mutations of parsed JSON seeds (replace or delete a value, add
 * prototype-like keys, nest thousands deep).
 *
 * @module
 */
import fc from "fast-check";

/** Keys that name `Object.prototype` members: must stay plain data everywhere. */
export const PROTO_KEYS = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty"];

type TextOp =
  | { kind: "truncate"; at: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "repeat"; at: number; length: number; times: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "flip"; at: number; code: number };

function textOp(tokens: readonly string[]): fc.Arbitrary<TextOp> {
  const at = fc.nat();
  return fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({
      kind: fc.constant("delete" as const),
      at,
      length: fc.integer({ min: 1, max: 64 }),
    }),
    fc.record({
      kind: fc.constant("repeat" as const),
      at,
      length: fc.integer({ min: 1, max: 80 }),
      times: fc.integer({ min: 2, max: 60 }),
    }),
    fc.record({
      kind: fc.constant("insert" as const),
      at,
      text: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 })),
    }),
    fc.record({
      kind: fc.constant("flip" as const),
      at,
      code: fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0xd800, max: 0xdfff })),
    }),
  );
}

function applyText(text: string, op: TextOp): string {
  const at = text.length === 0 ? 0 : op.at % (text.length + 1);
  switch (op.kind) {
    case "truncate":
      return text.slice(0, at);
    case "delete":
      return text.slice(0, at) + text.slice(at + op.length);
    case "repeat":
      return text.slice(0, at) + text.slice(at, at + op.length).repeat(op.times) +
        text.slice(at + op.length);
    case "insert":
      return text.slice(0, at) + op.text + text.slice(at);
    case "flip":
      return text.slice(0, at) + String.fromCharCode(op.code) + text.slice(at + 1);
  }
}

/**
 * A seed (optionally a window of at most `window` characters of it) with one
 * to six mutations, or a soup of `tokens`.
 */
export function mutatedText(
  seeds: readonly string[],
  tokens: readonly string[],
  window = Infinity,
): fc.Arbitrary<string> {
  const mutated = fc.tuple(
    fc.constantFrom(...seeds),
    fc.nat(),
    fc.array(textOp(tokens), { minLength: 1, maxLength: 6 }),
  ).map(([seed, start, ops]) => {
    const from = seed.length > window ? start % (seed.length - window) : 0;
    return ops.reduce(applyText, seed.slice(from, from + window));
  });
  const soup = fc.array(fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 })), {
    maxLength: 200,
  }).map((parts) => parts.join(""));
  return fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: soup });
}

/** A value nested `depth` deep in arrays or objects. */
export function deepValue(depth: number, inObjects: boolean): unknown {
  let value: unknown = null;
  for (let i = 0; i < depth; i++) value = inObjects ? { a: value } : [value];
  return value;
}

/** An object whose own keys are prototype-like names (built by JSON.parse so `__proto__` is a key). */
function protoKeyed(key: string, value: unknown): unknown {
  return JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value ?? null)}}`);
}

/** Values a hostile client or a broken server may put anywhere. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, 1e308, "", "\uD800", [], {}),
    fc.constantFrom(...PROTO_KEYS).chain((key) =>
      fc.jsonValue({ maxDepth: 1 }).map((value) => protoKeyed(key, value))
    ),
    fc.record({ toString: fc.jsonValue({ maxDepth: 1 }) }),
    fc.tuple(fc.integer({ min: 500, max: 5000 }), fc.boolean()).map(([d, o]) => deepValue(d, o)),
  );
}

type ValueOp =
  | { kind: "replace"; target: number; value: unknown }
  | { kind: "delete"; target: number }
  | { kind: "addKey"; target: number; key: string; value: unknown };

function valueOp(): fc.Arbitrary<ValueOp> {
  const target = fc.nat();
  return fc.oneof(
    fc.record({ kind: fc.constant("replace" as const), target, value: hostileValue() }),
    fc.record({ kind: fc.constant("delete" as const), target }),
    fc.record({
      kind: fc.constant("addKey" as const),
      target,
      key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })),
      value: hostileValue(),
    }),
  );
}

/** Every (container, key) slot of a JSON value, found iteratively. */
function slots(root: { v: unknown }): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = [];
  const stack: Record<string, unknown>[] = [root as Record<string, unknown>];
  while (stack.length > 0 && out.length < 10_000) {
    const container = stack.pop()!;
    for (const key of Object.keys(container)) {
      out.push([container, key]);
      const child = container[key];
      if (typeof child === "object" && child !== null) stack.push(child as Record<string, unknown>);
    }
  }
  return out;
}

function applyValue(root: { v: unknown }, op: ValueOp): void {
  const all = slots(root);
  const [container, key] = all[op.target % all.length];
  if (op.kind === "replace") container[key] = op.value;
  else if (op.kind === "delete" && container !== root) {
    if (Array.isArray(container)) container.splice(Number(key), 1);
    else delete container[key];
  } else if (op.kind === "addKey") {
    const target = container[key];
    if (typeof target === "object" && target !== null && !Array.isArray(target)) {
      Object.defineProperty(target, op.key, {
        value: op.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
}

/** A JSON seed (deep-copied) with one to four value mutations. */
export function mutatedValue(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(valueOp(), { minLength: 1, maxLength: 4 }))
    .map(([seed, ops]) => {
      const root = { v: structuredClone(seed) };
      for (const op of ops) applyValue(root, op);
      return root.v;
    });
}

/** A JSON seed's text with text mutations (for parsers that read JSON text). */
export function mutatedJsonText(seeds: readonly unknown[]): fc.Arbitrary<string> {
  return mutatedText(seeds.map((s) => JSON.stringify(s)), [
    '"',
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
  ]);
}
