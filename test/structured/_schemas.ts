// Shared by the structured-output tests: small random JSON schemas, documents
// valid for them, and the two vocabularies the mask is checked over.
import fc from "fast-check";
import { TextTokenizer } from "../../src/text/tokenizer.ts";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import { getPreset } from "../../variants/mod.ts";

type Schema = Record<string, unknown>;

const SHIPPED = new URL("../../models/tiny-smolvlm/", import.meta.url);

/** The shipped tiny model's tokenizer and EOS id. */
export function tinyTokenizer(): { tokenizer: TextTokenizer; eos: number } {
  const read = (name: string) => JSON.parse(Deno.readTextFileSync(new URL(name, SHIPPED)));
  return {
    tokenizer: new TextTokenizer(read("tokenizer.json"), read("tokenizer_config.json")),
    eos: 354,
  };
}

/** A synthesized SmolVLM-256M tokenizer (49,280 ids) and its EOS id. */
export function smolvlm256mTokenizer(): { tokenizer: TextTokenizer; eos: number } {
  const spec = getPreset("smolvlm-256m-instruct");
  return { tokenizer: new TextTokenizer(tokenizerJson(spec)), eos: spec.tokens.eosIds[0] };
}

const key = fc.oneof(
  fc.constantFrom("name", "id", "tags", "a", "ab", "value"),
  fc.string({ unit: "binary", maxLength: 3 }),
);

const literal = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer({ min: -50, max: 50 }),
  fc.boolean(),
  fc.constant(null),
);

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant({ type: "string" }),
  fc.integer({ min: 0, max: 6 }).map((n) => ({ type: "string", maxLength: n })),
  fc.constant({ type: "integer" }),
  fc.constant({ type: "number" }),
  fc.constant({ type: "boolean" }),
  fc.constant({ type: "null" }),
  fc.uniqueArray(literal, { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) })
    .map((values) => ({ enum: values })),
  literal.map((value) => ({ const: value })),
  fc.constant({ type: ["string", "null"], maxLength: 5 }),
  fc.constant({
    anyOf: [{ type: "integer" }, { type: "boolean" }, { type: "string", maxLength: 3 }],
  }),
  fc.constant({}),
);

/** Small schemas: leaves, objects (required/optional/additional) and arrays, nested. */
export const schemaArb: fc.Arbitrary<Schema> =
  fc.letrec<{ schema: Schema; object: Schema; array: Schema }>((tie) => ({
    schema: fc.oneof({ depthSize: "small", maxDepth: 3 }, leaf, tie("object"), tie("array")),
    object: fc.record({
      properties: fc.dictionary(key, tie("schema"), { maxKeys: 4 }),
      required: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      additional: fc.oneof(fc.constant(false), fc.constant(undefined), leaf),
    }).map(({ properties, required, additional }) => ({
      type: "object",
      properties,
      required: Object.keys(properties).filter((_, i) => required[i]),
      ...(additional === undefined ? {} : { additionalProperties: additional }),
    })),
    array: fc.record({
      items: tie("schema"),
      minItems: fc.integer({ min: 0, max: 2 }),
      extra: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    }).map(({ items, minItems, extra }) => ({
      type: "array",
      items,
      minItems,
      ...(extra === undefined ? {} : { maxItems: minItems + extra }),
    })),
  })).schema;

// Numbers whose JSON text stays within the automaton's digit limits.
const integer = fc.integer({ min: -(1e15 - 1), max: 1e15 - 1 });
const number = fc.oneof(
  integer,
  fc.double({ min: -1e15, max: 1e15, noNaN: true }).filter((x) => x === 0 || Math.abs(x) >= 1e-90),
);
const string = (maxLength = Infinity) =>
  fc.string({ unit: "binary", maxLength: Math.min(maxLength, 8) }).filter((s) =>
    s.length <= maxLength
  );

const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 2 },
    string(),
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(string(), tie("value"), { maxKeys: 3 }),
  ),
})).value;

function types(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  return schema.type === undefined ? [] : [schema.type as string];
}

/** Values valid for `schema` (one of the schemas above). */
export function valueArb(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if ("const" in schema) return fc.constant(schema.const);
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as Schema[]).map(valueArb));
  const kinds = types(schema);
  if (kinds.length === 0) return anyValue;
  return fc.oneof(...kinds.map((type) => ofType(type, schema)));
}

function ofType(type: string, schema: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case "string":
      return string((schema.maxLength as number | undefined) ?? Infinity);
    case "integer":
      return integer;
    case "number":
      return number;
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(valueArb(schema.items as Schema), {
        minLength: schema.minItems as number,
        maxLength: (schema.maxItems as number | undefined) ?? (schema.minItems as number) + 2,
      });
    default: {
      const properties = schema.properties as Record<string, Schema>;
      const required = new Set(schema.required as string[]);
      const additional = schema.additionalProperties;
      const entries = Object.entries(properties).map(([name, sub]) => {
        const member = valueArb(sub).map((v) => [name, v] as const);
        return required.has(name) ? member : fc.option(member, { nil: undefined });
      });
      const extra = additional === false ? fc.constant([]) : fc.array(
        fc.tuple(
          string(4).filter((k) => !(k in properties)),
          valueArb((additional ?? {}) as Schema),
        ),
        { maxLength: 2 },
      );
      return fc.tuple(fc.tuple(...entries), extra).chain(([declared, more]) =>
        fc.shuffledSubarray(
          [...declared.filter((e) => e !== undefined), ...more],
          { minLength: declared.filter((e) => e !== undefined).length + more.length },
        )
      ).map((members) => Object.fromEntries(members));
    }
  }
}
