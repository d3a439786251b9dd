/**
 * `vqa`: answer a question about the images. `style: "short"` asks for a
 * single word or phrase and keeps only the first line of the answer.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { parsePluginOptions } from "../../src/plugins/plugin_options.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { userTurn } from "../../src/plugins/user_turn.ts";

/** Options of {@linkcode vqa}. */
export interface VqaOptions {
  /** `plain` (the question as asked, the default) or `short`. */
  style?: "plain" | "short";
  /** Generation limit (default 32 short, 256 plain). */
  maxNewTokens?: number;
}

/** The answer. */
export interface VqaResult {
  /** The answer, trimmed. */
  answer: string;
}

const Options = z.object({
  style: z.enum(["plain", "short"]).default("plain"),
  maxNewTokens: z.number().int().positive().optional(),
}).strict();

/** The visual question answering plugin. */
export function vqa(options: VqaOptions = {}): TaskPlugin<VqaResult> {
  const o = parsePluginOptions("vqa", Options, options);
  return {
    name: "vqa",
    optionsSchema: Options,
    maxNewTokens: o.maxNewTokens ?? (o.style === "short" ? 32 : 256),
    output: z.object({ answer: z.string() }),
    hooks: {
      prompt: (input) => {
        const question = input.prompt?.trim();
        if (!question) {
          throw new VlmError("input_invalid", "vqa needs a question in input.prompt", {
            fix: 'call model.task("vqa", { images, prompt: "What is ...?" })',
          });
        }
        const text = o.style === "short"
          ? `${question} Answer with a single word or phrase.`
          : question;
        return userTurn(input.images ?? [], text);
      },
      postprocess: (text) => ({
        answer: o.style === "short" ? (text.trim().split("\n")[0] ?? "").trim() : text.trim(),
      }),
    },
  };
}
