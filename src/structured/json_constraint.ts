/**
 * Constrained decoding of one request: follows the generated tokens through
 * the {@linkcode JsonAutomaton} and, before each step, sets every token that
 * cannot come next to −∞. EOS (the stop ids) is allowed only once the
 * document is complete; after that only whitespace or EOS can follow.
 *
 * With a token budget, a token is allowed only if the document can still be
 * completed, EOS included, in the tokens left (`remaining` bytes, each byte
 * having a one-byte token), so generation closes the document in time.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { LogitsProcessor } from "../runtime/generation_types.ts";
import type { JsonAutomaton, JsonState } from "./json_automaton.ts";
import type { TrieNode, Vocabulary } from "./vocabulary.ts";

/** Options of a {@linkcode JsonConstraint}. */
export interface JsonConstraintOptions {
  /** Ids that end generation: allowed exactly when the document is complete. */
  stopIds: readonly number[];
  /** New tokens the request may generate; enables steering toward closing in time. */
  maxNewTokens?: number;
}

/** The state of one constrained generation. */
export class JsonConstraint {
  readonly #automaton: JsonAutomaton;
  readonly #vocabulary: Vocabulary;
  readonly #stopIds: ReadonlySet<number>;
  readonly #budget: number;
  #state: JsonState;
  #consumed = 0;
  #ids = new Int32Array(256);
  #costs = new Int32Array(256);
  #count = 0;
  #flags = new Uint8Array(0);

  /** A constraint at the start of a document. */
  constructor(automaton: JsonAutomaton, vocabulary: Vocabulary, options: JsonConstraintOptions) {
    this.#automaton = automaton;
    this.#vocabulary = vocabulary;
    this.#stopIds = new Set(options.stopIds);
    // Steering needs a one-byte token for every byte it may have to emit.
    this.#budget = vocabulary.everyByte ? options.maxNewTokens ?? Infinity : Infinity;
    this.#state = automaton.initial();
  }

  /** Whether the tokens so far form a complete document. */
  get complete(): boolean {
    return this.#automaton.accepts(this.#state);
  }

  /** The logits processor: catch up with `generated`, then mask the next token. */
  readonly processor: LogitsProcessor = (logits, generated) => {
    this.advance(generated);
    const allowed = this.allowedIds(this.#budget - generated.length);
    if (this.#flags.length !== logits.length) this.#flags = new Uint8Array(logits.length);
    const flags = this.#flags;
    flags.fill(0);
    for (const id of allowed) if (id < flags.length) flags[id] = 1;
    for (let i = 0; i < logits.length; i++) if (flags[i] === 0) logits[i] = -Infinity;
  };

  /** Follows the ids generated since the last call (a stop id ends the document). */
  advance(generated: readonly number[]): void {
    for (; this.#consumed < generated.length; this.#consumed++) {
      const id = generated[this.#consumed];
      if (this.#stopIds.has(id)) continue;
      const bytes = this.#vocabulary.bytes[id];
      const next = bytes ? this.#automaton.advanceAll(this.#state, bytes) : null;
      if (!next) {
        throw new VlmError(
          "usage",
          `token ${id} was generated although the JSON constraint forbids it`,
          {
            fix:
              "do not raise forbidden tokens (e.g. to +Infinity) in logits processors used with responseFormat",
          },
        );
      }
      this.#state = next;
    }
  }

  /**
   * The ids allowed next with `tokensLeft` tokens left (this one included):
   * those after which the document can still be completed and ended in time,
   * else those that come closest; plus the stop ids once the document is complete.
   */
  allowedIds(tokensLeft = Infinity): number[] {
    this.#collect(this.#state);
    const limit = tokensLeft - 2; // this token, then EOS after the completion
    const ids = this.#ids;
    const costs = this.#costs;
    const allowed: number[] = [];
    for (let i = 0; i < this.#count; i++) if (costs[i] <= limit) allowed.push(ids[i]);
    const complete = this.complete;
    if (allowed.length === 0 && !complete) {
      let best = Infinity;
      for (let i = 0; i < this.#count; i++) best = Math.min(best, costs[i]);
      for (let i = 0; i < this.#count; i++) if (costs[i] === best) allowed.push(ids[i]);
    }
    if (complete) allowed.push(...this.#stopIds);
    if (allowed.length === 0) {
      throw new VlmError("internal", "the JSON constraint allows no token", {
        fix: "report the schema that caused it",
      });
    }
    return allowed;
  }

  /** Every grammatical next token with the bytes its completion still needs. */
  #collect(state: JsonState): void {
    this.#count = 0;
    const vocabulary = this.#vocabulary;
    const open = this.#automaton.openString(state);
    if (open) {
      // Plain content changes only the string's length (and a key's text): price it directly.
      const room = open.maxLength - open.length;
      const { plainIds, plainUnits, plainRaw } = vocabulary;
      for (let i = 0; i < plainIds.length; i++) {
        if (plainUnits[i] <= room) this.#push(plainIds[i], open.cost(plainRaw[i]));
      }
      this.#walk(vocabulary.structuralTrie, state);
    } else this.#walk(vocabulary.trie, state);
  }

  #walk(node: TrieNode, state: JsonState): void {
    const automaton = this.#automaton;
    for (let i = 0; i < node.bytes.length; i++) {
      const next = automaton.advance(state, node.bytes[i]);
      if (!next) continue;
      const child = node.children[i];
      if (child.ids.length > 0) {
        const cost = automaton.remaining(next);
        for (const id of child.ids) this.#push(id, cost);
      }
      if (child.bytes.length > 0) this.#walk(child, next);
    }
  }

  #push(id: number, cost: number): void {
    if (this.#count === this.#ids.length) {
      const ids = new Int32Array(this.#ids.length * 2);
      ids.set(this.#ids);
      this.#ids = ids;
      const costs = new Int32Array(ids.length);
      costs.set(this.#costs);
      this.#costs = costs;
    }
    this.#ids[this.#count] = id;
    this.#costs[this.#count++] = cost;
  }
}
