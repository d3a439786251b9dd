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

/** A prompt with the new-token limit the context leaves it (what decoding runs on). */
export interface BudgetedPrompt extends PreparedPrompt {
  /** New tokens to generate at most (the request's limit, fitted to the context). */
  maxNewTokens: number;
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
 * The prompt of `messages` with one tile plan per image, and the new-token
 * limit it leaves room for (see {@linkcode budgetedTokens}).
 */
export function preparePrompt(
  context: PromptContext,
  messages: readonly ChatMessage[],
  plans: readonly TilePlan[],
  limit: TokenLimit,
): BudgetedPrompt {
  const prompt = promptIds(context, messages, plans);
  return { ...prompt, maxNewTokens: budgetedTokens(context.plan, prompt, limit) };
}

/** A request's new-token limit. */
export interface TokenLimit {
  /** Upper bound on new tokens. */
  maxNewTokens: number;
  /** Lower the bound to the room the prompt leaves instead of refusing the request. */
  fitContext?: boolean;
}

/**
 * The number of new tokens the request may generate: `maxNewTokens`, or with
 * `fitContext` at most the room the prompt leaves. Throws
 * `budget_unsatisfiable` when the prompt plus that limit exceeds the context
 * (with `fitContext`: when the prompt alone fills it).
 */
export function budgetedTokens(plan: Plan, prompt: PreparedPrompt, limit: TokenLimit): number {
  const context = plan.decoder.contextLength;
  const room = context - prompt.ids.length;
  const wanted = limit.fitContext ? Math.min(limit.maxNewTokens, room) : limit.maxNewTokens;
  if (wanted >= 1 && prompt.ids.length + wanted <= context) return wanted;
  throw new VlmError(
    "budget_unsatisfiable",
    `the prompt (${prompt.ids.length} tokens, ${prompt.imageTokens} of them image tokens) plus maxNewTokens ${limit.maxNewTokens} exceeds the context of ${context}`,
    {
      fix: room > 0
        ? `lower maxNewTokens to ${room} or less, pass split: false, or use fewer/smaller images`
        : "the prompt alone fills the context: pass split: false, use fewer/smaller images, " +
          "or a shorter prompt",
    },
  );
}
