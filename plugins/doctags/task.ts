/**
 * The `doctags` task plugin (SmolDocling / granite-docling): the conversion
 * prompts, DocTags kept verbatim (special tokens are the markup), a loop guard
 * that ends generation with EOS when the output starts repeating, and the
 * result parsed into a typed document with its Markdown.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { parsePluginOptions } from "../../src/plugins/plugin_options.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { userTurn } from "../../src/plugins/user_turn.ts";
import type { DocTagsDocument } from "./document.ts";
import type { ParseIssue } from "./issues.ts";
import { loopGuard } from "./loop_guard.ts";
import { toMarkdown } from "./markdown.ts";
import { parseDocTags } from "./parse.ts";

/** What to convert, with the prompt SmolDocling was trained on for it. */
export const DOCTAGS_PROMPTS = {
  page: "Convert this page to docling.",
  table: "Convert table to OTSL.",
  formula: "Convert formula to LaTeX.",
  chart: "Convert chart to table.",
  code: "Convert code to text.",
} as const;

/** Options of {@linkcode doctags}. */
export interface DocTagsTaskOptions {
  /** What the image shows (default `page`). */
  mode?: keyof typeof DOCTAGS_PROMPTS;
  /** Read like docling-core (`"docling"`) instead of the tolerant reader. */
  compat?: "docling";
  /** Stop generating when the output loops (default true). */
  loopGuard?: boolean;
  /** Generation limit (default 4096). */
  maxNewTokens?: number;
}

/** The converted page. */
export interface DocTagsTaskResult {
  /** The raw DocTags the model wrote. */
  doctags: string;
  /** The parsed document. */
  document: DocTagsDocument;
  /** Its Markdown export. */
  markdown: string;
  /** Repairs and warnings from parsing (truncation, loops, unknown tags). */
  issues: ParseIssue[];
}

const Options = z.object({
  mode: z.enum(["page", "table", "formula", "chart", "code"]).default("page"),
  compat: z.literal("docling").optional(),
  loopGuard: z.boolean().default(true),
  maxNewTokens: z.number().int().positive().default(4096),
}).strict();

/** Steps between loop checks: the check looks at up to 1024 tokens, so not every step. */
const LOOP_CHECK_INTERVAL = 16;

/** The DocTags conversion plugin. */
export function doctags(options: DocTagsTaskOptions = {}): TaskPlugin<DocTagsTaskResult> {
  const o = parsePluginOptions("doctags", Options, options);
  return {
    name: "doctags",
    optionsSchema: Options,
    maxNewTokens: o.maxNewTokens,
    output: z.object({
      doctags: z.string(),
      document: z.custom<DocTagsDocument>((v) => typeof v === "object" && v !== null),
      markdown: z.string(),
      issues: z.array(z.custom<ParseIssue>((v) => typeof v === "object" && v !== null)),
    }),
    hooks: {
      prompt: (input) => userTurn(input.images ?? [], input.prompt ?? DOCTAGS_PROMPTS[o.mode]),
      stop: () => ({ strings: ["</doctag>"] }),
      // The tags are special tokens: keep them in the text.
      preprocess: (request) => ({ ...request, skipSpecialTokens: false }),
      logitsProcessor: o.loopGuard
        ? (context) => {
          const eos = context.plan.spec.tokens.eosIds;
          const isLocation = (id: number) =>
            /^<loc_\d+>$/.test(context.tokenizer.tokenText(id) ?? "");
          return (logits, generated) => {
            if (generated.length === 0 || generated.length % LOOP_CHECK_INTERVAL !== 0) return;
            if (!loopGuard(generated, { wildcardIds: isLocation }).looping) return;
            // Looping: only EOS may come next.
            for (let id = 0; id < logits.length; id++) {
              if (!eos.includes(id)) logits[id] = -Infinity;
            }
          };
        }
        : undefined,
      postprocess: (text) => {
        // The stop string was cut off; give the reader back its closing tag.
        const doctags = text.includes("<doctag>") && !text.includes("</doctag>")
          ? `${text}</doctag>`
          : text;
        const { document, issues } = parseDocTags(doctags, { compat: o.compat });
        return { doctags: text, document, markdown: toMarkdown(document), issues };
      },
    },
  };
}
