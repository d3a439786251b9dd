/**
 * JSON schema → {@linkcode SchemaNode}: the subset constrained decoding can
 * guarantee. Every keyword is either compiled, ignored because it only
 * annotates (title, description, ...), or refused with an issue naming it: a
 * keyword is never dropped silently, since the output could then break it.
 *
 * Supported: `type` (one or a list), `properties`, `required`,
 * `additionalProperties` (boolean or schema; absent means any), `items`,
 * `minItems`, `maxItems`, `maxLength` (UTF-16 code units, the stricter of the
 * two readings validators use), `enum`, `const`, `anyOf` (alternatives told
 * apart by their first character), and `$ref` to `#/$defs/…` or
 * `#/definitions/…` (not recursive).
 *
 * @module
 */
import type { VlmIssue } from "../errors/issue.ts";
import { VlmError } from "../errors/vlm_error.ts";
import {
  ANY,
  arrayNode,
  fits,
  type LiteralsNode,
  literalsNode,
  objectNode,
  type SchemaNode,
} from "./schema_node.ts";

const ANNOTATIONS = new Set([
  "title",
  "description",
  "$schema",
  "$id",
  "$comment",
  "examples",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$defs",
  "definitions",
]);

const KEYWORDS = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "maxLength",
  "enum",
  "const",
  "anyOf",
  "$ref",
]);

const SUPPORTED_LIST = [...KEYWORDS].join(", ");

const TYPES = ["object", "array", "string", "number", "integer", "boolean", "null"] as const;
type TypeName = typeof TYPES[number];

/** Keywords that only apply to values of one type (used to infer a missing `type`). */
const TYPE_KEYWORDS: Record<string, TypeName> = {
  properties: "object",
  required: "object",
  additionalProperties: "object",
  items: "array",
  minItems: "array",
  maxItems: "array",
  maxLength: "string",
};

const NUMBER_FIRST = "-0123456789";

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Compiler {
  readonly issues: VlmIssue[] = [];
  readonly #root: unknown;
  readonly #expanding: string[] = [];

  constructor(root: unknown) {
    this.#root = root;
  }

  issue(path: string, message: string, fix: string): void {
    this.issues.push({ path, message, fix });
  }

  compile(schema: unknown, path: string): SchemaNode {
    if (schema === true) return ANY;
    if (!isRecord(schema)) {
      this.issue(
        path,
        schema === false ? "the schema `false` accepts no value" : "a schema must be an object",
        'give a schema object such as {"type": "string"}',
      );
      return ANY;
    }
    for (const key of Object.keys(schema)) {
      if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) {
        this.issue(
          `${path}.${key}`,
          `the keyword "${key}" is not supported by constrained decoding`,
          `remove "${key}" from the schema (supported: ${SUPPORTED_LIST})`,
        );
      }
    }
    const constraints = Object.keys(schema).filter((k) => KEYWORDS.has(k));
    if (schema.$ref !== undefined) return this.#ref(schema, constraints, path);
    if (schema.anyOf !== undefined) return this.#anyOf(schema, constraints, path);
    if (schema.enum !== undefined || schema.const !== undefined) {
      return this.#literals(schema, path);
    }
    return this.#typed(schema, path);
  }

  #ref(schema: Json, constraints: string[], path: string): SchemaNode {
    const ref = schema.$ref;
    const others = constraints.filter((k) => k !== "$ref");
    if (others.length > 0) {
      this.issue(
        path,
        `"$ref" next to ${others.join(", ")} is not supported`,
        "move them into the referenced definition",
      );
      return ANY;
    }
    const match = typeof ref === "string" ? /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) : null;
    if (!match) {
      this.issue(
        `${path}.$ref`,
        `only references to "#/$defs/NAME" or "#/definitions/NAME" are supported, got ${
          JSON.stringify(ref)
        }`,
        "put the schema under $defs and refer to it as #/$defs/NAME",
      );
      return ANY;
    }
    const name = match[2].replaceAll("~1", "/").replaceAll("~0", "~");
    const defs = isRecord(this.#root) ? this.#root[match[1]] : undefined;
    if (!isRecord(defs) || !(name in defs)) {
      this.issue(`${path}.$ref`, `"${ref}" names no definition`, `add "${name}" under ${match[1]}`);
      return ANY;
    }
    if (this.#expanding.includes(ref as string)) {
      this.issue(
        `${path}.$ref`,
        `"${ref}" refers to itself: recursive schemas are not supported`,
        "unroll the recursion to a fixed depth",
      );
      return ANY;
    }
    this.#expanding.push(ref as string);
    const node = this.compile(defs[name], `${match[1]}.${name}`);
    this.#expanding.pop();
    return node;
  }

  #anyOf(schema: Json, constraints: string[], path: string): SchemaNode {
    const others = constraints.filter((k) => k !== "anyOf");
    if (others.length > 0) {
      this.issue(
        path,
        `"anyOf" next to ${others.join(", ")} is not supported`,
        "move them into each anyOf alternative",
      );
      return ANY;
    }
    const options = schema.anyOf;
    if (!Array.isArray(options) || options.length === 0) {
      this.issue(`${path}.anyOf`, "must be a non-empty array of schemas", "list the alternatives");
      return ANY;
    }
    const nodes = options.map((option, i) => this.compile(option, `${path}.anyOf.${i}`));
    return this.union(nodes, `${path}.anyOf`);
  }

  #literals(schema: Json, path: string): SchemaNode {
    let values: unknown[];
    if (schema.const !== undefined) {
      if (schema.enum !== undefined) {
        this.issue(path, "give either enum or const, not both", "keep one of them");
        return ANY;
      }
      values = [schema.const];
    } else if (!Array.isArray(schema.enum) || schema.enum.length === 0) {
      this.issue(`${path}.enum`, "must be a non-empty array", "list the allowed values");
      return ANY;
    } else values = schema.enum;
    const restricted = Object.keys(schema).some((k) =>
      KEYWORDS.has(k) && k !== "enum" && k !== "const"
    );
    if (restricted) {
      const { enum: _e, const: _c, ...rest } = schema;
      const node = this.#typed(rest, path);
      values = values.filter((value) => fits(node, value));
      if (values.length === 0) {
        this.issue(
          path,
          "no value of enum/const fits the other keywords of the schema",
          "make the listed values match the schema",
        );
        return ANY;
      }
    }
    return literalsNode(values);
  }

  #typed(schema: Json, path: string): SchemaNode {
    let types: TypeName[];
    if (schema.type === undefined) {
      // No type: the types whose keywords appear (a subset of what the schema allows), else any.
      types = [
        ...new Set(Object.keys(schema).flatMap((k) => TYPE_KEYWORDS[k] ? [TYPE_KEYWORDS[k]] : [])),
      ];
      if (types.length === 0) return ANY;
    } else {
      const given = Array.isArray(schema.type) ? schema.type : [schema.type];
      const bad = given.filter((t) => !(TYPES as readonly unknown[]).includes(t));
      if (given.length === 0 || bad.length > 0) {
        this.issue(
          `${path}.type`,
          `unknown type ${JSON.stringify(bad[0] ?? [])}`,
          `use one or more of: ${TYPES.join(", ")}`,
        );
        return ANY;
      }
      types = given as TypeName[];
    }
    const nodes = types.map((type) => this.#ofType(type, schema, path));
    return nodes.length === 1 ? nodes[0] : this.union(nodes, `${path}.type`);
  }

  #ofType(type: TypeName, schema: Json, path: string): SchemaNode {
    switch (type) {
      case "boolean":
        return literalsNode([true, false]);
      case "null":
        return literalsNode([null]);
      case "number":
      case "integer":
        return { kind: "number", integer: type === "integer", min: 1 };
      case "string": {
        const maxLength = this.#count(schema, "maxLength", path, Infinity);
        return { kind: "string", maxLength, min: 2 };
      }
      case "array": {
        if (Array.isArray(schema.items)) {
          this.issue(
            `${path}.items`,
            "tuple items (an array of schemas) are not supported",
            "give one schema for every item",
          );
        }
        const items = schema.items === undefined || Array.isArray(schema.items)
          ? ANY
          : this.compile(schema.items, `${path}.items`);
        const minItems = this.#count(schema, "minItems", path, 0);
        const maxItems = this.#count(schema, "maxItems", path, Infinity);
        if (minItems > maxItems) {
          this.issue(
            `${path}.minItems`,
            `minItems ${minItems} exceeds maxItems ${maxItems}`,
            "lower minItems or raise maxItems",
          );
        }
        return arrayNode(items, minItems, Math.max(minItems, maxItems));
      }
      case "object":
        return this.#object(schema, path);
    }
  }

  #object(schema: Json, path: string): SchemaNode {
    const properties = new Map<string, SchemaNode>();
    if (schema.properties !== undefined) {
      if (!isRecord(schema.properties)) {
        this.issue(
          `${path}.properties`,
          "must be an object of schemas",
          "map each property name to its schema",
        );
      } else {
        for (const [name, sub] of Object.entries(schema.properties)) {
          properties.set(name, this.compile(sub, `${path}.properties.${name}`));
        }
      }
    }
    let additional: SchemaNode | null = ANY;
    if (schema.additionalProperties === false) additional = null;
    else if (schema.additionalProperties !== undefined) {
      additional = this.compile(schema.additionalProperties, `${path}.additionalProperties`);
    }
    const required = new Set<string>();
    const list = schema.required ?? [];
    if (!Array.isArray(list) || list.some((n) => typeof n !== "string")) {
      this.issue(
        `${path}.required`,
        "must be an array of property names",
        "list the names as strings",
      );
    } else {
      for (const name of list as string[]) {
        if (!properties.has(name)) {
          if (additional === null) {
            this.issue(
              `${path}.required`,
              `"${name}" is required but not in properties, and additionalProperties is false`,
              `declare "${name}" under properties`,
            );
            continue;
          }
          properties.set(name, additional);
        }
        required.add(name);
      }
    }
    return objectNode(properties, required, additional);
  }

  #count(schema: Json, key: string, path: string, absent: number): number {
    const value = schema[key];
    if (value === undefined) return absent;
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      this.issue(
        `${path}.${key}`,
        `must be a non-negative integer, got ${JSON.stringify(value)}`,
        `give ${key} as a whole number ≥ 0`,
      );
      return absent;
    }
    return value as number;
  }

  /** One node for alternatives; refuses alternatives that start with the same character. */
  union(nodes: SchemaNode[], path: string): SchemaNode {
    const flat = nodes.flatMap((n) => n.kind === "anyOf" ? n.options : [n]);
    if (flat.some((n) => n.kind === "any")) return ANY;
    let options: SchemaNode[] = flat.filter((n) => n.kind !== "literals" && n.kind !== "number");
    // integer ∪ number = number.
    const numbers = flat.filter((n) => n.kind === "number");
    if (numbers.length > 0) {
      options.push(numbers.find((n) => n.kind === "number" && !n.integer) ?? numbers[0]);
    }
    // Literals another option already produces are dropped; the rest become one set.
    const decoder = new TextDecoder();
    const literalTexts = flat.filter((n): n is LiteralsNode => n.kind === "literals")
      .flatMap((n) => n.values.map((v) => decoder.decode(v)));
    const kept = literalTexts.map((t) => JSON.parse(t)).filter((value) =>
      !options.some((o) => fits(o, value))
    );
    if (kept.length > 0) options = [...options, literalsNode(kept)];
    if (options.length === 1) return options[0];
    const byFirstByte = new Int16Array(256).fill(-1);
    options.forEach((option, index) => {
      for (const byte of firstBytes(option)) {
        const other = byFirstByte[byte];
        if (other !== -1 && other !== index) {
          this.issue(
            path,
            `two alternatives (${options[other].kind} and ${option.kind}) can both start with ${
              JSON.stringify(String.fromCharCode(byte))
            }; alternatives must differ in their first character`,
            "merge those alternatives into one schema, or make them different types",
          );
          return;
        }
        byFirstByte[byte] = index;
      }
    });
    return { kind: "anyOf", options, byFirstByte, min: Math.min(...options.map((o) => o.min)) };
  }
}

/** The bytes a value of `node` can start with. */
export function firstBytes(node: SchemaNode): number[] {
  switch (node.kind) {
    case "object":
      return [0x7b];
    case "array":
      return [0x5b];
    case "string":
      return [0x22];
    case "number":
      return [...NUMBER_FIRST].map((c) => c.charCodeAt(0));
    case "literals":
      return [...new Set(node.values.map((v) => v[0]))];
    case "anyOf":
      return node.options.flatMap(firstBytes);
    case "any":
      return [...'{["tfn' + NUMBER_FIRST].map((c) => c.charCodeAt(0));
  }
}

/**
 * Compiles a JSON schema for constrained decoding. Throws an `input_invalid`
 * {@linkcode VlmError} listing every unsupported keyword or malformed part;
 * issue paths start at `path`.
 */
export function compileJsonSchema(schema: unknown, path = "schema"): SchemaNode {
  const compiler = new Compiler(schema);
  const node = compiler.compile(schema, path);
  if (compiler.issues.length > 0) {
    throw VlmError.fromIssues(
      "input_invalid",
      "the JSON schema cannot be enforced",
      compiler.issues,
    );
  }
  return node;
}
