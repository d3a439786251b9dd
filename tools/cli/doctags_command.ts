/**
 * `vlm doctags --in FILE [--to md|html|json] [--compat docling]`: converts
 * DocTags (a model's raw output is fine) to Markdown, HTML or JSON.
 *
 * @module
 */
import { parseDocTags } from "../../plugins/doctags/parse.ts";
import { checkDocTagsText } from "../../plugins/doctags/doctags_input.ts";
import { toMarkdown } from "../../plugins/doctags/markdown.ts";
import { toHtml } from "../../plugins/doctags/html.ts";
import { toDoclingJson, toJson } from "../../plugins/doctags/docling_json.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import type { Command } from "./command.ts";

const usage = `Usage: vlm doctags --in FILE [--to md|html|json] [--compat docling] [--json]

Parses DocTags (SmolDocling / granite-docling output; "Assistant:" prefixes, the
<doctag> envelope and <page_break> pages are handled) and prints it as Markdown
(default), HTML or JSON. The default reader is tolerant: truncated or looping
output keeps its content and the repairs are listed on stderr. --compat docling
reads exactly as docling-core 2.87 does, so the exports match docling byte for
byte (--to json then prints docling's DoclingDocument).
--json prints {output, issues} instead of the bare output.
Input that is not DocTags (empty, binary, an image or PDF, text without any
DocTags tag) is refused with exit 1.`;

export const doctagsCommand: Command = {
  name: "doctags",
  summary: "convert DocTags to Markdown, HTML or JSON",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("doctags", args, {
      in: { type: "string" },
      to: { type: "string" },
      compat: { type: "string" },
    });
    const file = requireString("doctags", parsed, "in");
    const to = (parsed.values.to as string | undefined) ?? "md";
    if (!["md", "html", "json"].includes(to)) {
      throw new UsageError(`vlm doctags: --to ${to} is not one of md, html, json`, "use --to md");
    }
    const compat = parsed.values.compat as string | undefined;
    if (compat !== undefined && compat !== "docling") {
      throw new UsageError(
        `vlm doctags: --compat ${compat} is not supported`,
        "use --compat docling",
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch (error) {
      throw new VlmError("input_invalid", `cannot read ${file}: ${(error as Error).message}`, {
        fix: "pass an existing DocTags file",
        cause: error,
      });
    }
    // Empty, binary or tag-less input is refused before anything is printed.
    const text = checkDocTagsText(bytes, file);
    const { document, issues } = parseDocTags(text, { compat: compat as "docling" | undefined });
    const output = to === "md"
      ? toMarkdown(document)
      : to === "html"
      ? toHtml(document)
      : compat
      ? toDoclingJson(document)
      : toJson(document);
    if (parsed.values.json) console.log(JSON.stringify({ output, issues }, null, 2));
    else {
      console.log(output);
      for (const issue of issues) console.error(`doctags: ${issue.code}: ${issue.message}`);
    }
    return 0;
  },
};
