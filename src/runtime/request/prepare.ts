/**
 * The first step of a request, pure: from the conversation and the images'
 * tile plans to the prompt's token ids, and the context budget checked, so a
 * request that cannot fit is refused before any encoder runs.
 *
 * @module
 */
import { VlmError } from "../../errors/vlm_error.ts";
import type { Plan } from "../../spec/plan.ts";
import type { ChatTemplate } from "../../text/chat_template.ts";
import type { ChatMessage } from "../../text/messages.ts";
import type { TextTokenizer } from "../../text/tokenizer.ts";
import type { TilePlan } from "../../tokens/tiles.ts";
import { buildPrompt } from "../prompt_builder.ts";

/** What turns a conversation into token ids. */
export interface PromptContext {
  /** The model's Plan: token accounting and special tokens. */
  plan: Plan;
  /** The model's tokenizer. */
  tokenizer: TextTokenizer;
  /** The model's chat template. */
  template: ChatTemplate;
}

/** A prompt ready for encoding and decoding. */
export interface PreparedPrompt {
  /** Token ids of the expanded prompt. */
  ids: number[];
  /** How many of `ids` are image feature slots. */
  imageTokens: number;
}

/** Renders, expands and tokenizes `messages` with one tile plan per image. */
export function promptIds(
  context: PromptContext,
  messages: readonly ChatMessage[],
  plans: readonly TilePlan[],
): PreparedPrompt {
  const { plan } = context;
  const prompt = buildPrompt(
    context.template,
    context.tokenizer,
    messages,
    plans,
    plan.tokensPerTile,
    plan.spec.tokens,
  );
  return { ids: prompt.ids, imageTokens: prompt.imageTokens };
}

/**
 * The prompt of `messages` with one tile plan per image, refused with
 * `budget_unsatisfiable` when it plus `maxNewTokens` exceeds the context.
 */
export function preparePrompt(
  context: PromptContext,
  messages: readonly ChatMessage[],
  plans: readonly TilePlan[],
  maxNewTokens: number,
): PreparedPrompt {
  const prompt = promptIds(context, messages, plans);
  checkBudget(context.plan, prompt, maxNewTokens);
  return prompt;
}

/** Throws `budget_unsatisfiable` when the prompt plus `maxNewTokens` exceeds the context. */
export function checkBudget(plan: Plan, prompt: PreparedPrompt, maxNewTokens: number): void {
  const context = plan.decoder.contextLength;
  if (prompt.ids.length + maxNewTokens <= context) return;
  const room = context - prompt.ids.length;
  throw new VlmError(
    "budget_unsatisfiable",
    `the prompt (${prompt.ids.length} tokens, ${prompt.imageTokens} of them image tokens) plus maxNewTokens ${maxNewTokens} exceeds the context of ${context}`,
    {
      fix: room > 0
        ? `lower maxNewTokens to ${room} or less, pass split: false, or use fewer/smaller images`
        : "the prompt alone fills the context: pass split: false, or use fewer/smaller images",
    },
  );
}
