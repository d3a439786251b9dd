/**
 * `ocr`: read the text in an image at the model's maximum resolution (image
 * splitting forced on), returning the text and its non-empty lines.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { parsePluginOptions } from "../../src/plugins/plugin_options.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { userTurn } from "../../src/plugins/user_turn.ts";

/** Options of {@linkcode ocr}. */
export interface OcrOptions {
  /** The instruction sent with the image (default "Read the text."). */
  instruction?: string;
  /** Generation limit (default 512). */
  maxNewTokens?: number;
}

/** What was read. */
export interface OcrResult {
  /** The text, trimmed. */
  text: string;
  /** Its non-empty lines, trimmed. */
  lines: string[];
}

const Options = z.object({
  instruction: z.string().min(1).default("Read the text."),
  maxNewTokens: z.number().int().positive().default(512),
}).strict();

/** The OCR plugin. */
export function ocr(options: OcrOptions = {}): TaskPlugin<OcrResult> {
  const o = parsePluginOptions("ocr", Options, options);
  return {
    name: "ocr",
    optionsSchema: Options,
    maxNewTokens: o.maxNewTokens,
    output: z.object({ text: z.string(), lines: z.array(z.string()) }),
    hooks: {
      prompt: (input) => {
        return userTurn(input.images ?? [], o.instruction);
      },
      // Small print needs every tile the model can take.
      preprocess: (request) => ({ ...request, split: true }),
      postprocess: (text) => {
        const trimmed = text.trim();
        return {
          text: trimmed,
          lines: trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l),
        };
      },
    },
  };
}
