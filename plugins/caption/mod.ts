/**
 * `caption`: describe an image, briefly or in detail, with an optional cap on
 * sentences.
 *
 * ```ts
 * const model = await loadModel(dir, { plugins: [caption({ detail: "brief" })] });
 * const { output } = await model.task<CaptionResult>("caption", { images: ["photo.jpg"] });
 * ```
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { parsePluginOptions } from "../../src/plugins/plugin_options.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { userTurn } from "../../src/plugins/user_turn.ts";

/** Options of {@linkcode caption}. */
export interface CaptionOptions {
  /** `brief` (one sentence, the default) or `detailed`. */
  detail?: "brief" | "detailed";
  /** Keep at most this many sentences of the answer. */
  maxSentences?: number;
  /** Generation limit (default 64 brief, 256 detailed). */
  maxNewTokens?: number;
}

/** The caption. */
export interface CaptionResult {
  /** The description, trimmed. */
  caption: string;
}

const Options = z.object({
  detail: z.enum(["brief", "detailed"]).default("brief"),
  maxSentences: z.number().int().positive().optional(),
  maxNewTokens: z.number().int().positive().optional(),
}).strict();

const Output = z.object({ caption: z.string() });

/** Cuts `text` after its `n`-th sentence end (. ! ?). */
export function firstSentences(text: string, n: number): string {
  const sentences = text.match(/[^.!?]+[.!?]+|[^.!?]+$/g) ?? [];
  return sentences.slice(0, n).join("").trim();
}

/** The caption plugin. */
export function caption(options: CaptionOptions = {}): TaskPlugin<CaptionResult> {
  const o = parsePluginOptions("caption", Options, options);
  const instruction = o.detail === "brief"
    ? "Describe this image in one sentence."
    : "Describe this image in detail.";
  return {
    name: "caption",
    optionsSchema: Options,
    maxNewTokens: o.maxNewTokens ?? (o.detail === "brief" ? 64 : 256),
    output: Output,
    hooks: {
      prompt: (input) => {
        return userTurn(input.images ?? [], instruction);
      },
      postprocess: (text) => {
        const trimmed = text.trim();
        return { caption: o.maxSentences ? firstSentences(trimmed, o.maxSentences) : trimmed };
      },
    },
  };
}
