/**
 * The third step of a request: prefill (reusing the previous request's KV
 * cache for a shared prefix), then the token loop: logits processors, the
 * sampler, incremental text with stop strings, and the stop ids. An abort
 * ends the loop at the next step with `finishReason: "aborted"` and the text
 * streamed so far.
 *
 * @module
 */
import type { Decoder, Embedder, FeatureMatrix } from "../../modules/types.ts";
import type { Plan } from "../../spec/plan.ts";
import type { TextTokenizer } from "../../text/tokenizer.ts";
import { EventLoopPacer } from "../event_loop.ts";
import type {
  FinishReason,
  GenerateRequest,
  GenerationResult,
  TokenLogprob,
} from "../generation_types.ts";
import type { StreamEvent } from "../generation_stream.ts";
import { mergeImageFeatures } from "../merge.ts";
import type { Sampler } from "../sampler.ts";
import { StepLogprobs } from "../token_logprobs.ts";
import { TokenTextStream } from "../token_text.ts";
import { abortIfNeeded } from "./abort.ts";
import type { BudgetedPrompt } from "./prepare.ts";
import { responseFormatConstraint } from "../../structured/response_format.ts";
import { type ImageIdentities, type PreviousRequest, reusablePrefix } from "./prefix_reuse.ts";

/** The language side of the model. */
export interface LanguageModules {
  /** The model's Plan (special tokens). */
  plan: Plan;
  /** Detokenizes the generated ids. */
  tokenizer: TextTokenizer;
  /** Token embeddings. */
  embedder: Embedder;
  /** Language model. */
  decoder: Decoder;
  /** Load time reported in the timings, ms. */
  loadMs: number;
}

/** What the earlier steps produced. */
export interface DecodeInput {
  /** The prepared prompt and its new-token limit. */
  prompt: BudgetedPrompt;
  /** Features for the prompt's image tokens, in order. */
  features: FeatureMatrix;
  /** The images behind those features; unknown for raw inputs. */
  images: ImageIdentities | undefined;
  /** Images served from the feature cache. */
  cachedImages: number;
  /** Image reading, decoding and tiling, ms. */
  preprocessMs: number;
  /** Vision encoder, ms. */
  visionMs: number;
  /** When the request started (`performance.now()`). */
  started: number;
}

/** The result, and the state the next request may reuse. */
export interface DecodeOutcome {
  /** What `generate` returns. */
  result: GenerationResult;
  /** The tokens the decoder's cache now holds, and that cache. */
  previous: PreviousRequest;
}

/** Receives each generated token with the text it added, and held-back text at the end (id null). */
export type Emit = (event: StreamEvent) => void;

/**
 * Prefills the prompt after the reusable part of `previous` (pass undefined
 * to compute everything) and generates until a stop, the limit or an abort.
 */
export async function decode(
  modules: LanguageModules,
  input: DecodeInput,
  request: GenerateRequest,
  sampler: Sampler,
  previous: PreviousRequest | undefined,
  emit: Emit,
): Promise<DecodeOutcome> {
  const { signal } = request;
  const { plan, embedder, decoder } = modules;
  const { ids, imageTokens } = input.prompt;
  const imageId = plan.spec.tokens.image.id!;

  const prefillStart = performance.now();
  const reused = previous ? reusablePrefix(previous, ids, input.images, imageId) : 0;
  // Room for the prompt and the first tokens; a shared KV buffer grows with the answer.
  const cache = reused > 0
    ? previous!.cache.truncate(reused)
    : decoder.emptyCache(ids.length + Math.min(input.prompt.maxNewTokens, 32));
  const newIds = ids.slice(reused);
  const firstFeatureRow = ids.slice(0, reused).filter((id) => id === imageId).length;
  abortIfNeeded(signal);
  const embeds = await embedder.embed(newIds);
  mergeImageFeatures(embeds, newIds, imageId, input.features, firstFeatureRow);
  let step = await decoder.step(embeds, cache);
  const prefillMs = performance.now() - prefillStart;

  const stopIds = new Set(request.stopTokenIds ?? plan.spec.tokens.eosIds);
  const constraint = request.responseFormat &&
    responseFormatConstraint(modules, request.responseFormat, {
      maxNewTokens: input.prompt.maxNewTokens,
      stopTokenIds: [...stopIds],
    });
  const skipSpecial = request.skipSpecialTokens ?? true;
  const text = new TokenTextStream(
    (generatedIds) => modules.tokenizer.decode(generatedIds, skipSpecial),
    request.stopStrings ?? [],
  );
  const generated: number[] = [];
  const logprobs: TokenLogprob[] | undefined = request.logprobs === undefined ? undefined : [];
  const seen = [...ids];
  let finishReason: FinishReason = "max_tokens";
  let ttftMs = 0;
  let firstTokenAt = 0;
  const pacer = new EventLoopPacer();
  for (;;) {
    await pacer.maybeYield();
    if (signal?.aborted) {
      finishReason = "aborted";
      break;
    }
    for (const processor of request.logitsProcessors ?? []) processor(step.logits, generated);
    constraint?.processor(step.logits, generated);
    // Log-probabilities of the distribution actually sampled from (after every constraint).
    const stepLogprobs = logprobs && new StepLogprobs(step.logits, request.logprobs!);
    const id = sampler.next(step.logits, seen);
    const logprob = stepLogprobs?.of(id);
    if (logprob) logprobs!.push(logprob);
    generated.push(id);
    seen.push(id);
    if (generated.length === 1) {
      firstTokenAt = performance.now();
      ttftMs = firstTokenAt - input.started;
    }
    const { delta, stopped } = text.push(generated);
    emit({ id, text: delta });
    request.onToken?.(logprob ? { id, text: delta, logprob } : { id, text: delta });
    if (stopIds.has(id)) {
      finishReason = "eos";
      break;
    }
    if (stopped) {
      finishReason = "stop_string";
      break;
    }
    if (generated.length >= input.prompt.maxNewTokens) break;
    const next = await embedder.embed([id]);
    step = await decoder.step(next, step.cache);
  }
  const aborted = finishReason === "aborted";
  // An aborted result holds exactly the text streamed; otherwise the held-back tail follows.
  if (!aborted) {
    const tail = text.flush();
    if (tail) emit({ id: null, text: tail });
  }
  const decodeSeconds = (performance.now() - firstTokenAt) / 1000;
  return {
    // The cache holds the prompt and every token fed back: all generated ones after an
    // abort (the check runs after feeding), all but the last otherwise.
    previous: {
      ids: ids.concat(aborted ? generated : generated.slice(0, -1)),
      cache: step.cache,
      images: input.images,
    },
    result: {
      text: aborted ? text.streamed : text.text,
      tokenIds: generated,
      promptTokens: ids.length,
      imageTokens,
      finishReason,
      reusedPrefixTokens: reused,
      cachedImages: input.cachedImages,
      ...(logprobs ? { logprobs } : {}),
      timings: {
        loadMs: modules.loadMs,
        preprocessMs: input.preprocessMs,
        visionMs: input.visionMs,
        prefillMs,
        ttftMs,
        decodeTokensPerSec: generated.length > 1 && decodeSeconds > 0
          ? (generated.length - 1) / decodeSeconds
          : 0,
      },
    },
  };
}

/** The result of a stream aborted before its first token could be decoded. */
export function abortedBeforeDecoding(loadMs: number): GenerationResult {
  return {
    text: "",
    tokenIds: [],
    promptTokens: 0,
    imageTokens: 0,
    finishReason: "aborted",
    reusedPrefixTokens: 0,
    cachedImages: 0,
    timings: {
      loadMs,
      preprocessMs: 0,
      visionMs: 0,
      prefillMs: 0,
      ttftMs: 0,
      decodeTokensPerSec: 0,
    },
  };
}
