/**
 * The compiled form of a JSON schema that the decoding automaton walks: one
 * node per value position, each knowing the fewest bytes a valid value of it
 * takes (`min`), which is what steers generation toward closing when the
 * token budget runs low.
 *
 * @module
 */

/** Any JSON value (`{}`, `true`, or a position with no constraint). */
export interface AnyNode {
  /** Kind. */
  readonly kind: "any";
  /** Fewest bytes of a value (`0`). */
  readonly min: number;
}

/** An object with declared properties. */
export interface ObjectNode {
  /** Kind. */
  readonly kind: "object";
  /** Declared properties (required ones not declared get the additional schema). */
  readonly properties: ReadonlyMap<string, SchemaNode>;
  /** Each declared name as its JSON text, quotes included, UTF-8. */
  readonly keyBytes: ReadonlyMap<string, Uint8Array>;
  /** Names that must appear. */
  readonly required: ReadonlySet<string>;
  /** Schema of other properties, or null when no other property is allowed. */
  readonly additional: SchemaNode | null;
  /** Fewest bytes of a value. */
  readonly min: number;
}

/** An array. */
export interface ArrayNode {
  /** Kind. */
  readonly kind: "array";
  /** Schema of every item. */
  readonly items: SchemaNode;
  /** Fewest items. */
  readonly minItems: number;
  /** Most items (Infinity when unbounded). */
  readonly maxItems: number;
  /** Fewest bytes of a value. */
  readonly min: number;
}

/** A string. */
export interface StringNode {
  /** Kind. */
  readonly kind: "string";
  /** Most UTF-16 code units (Infinity when unbounded). */
  readonly maxLength: number;
  /** Fewest bytes of a value (`""`). */
  readonly min: number;
}

/** A number or an integer. */
export interface NumberNode {
  /** Kind. */
  readonly kind: "number";
  /** Only integers (no fraction, no exponent). */
  readonly integer: boolean;
  /** Fewest bytes of a value. */
  readonly min: number;
}

/** One of a fixed set of values (enum, const, boolean, null), matched as their JSON texts. */
export interface LiteralsNode {
  /** Kind. */
  readonly kind: "literals";
  /** The values' JSON texts (`JSON.stringify`), UTF-8. */
  readonly values: readonly Uint8Array[];
  /** Fewest bytes of a value. */
  readonly min: number;
}

/** One of several schemas, told apart by the first byte of the value. */
export interface AnyOfNode {
  /** Kind. */
  readonly kind: "anyOf";
  /** The alternatives. */
  readonly options: readonly SchemaNode[];
  /** For each first byte, the index of the option it starts, or -1. */
  readonly byFirstByte: Int16Array;
  /** Fewest bytes of a value. */
  readonly min: number;
}

/** A compiled schema node. */
export type SchemaNode =
  | AnyNode
  | ObjectNode
  | ArrayNode
  | StringNode
  | NumberNode
  | LiteralsNode
  | AnyOfNode;

const encoder = new TextEncoder();

/** UTF-8 of a value's compact JSON text. */
export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Any JSON value. */
export const ANY: AnyNode = { kind: "any", min: 1 };

/** Bytes one more property costs: `"key":value`. */
export function memberCost(node: ObjectNode, name: string): number {
  const value = node.properties.get(name) ?? node.additional ?? ANY;
  return (node.keyBytes.get(name)?.length ?? jsonBytes(name).length) + 1 + value.min;
}

/** Builds an object node and its `min`. */
export function objectNode(
  properties: ReadonlyMap<string, SchemaNode>,
  required: ReadonlySet<string>,
  additional: SchemaNode | null,
): ObjectNode {
  const keyBytes = new Map([...properties.keys()].map((name) => [name, jsonBytes(name)]));
  const partial = { kind: "object", properties, keyBytes, required, additional, min: 0 } as const;
  let min = 2 + Math.max(0, required.size - 1);
  for (const name of required) min += memberCost(partial, name);
  return { ...partial, min };
}

/** Builds an array node and its `min`. */
export function arrayNode(items: SchemaNode, minItems: number, maxItems: number): ArrayNode {
  const min = 2 + minItems * items.min + Math.max(0, minItems - 1);
  return { kind: "array", items, minItems, maxItems, min };
}

/** Builds a literal set (values deduplicated by their JSON text). */
export function literalsNode(values: readonly unknown[]): LiteralsNode {
  const texts = [...new Set(values.map((v) => JSON.stringify(v)))];
  const bytes = texts.map((t) => encoder.encode(t));
  return { kind: "literals", values: bytes, min: Math.min(...bytes.map((b) => b.length)) };
}

/** A JSON object (a parsed value that is neither array nor null). */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const decoder = new TextDecoder();

/** Whether `value` (a parsed JSON value) is valid for `node`. */
export function fits(node: SchemaNode, value: unknown): boolean {
  switch (node.kind) {
    case "any":
      return true;
    case "string":
      return typeof value === "string" && value.length <= node.maxLength;
    case "number":
      return typeof value === "number" && Number.isFinite(value) &&
        (!node.integer || Number.isSafeInteger(value));
    case "literals": {
      const text = JSON.stringify(value);
      return node.values.some((v) => decoder.decode(v) === text);
    }
    case "anyOf":
      return node.options.some((option) => fits(option, value));
    case "array":
      return Array.isArray(value) && value.length >= node.minItems &&
        value.length <= node.maxItems && value.every((item) => fits(node.items, item));
    case "object": {
      if (!isRecord(value)) return false;
      for (const name of node.required) if (!(name in value)) return false;
      return Object.entries(value).every(([name, item]) => {
        const schema = node.properties.get(name) ?? node.additional;
        return schema !== null && fits(schema, item);
      });
    }
  }
}
