/**
 * The DocTags vocabulary: block tags, OTSL cell tokens, picture classes and
 * code languages, as listed in docling-core (`docling_core/types/doc/tokens.py`,
 * `labels.py`).
 *
 * @module
 */

/** Tags that hold text and become one text-like block. */
export const TEXT_TAGS: ReadonlySet<string> = new Set([
  "title",
  "text",
  "caption",
  "footnote",
  "page_header",
  "page_footer",
  "checkbox_selected",
  "checkbox_unselected",
  "formula",
  "code",
  "paragraph",
  "reference",
  "handwritten_text",
  "document_index",
]);

/** Container tags with structure of their own. */
export const CONTAINER_TAGS: ReadonlySet<string> = new Set([
  "ordered_list",
  "unordered_list",
  "list_item",
  "otsl",
  "picture",
  "chart",
  "key_value_region",
  "inline",
]);

/** `section_header_level_N` (any N; docling-core accepts 1..6). */
export const HEADING_TAG = /^section_header_level_(\d+)$/;

/** Whether `name` is a block-level DocTags tag (one that starts an element). */
export function isBlockTag(name: string): boolean {
  return TEXT_TAGS.has(name) || CONTAINER_TAGS.has(name) || HEADING_TAG.test(name);
}

/** OTSL tokens that start a cell (`<fcel>` etc. are followed by the cell text). */
export const OTSL_ANCHORS: ReadonlySet<string> = new Set(["fcel", "ecel", "ched", "rhed", "srow"]);

/** All OTSL structure tokens: anchors, span continuations and the row end. */
export const OTSL_TOKENS: ReadonlySet<string> = new Set([
  "fcel",
  "ecel",
  "ched",
  "rhed",
  "srow",
  "lcel",
  "ucel",
  "xcel",
  "nl",
]);

/**
 * Picture classes in the order docling-core's importer tries them: the first
 * class whose tag occurs anywhere in the element wins (v2 classifier labels,
 * then legacy v1 labels, then SmolDocling's own chart labels).
 */
export const REFERENCE_CLASS_ORDER: readonly string[] = [
  "logo",
  "photograph",
  "icon",
  "engineering_drawing",
  "line_chart",
  "bar_chart",
  "other",
  "table",
  "flow_chart",
  "screenshot_from_computer",
  "signature",
  "screenshot_from_manual",
  "geographical_map",
  "pie_chart",
  "page_thumbnail",
  "stamp",
  "music",
  "calendar",
  "qr_code",
  "bar_code",
  "full_page_image",
  "scatter_plot",
  "chemistry_structure",
  "topographical_map",
  "crossword_puzzle",
  "box_plot",
  "stacked_bar_chart",
  "scatter_chart",
  "heatmap",
  "natural_image",
  "remote_sensing",
  "screenshot",
  "chemistry_molecular_structure",
  "chemistry_markush_structure",
  "picture_group",
  "line",
  "dot_line",
  "vbar_categorical",
  "hbar_categorical",
];

/** SmolDocling's early chart labels and the classes they stand for. */
export const LEGACY_CLASS_ALIASES: Readonly<Record<string, string>> = {
  line: "line_chart",
  dot_line: "line_chart",
  vbar_categorical: "bar_chart",
  hbar_categorical: "bar_chart",
};

/** Every picture class token tolerant mode recognises. */
export const PICTURE_CLASSES: ReadonlySet<string> = new Set([
  ...REFERENCE_CLASS_ORDER,
  "other_chart",
  "cad_drawing",
  "chart",
  "decoration",
  "electrical_diagram",
  "map",
  "illustration",
  "infographic",
  "person",
  "stratigraphic_chart",
  "ui_element",
]);

/** docling's code-language names (`CodeLanguageLabel`). */
export const CODE_LANGUAGES: ReadonlySet<string> = new Set([
  "Ada",
  "Awk",
  "Bash",
  "bc",
  "C",
  "C#",
  "C++",
  "CMake",
  "COBOL",
  "CSS",
  "Ceylon",
  "Clojure",
  "Crystal",
  "Cuda",
  "Cython",
  "D",
  "Dart",
  "dc",
  "Dockerfile",
  "DocLang",
  "Elixir",
  "Erlang",
  "FORTRAN",
  "Forth",
  "Go",
  "HTML",
  "Haskell",
  "Haxe",
  "Java",
  "JavaScript",
  "JSON",
  "Julia",
  "Kotlin",
  "Latex",
  "Lisp",
  "Lua",
  "Matlab",
  "MoonScript",
  "Nim",
  "OCaml",
  "ObjectiveC",
  "Octave",
  "PHP",
  "Pascal",
  "Perl",
  "Prolog",
  "Python",
  "Racket",
  "Ruby",
  "Rust",
  "SML",
  "SQL",
  "Scala",
  "Scheme",
  "Swift",
  "Tikz",
  "TypeScript",
  "unknown",
  "VisualBasic",
  "XML",
  "YAML",
]);

/** Maps a `<_Name_>` token's name to a docling language name (`unknown` when not listed). */
export function codeLanguage(name: string): string {
  return CODE_LANGUAGES.has(name) ? name : "unknown";
}

/** Strings generation may leave around the document: chat prefixes and stop tokens. */
export const STOP_STRINGS: readonly string[] = [
  "<end_of_utterance>",
  "<|end_of_text|>",
  "<|im_end|>",
];
