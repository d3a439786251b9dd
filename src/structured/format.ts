/**
 * The `responseFormat` of a generate request: the form the answer must take.
 *
 * @module
 */

/**
 * The form the answer must take (OpenAI's `response_format`, with the schema
 * given directly): free text, any JSON object, or JSON valid for a schema.
 */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
    type: "json_schema";
    /** The JSON schema the answer must validate against (see `compileJsonSchema`). */
    schema: unknown;
    /**
     * Accepted for OpenAI compatibility. Decoding is always strict: every
     * keyword is enforced or the schema is refused.
     */
    strict?: boolean;
    /** A name for the schema (informational). */
    name?: string;
  };
