/**
 * Seeds for the DocTags and MathML fuzz suites: the conformance inputs
 * (test/fixtures/conformance/doctags/), the DocTags vocabulary, and the
 * formulas found in those inputs.
 *
 * @module
 */
const ROOT = new URL("../fixtures/conformance/doctags/", import.meta.url);

/** Every `.dt` conformance input, verbatim. */
export const DOCTAGS_SEEDS: string[] = ["upstream", "edge"].flatMap((folder) =>
  [...Deno.readDirSync(new URL(`${folder}/`, ROOT))]
    .filter((entry) => entry.name.endsWith(".dt"))
    .map((entry) => entry.name)
    .sort()
    .map((name) => Deno.readTextFileSync(new URL(`${folder}/${name}`, ROOT)))
);

const TAGS = [
  "doctag",
  "title",
  "text",
  "caption",
  "footnote",
  "formula",
  "code",
  "picture",
  "chart",
  "otsl",
  "inline",
  "list_item",
  "ordered_list",
  "unordered_list",
  "key_value_region",
  "key_1",
  "value_2",
  "section_header_level_1",
  "section_header_level_9",
  "smiles",
  "page_header",
  "foo",
];

/** Tags, OTSL cells, locations and awkward text. */
export const DOCTAGS_TOKENS: string[] = [
  ...TAGS.flatMap((t) => [`<${t}>`, `</${t}>`]),
  ...["fcel", "ecel", "lcel", "ucel", "xcel", "nl", "ched", "rhed", "srow"].map((t) => `<${t}>`),
  "<loc_0>",
  "<loc_250>",
  "<loc_500>",
  "<loc_600>",
  `<loc_${"9".repeat(400)}>`,
  "<page_break>",
  "<_Python_>",
  "<link_1>",
  "<end_of_utterance>",
  "Assistant:",
  "<>",
  "</>",
  "<<",
  "&amp;",
  "{",
  "}",
  "\\frac",
  "^",
  "_",
  "\\left(",
  "\\right)",
  "\uD800",
  "\n",
  "|",
  "مرحبا",
];

/** Formulas of the seeds (the text of every `<formula>`), plus a few LaTeX stock pieces. */
export const LATEX_SEEDS: string[] = [
  ...new Set(
    DOCTAGS_SEEDS.flatMap((text) =>
      [...text.matchAll(/<formula>(?:<loc_\d+>)*([\s\S]*?)<\/formula>/g)].map((m) => m[1])
    ).filter((latex) => latex.trim() !== ""),
  ),
  "\\frac{a}{b}+\\sqrt{x^{2}_{i}}",
  "\\left( \\sum_{i=1}^{n} x_i \\right)",
  "\\text{if } a \\leq b",
];

/** LaTeX tokens for insertion. */
export const LATEX_TOKENS: string[] = [
  "{",
  "}",
  "^",
  "_",
  "\\frac",
  "\\sqrt",
  "\\left(",
  "\\right)",
  "\\left.",
  "\\right",
  "\\text{",
  "\\alpha",
  "\\sum",
  "\\\\",
  "%",
  "'",
  "[",
  "]",
  "1.5",
  "\\,",
  "\\unknown",
  "\\hspace{1em}",
];
