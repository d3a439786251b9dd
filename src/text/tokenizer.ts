/**
 * The model's tokenizer, loaded from `tokenizer.json` and
 * `tokenizer_config.json` with `@huggingface/tokenizers`. It also serves as an
 * exact {@linkcode TextTokenCounter} for token accounting.
 *
 * @module
 */
import { Tokenizer } from "npm:@huggingface/tokenizers@0.2.0";
import { VlmError } from "../errors/vlm_error.ts";
import type { TextTokenCounter } from "./token_counter.ts";

/** A loaded tokenizer. */
export class TextTokenizer implements TextTokenCounter {
  /** Counts from this tokenizer are exact. */
  readonly exact = true;
  readonly #tokenizer: Tokenizer;
  readonly #specialIds: Set<number>;

  /** Builds the tokenizer from the parsed JSON files. */
  constructor(tokenizerJson: unknown, tokenizerConfig: unknown = {}) {
    try {
      this.#tokenizer = new Tokenizer(tokenizerJson as object, tokenizerConfig as object);
    } catch (error) {
      throw new VlmError("model_invalid", `tokenizer.json could not be loaded: ${String(error)}`, {
        fix: "use the tokenizer.json published with the model",
        cause: error,
      });
    }
    this.#specialIds = new Set(
      [...this.#tokenizer.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) =>
        id
      ),
    );
  }

  /** Encodes text; special-token texts in it map to their ids. No BOS is added unless asked. */
  encode(text: string, addSpecialTokens = false): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Decodes ids to text, optionally dropping special tokens (no ids: empty text). */
  decode(ids: readonly number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return "";
    return this.#tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  /** Id of a token text, if the vocabulary has it as one token. */
  tokenId(text: string): number | undefined {
    return this.#tokenizer.token_to_id(text);
  }

  /** Text of a token id. */
  tokenText(id: number): string | undefined {
    return this.#tokenizer.id_to_token(id);
  }

  /** Whether `id` is a special (added, special) token. */
  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  /** Vocabulary size including added tokens. */
  get vocabSize(): number {
    return this.#tokenizer.get_vocab(true).size;
  }

  /** {@linkcode TextTokenCounter}: the number of ids `text` encodes to. */
  count(text: string): number {
    return this.encode(text).length;
  }
}
