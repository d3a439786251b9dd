// Properties of the JSON token mask over two real vocabularies (the shipped
// tiny model's and a synthesized SmolVLM-256M's): every valid document is
// reachable token by token, and no prefix the mask allows is a dead end.
import assert from "node:assert/strict";
import fc from "fast-check";
import { z } from "zod";
import { compileJsonSchema } from "../../src/structured/json_schema.ts";
import { JsonAutomaton } from "../../src/structured/json_automaton.ts";
import { JsonConstraint } from "../../src/structured/json_constraint.ts";
import { fits } from "../../src/structured/schema_node.ts";
import { vocabularyOf } from "../../src/structured/vocabulary.ts";
import type { TextTokenizer } from "../../src/text/tokenizer.ts";
import { schemaArb, smolvlm256mTokenizer, tinyTokenizer, valueArb } from "./_schemas.ts";

const vocabularies = [
  { name: "tiny-smolvlm", ...tinyTokenizer() },
  { name: "synthesized SmolVLM-256M", ...smolvlm256mTokenizer() },
];

function constraint(
  schema: unknown,
  tokenizer: TextTokenizer,
  eos: number,
  maxNewTokens?: number,
): JsonConstraint {
  const automaton = new JsonAutomaton(compileJsonSchema(schema));
  return new JsonConstraint(automaton, vocabularyOf(tokenizer), { stopIds: [eos], maxNewTokens });
}

/** Parses and validates with zod's own reading of the schema (an independent validator). */
function assertValid(schema: Record<string, unknown>, text: string): void {
  const value = JSON.parse(text);
  const result = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(
    value,
  );
  assert.ok(result.success, `${text} does not validate against ${JSON.stringify(schema)}`);
  assert.ok(fits(compileJsonSchema(schema), value));
}

function isValid(schema: Record<string, unknown>, text: string): boolean {
  try {
    return fits(compileJsonSchema(schema), JSON.parse(text));
  } catch {
    return false;
  }
}

for (const { name, tokenizer, eos } of vocabularies) {
  Deno.test(`mask (${name}): every valid document is reachable token by token, then EOS`, () => {
    fc.assert(
      fc.property(
        schemaArb.chain((schema) =>
          fc.tuple(fc.constant(schema), valueArb(schema), fc.constantFrom(undefined, 1))
        ),
        ([schema, value, indent]) => {
          const text = JSON.stringify(value, null, indent);
          assertValid(schema, text); // the generator itself is right
          const ids = tokenizer.encode(text);
          assert.equal(tokenizer.decode(ids), text);
          const mask = constraint(schema, tokenizer, eos);
          for (let i = 0; i < ids.length; i++) {
            mask.advance(ids.slice(0, i));
            const allowed = mask.allowedIds();
            assert.ok(
              allowed.includes(ids[i]),
              `token ${i} ${JSON.stringify(tokenizer.decode([ids[i]]))} of ${text} is masked`,
            );
            // EOS exactly when the prefix is itself a valid document (`-1` of `-10`).
            const prefix = tokenizer.decode(ids.slice(0, i));
            assert.equal(allowed.includes(eos), isValid(schema, prefix), `EOS after ${prefix}`);
          }
          mask.advance(ids);
          assert.ok(mask.complete);
          assert.ok(mask.allowedIds().includes(eos));
        },
      ),
      { numRuns: name === "tiny-smolvlm" ? 300 : 120 },
    );
  });

  Deno.test(`mask (${name}): from any allowed prefix, greedy completion with the mask reaches a valid document`, () => {
    fc.assert(
      fc.property(
        schemaArb,
        fc.array(fc.nat(), { maxLength: 30 }),
        (schema, choices) => {
          const mask = constraint(schema, tokenizer, eos);
          const ids: number[] = [];
          // A random walk through allowed tokens (EOS aside) ...
          for (const choice of choices) {
            const allowed = mask.allowedIds().filter((id) => id !== eos);
            if (allowed.length === 0) break;
            ids.push(allowed[choice % allowed.length]);
            mask.advance(ids);
          }
          // ... then the tokens that come closest to the end: at most one per byte still needed.
          const walked = ids.length;
          for (;;) {
            const allowed = mask.allowedIds(1);
            if (allowed.includes(eos)) break;
            ids.push(allowed[0]);
            mask.advance(ids);
            assert.ok(ids.length - walked < 400, "greedy completion does not end");
          }
          assertValid(schema, tokenizer.decode(ids));
        },
      ),
      { numRuns: name === "tiny-smolvlm" ? 300 : 100 },
    );
  });

  Deno.test(`mask (${name}): with a token budget that leaves room, any sampled path ends by EOS in time`, () => {
    fc.assert(
      fc.property(
        schemaArb,
        fc.nat({ max: 20 }),
        fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
        (schema, slack, choices) => {
          const automaton = new JsonAutomaton(compileJsonSchema(schema));
          const budget = automaton.remaining(automaton.initial()) + 1 + slack;
          const mask = constraint(schema, tokenizer, eos, budget);
          const ids: number[] = [];
          for (let step = 0; step < budget; step++) {
            mask.advance(ids);
            const allowed = mask.allowedIds(budget - ids.length);
            const id = allowed[choices[step % choices.length] % allowed.length];
            ids.push(id);
            if (id === eos) break;
          }
          assert.equal(ids.at(-1), eos, `no EOS within ${budget} tokens: ${tokenizer.decode(ids)}`);
          assertValid(schema, tokenizer.decode(ids));
        },
      ),
      { numRuns: name === "tiny-smolvlm" ? 300 : 100 },
    );
  });
}
