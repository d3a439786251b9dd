/**
 * Renders a model's own chat template (Jinja, from `chat_template.json` or
 * `tokenizer_config.json`) with `@huggingface/jinja`, the engine
 * transformers.js uses, so prompts match the reference byte for byte.
 *
 * @module
 */
import { Template } from "npm:@huggingface/jinja@0.5.11";
import { VlmError } from "../errors/vlm_error.ts";
import { type ChatMessage, contentParts } from "./messages.ts";

/** A compiled chat template. */
export class ChatTemplate {
  readonly #template: Template;
  readonly #specialTokens: Record<string, string>;

  /**
   * Compiles `source`. `specialTokens` (e.g. `bos_token`) are passed to the
   * template as variables, as transformers does.
   */
  constructor(source: string, specialTokens: Record<string, string> = {}) {
    try {
      this.#template = new Template(source);
    } catch (error) {
      throw new VlmError("model_invalid", `the chat template does not parse: ${String(error)}`, {
        fix: "fix chat_template.json (or chat_template in tokenizer_config.json)",
        cause: error,
      });
    }
    this.#specialTokens = specialTokens;
  }

  /**
   * Renders `messages`; with `addGenerationPrompt` the assistant prefix is
   * appended so the model answers next.
   */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    const normalised = messages.map((message) => ({
      role: message.role,
      content: contentParts(message),
    }));
    try {
      return this.#template.render({
        ...this.#specialTokens,
        messages: normalised,
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (error) {
      throw new VlmError(
        "input_invalid",
        `the chat template rejected the messages: ${String(error)}`,
        {
          fix: "check the message roles and content parts",
          cause: error,
        },
      );
    }
  }
}
