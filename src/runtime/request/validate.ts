/**
 * The checks of a generate request that need no model run: the generation
 * settings and the conversation's shape. Every problem is collected into one
 * `input_invalid` error, so a caller fixes a request in one round.
 *
 * @module
 */
import type { VlmIssue } from "../../errors/issue.ts";
import { VlmError } from "../../errors/vlm_error.ts";
import { type ChatMessage, countImageParts } from "../../text/messages.ts";
import type { GenerateRequest } from "../generation_types.ts";
import { samplingProblems } from "../sampler.ts";
import { isMaxTiles } from "../load_options.ts";
import { responseFormatIssues } from "../../structured/response_format.ts";

const SAMPLING_FIX = "use temperature ≥ 0, topK ≥ 0, 0 < topP ≤ 1, repetitionPenalty > 0";

/** Problems of the settings every request has: the token limit, sampling and stop ids. */
export function settingsIssues(request: Omit<GenerateRequest, "messages" | "prompt">): VlmIssue[] {
  const issues: VlmIssue[] = [];
  if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1) {
    issues.push({
      path: "maxNewTokens",
      message: `must be a positive integer, got ${request.maxNewTokens}`,
      fix: "pass maxNewTokens explicitly, e.g. 256",
    });
  }
  if (request.maxTiles !== undefined && !isMaxTiles(request.maxTiles)) {
    issues.push({
      path: "maxTiles",
      message: `must be an integer ≥ 1 or Infinity, got ${request.maxTiles}`,
      fix: "pass e.g. maxTiles: 5 (1 = unsplit), or Infinity for the model's full split",
    });
  }
  for (const problem of samplingProblems(request)) {
    issues.push({ path: problem.option, message: problem.message, fix: SAMPLING_FIX });
  }
  const { logprobs } = request;
  if (logprobs !== undefined && !(Number.isInteger(logprobs) && logprobs >= 0 && logprobs <= 20)) {
    issues.push({
      path: "logprobs",
      message: `must be an integer from 0 to 20, got ${logprobs}`,
      fix: "ask for at most 20 alternatives per token, or leave logprobs unset",
    });
  }
  for (const [k, id] of (request.stopTokenIds ?? []).entries()) {
    if (!Number.isInteger(id)) {
      issues.push({
        path: `stopTokenIds.${k}`,
        message: `must be an integer token id, got ${id}`,
        fix: "pass token ids from the model's tokenizer",
      });
    }
  }
  if (request.responseFormat !== undefined) {
    issues.push(...responseFormatIssues(request.responseFormat));
  }
  return issues;
}

/** The conversation a request asks about (`prompt` is one user turn: every image, then the text). */
function conversation(
  request: Pick<GenerateRequest, "messages" | "prompt" | "images">,
  issues: VlmIssue[],
): ChatMessage[] | undefined {
  if (request.messages && request.prompt !== undefined) {
    issues.push({
      path: "prompt",
      message: "give either messages or prompt, not both",
      fix: "put the prompt text into the last user message",
    });
    return undefined;
  }
  if (request.messages) return request.messages;
  if (request.prompt === undefined) {
    issues.push({
      path: "messages",
      message: "the request has neither messages nor prompt",
      fix: 'pass prompt: "..." or messages: [...]',
    });
    return undefined;
  }
  const images = (request.images ?? []).map(() => ({ type: "image" as const }));
  return [{ role: "user", content: [...images, { type: "text", text: request.prompt }] }];
}

/**
 * Checks a whole request and returns its conversation; throws one
 * `input_invalid` {@linkcode VlmError} listing every problem found.
 */
export function validateRequest(request: GenerateRequest): ChatMessage[] {
  const issues = settingsIssues(request);
  const messages = conversation(request, issues);
  if (messages) {
    const placeholders = countImageParts(messages);
    const given = request.images?.length ?? 0;
    if (placeholders !== given) {
      issues.push({
        path: "images",
        message: `the messages have ${placeholders} image parts but ${given} images were given`,
        fix: 'pass exactly one image per {type: "image"} content part',
      });
    }
  }
  if (issues.length > 0) throw VlmError.fromIssues("input_invalid", "invalid request", issues);
  return messages!;
}

/** Checks only the conversation of a request (for building inputs without generating). */
export function validateConversation(
  request: Pick<GenerateRequest, "messages" | "prompt" | "images">,
): ChatMessage[] {
  const issues: VlmIssue[] = [];
  const messages = conversation(request, issues);
  if (issues.length > 0) throw VlmError.fromIssues("input_invalid", "invalid request", issues);
  return messages!;
}

/** Checks the settings of a request that brings its own inputs (see `generateFromInputs`). */
export function validateSettings(request: Omit<GenerateRequest, "messages" | "prompt">): void {
  const issues = settingsIssues(request);
  if (issues.length > 0) throw VlmError.fromIssues("input_invalid", "invalid request", issues);
}
