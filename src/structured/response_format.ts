/**
 * Structured outputs: `responseFormat` on a generate request, or a logits
 * processor for plugins and servers. `json_object` guarantees a JSON object;
 * `json_schema` guarantees a document that validates against the schema,
 * whenever generation ends by EOS. The schema is compiled once and cached;
 * the vocabulary index once per tokenizer.
 *
 * @module
 */
import type { VlmIssue } from "../errors/issue.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type { LogitsProcessor } from "../runtime/generation_types.ts";
import type { Plan } from "../spec/plan.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { JsonAutomaton } from "./json_automaton.ts";
import { JsonConstraint } from "./json_constraint.ts";
import { compileJsonSchema } from "./json_schema.ts";
import { ANY, objectNode, type SchemaNode } from "./schema_node.ts";
import { vocabularyOf } from "./vocabulary.ts";
import type { ResponseFormat } from "./format.ts";

export type { ResponseFormat };

/** Options of {@linkcode responseFormatProcessor}. */
export interface ResponseFormatOptions {
  /** The request's token limit: lets the constraint close the document in time. */
  maxNewTokens?: number;
  /** Ids that end generation (default: the model's EOS ids). */
  stopTokenIds?: readonly number[];
  /** Longest whitespace run allowed between JSON tokens (default 8). */
  maxWhitespace?: number;
}

const JSON_OBJECT = objectNode(new Map(), new Set(), ANY);

/** Compiled schemas by their JSON text (most recent last). */
const compiled = new Map<string, SchemaNode>();
const CACHE_SIZE = 64;

/** JSON text with object keys sorted, so equal schemas share a cache entry. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "object" && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
  );
}

/** The problems of a `responseFormat` value, with paths under `path`. */
export function responseFormatIssues(format: unknown, path = "responseFormat"): VlmIssue[] {
  const type = (format as { type?: unknown } | null)?.type;
  if (type === "text" || type === "json_object") return [];
  if (type !== "json_schema") {
    return [{
      path: `${path}.type`,
      message: `must be "text", "json_object" or "json_schema", got ${JSON.stringify(type)}`,
      fix: 'pass { type: "json_schema", schema: {...} } or { type: "json_object" }',
    }];
  }
  try {
    schemaNode(format as ResponseFormat, `${path}.schema`);
    return [];
  } catch (error) {
    if (error instanceof VlmError) return [...error.issues];
    throw error;
  }
}

/** The compiled schema of a JSON format (cached by schema); undefined for text. */
function schemaNode(
  format: ResponseFormat,
  path = "responseFormat.schema",
): SchemaNode | undefined {
  if (format.type === "text") return undefined;
  if (format.type === "json_object") return JSON_OBJECT;
  if (format.schema === undefined) {
    throw VlmError.fromIssues("input_invalid", "the JSON schema cannot be enforced", [{
      path,
      message: "json_schema needs a schema",
      fix: 'pass { type: "json_schema", schema: { type: "object", ... } }',
    }]);
  }
  const key = canonical(format.schema);
  let node = compiled.get(key);
  if (node) compiled.delete(key);
  else node = compileJsonSchema(format.schema, path);
  compiled.set(key, node);
  if (compiled.size > CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
  return node;
}

/**
 * A constraint that makes one generation follow `format`, or undefined for
 * `text`. Throws an `input_invalid` {@linkcode VlmError} for a schema it
 * cannot enforce, naming the keyword.
 */
export function responseFormatConstraint(
  model: { tokenizer: TextTokenizer; plan: Plan },
  format: ResponseFormat,
  options: ResponseFormatOptions = {},
): JsonConstraint | undefined {
  const node = schemaNode(format);
  if (!node) return undefined;
  const automaton = new JsonAutomaton(node, options.maxWhitespace);
  return new JsonConstraint(automaton, vocabularyOf(model.tokenizer), {
    stopIds: options.stopTokenIds ?? model.plan.spec.tokens.eosIds,
    maxNewTokens: options.maxNewTokens,
  });
}

/**
 * A fresh logits processor for one generation that follows `format` (a
 * no-op for `text`). For plugins (`logitsProcessor` hook) and servers; a
 * generate request can pass `responseFormat` instead, which also knows the
 * request's token limit. `model` is a loaded model or a plugin's context.
 */
export function responseFormatProcessor(
  model: { tokenizer: TextTokenizer; plan: Plan },
  format: ResponseFormat,
  options: ResponseFormatOptions = {},
): LogitsProcessor {
  const constraint = responseFormatConstraint(model, format, options);
  return constraint ? constraint.processor : () => {};
}
