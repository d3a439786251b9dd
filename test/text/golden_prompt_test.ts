// Golden prompts per model family: the Jinja chat template (rendered by
// @huggingface/jinja, as transformers.js does), the prompt expansion, and
// tokenization with the model's tokenizer.json.
import assert from "node:assert/strict";
import { ChatTemplate } from "../../src/text/chat_template.ts";
import { TextTokenizer } from "../../src/text/tokenizer.ts";
import { expandImages } from "../../src/runtime/prompt_builder.ts";
import { getPreset } from "../../variants/mod.ts";
import { renderUserTurn } from "../../src/tokens/conversation.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import type { TokensSpec } from "../../src/spec/types.ts";

const TINY = new URL("../fixtures/tiny-idefics3/", import.meta.url);
const readJson = async (name: string) => JSON.parse(await Deno.readTextFile(new URL(name, TINY)));
const tokenizerJson = await readJson("tokenizer.json");
const tokenizerConfig = await readJson("tokenizer_config.json");
const smolTemplate: string = (await readJson("chat_template.json")).chat_template;

const imageThenText = [{
  role: "user" as const,
  content: [{ type: "image" as const }, { type: "text" as const, text: "Describe this image." }],
}];

// The Idefics3 template differs from SmolVLM's only in its BOS text.
const idefics3Template = smolTemplate.replace("<|im_start|>", "<|begin_of_text|>");

Deno.test("SmolVLM template: `User:` before an image, `User: ` before text", () => {
  const template = new ChatTemplate(smolTemplate);
  assert.equal(
    template.render(imageThenText),
    "<|im_start|>User:<image>Describe this image.<end_of_utterance>\nAssistant:",
  );
  assert.equal(
    template.render([{ role: "user", content: [{ type: "text", text: "Hi" }, { type: "image" }] }]),
    "<|im_start|>User: Hi<image><end_of_utterance>\nAssistant:",
  );
  assert.equal(
    template.render([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello." },
      { role: "user", content: "Bye" },
    ]),
    "<|im_start|>User: Hi<end_of_utterance>\nAssistant: Hello.<end_of_utterance>\nUser: Bye<end_of_utterance>\nAssistant:",
  );
});

Deno.test("the Jinja templates agree with the accounting layouts of the presets", () => {
  const cases: [string, string][] = [
    ["smolvlm-256m-instruct", smolTemplate],
    ["smolvlm-instruct", smolTemplate],
    ["idefics3-8b", idefics3Template],
  ];
  for (const [preset, source] of cases) {
    const tokens = getPreset(preset).tokens;
    const rendered = new ChatTemplate(source).render(imageThenText);
    const layout = renderUserTurn(
      { imageBlocks: ["<image>"], text: "Describe this image." },
      tokens,
    );
    assert.equal(rendered, layout, preset);
  }
});

Deno.test("SmolVLM-256M expansion: 2×2 grid + global, every marker one special token", () => {
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig);
  const tokens: TokensSpec = getPreset("smolvlm-256m-instruct").tokens;
  const plan = planTiles(97, 131, {
    longestEdge: 64,
    tileSize: 32,
    splitting: true,
    padToSquare: false,
  });
  const rendered = new ChatTemplate(smolTemplate).render(imageThenText);
  const text = expandImages(rendered, [plan], 2, tokens);
  const F = "<fake_token_around_image>";
  assert.equal(
    text,
    `<|im_start|>User:${F}<row_1_col_1><image><image>${F}<row_1_col_2><image><image>\n` +
      `${F}<row_2_col_1><image><image>${F}<row_2_col_2><image><image>\n\n` +
      `${F}<global-img><image><image>${F}Describe this image.<end_of_utterance>\nAssistant:`,
  );
  const ids = tokenizer.encode(text, true);
  const id = (t: string) => tokenizer.tokenId(t)!;
  const head = [
    id("<|im_start|>"),
    ...tokenizer.encode("User:"),
    id(F),
    id("<row_1_col_1>"),
    id("<image>"),
  ];
  assert.deepEqual(ids.slice(0, head.length), head);
  assert.equal(ids.filter((x) => x === id("<image>")).length, 10);
  for (const marker of ["<row_1_col_2>", "<row_2_col_2>", "<global-img>", "<end_of_utterance>"]) {
    assert.equal(ids.filter((x) => x === id(marker)).length, 1, marker);
  }
  assert.equal(tokenizer.decode(ids, false), text);
});

Deno.test("SmolVLM 2.2B: <row_r_col_c> and <global-img> are plain text, split into BPE pieces", () => {
  // The 2.2B tokenizer only adds <fake_token_around_image>, <image> and <end_of_utterance>.
  const plain = structuredClone(tokenizerJson);
  const isMarker = (content: string) =>
    content === "<global-img>" || /^<row_\d_col_\d>$/.test(content);
  plain.added_tokens = plain.added_tokens.filter((t: { content: string }) => !isMarker(t.content));
  for (const key of Object.keys(plain.model.vocab)) {
    if (isMarker(key)) delete plain.model.vocab[key];
  }
  const config = structuredClone(tokenizerConfig);
  config.added_tokens_decoder = Object.fromEntries(
    Object.entries(config.added_tokens_decoder).filter(([, t]) =>
      !isMarker((t as { content: string }).content)
    ),
  );
  const tokenizer = new TextTokenizer(plain, config);
  assert.equal(tokenizer.tokenId("<row_1_col_1>"), undefined);
  const pieces = tokenizer.encode("<row_1_col_1>");
  assert.ok(pieces.length > 1, `expected several pieces, got ${pieces}`);
  assert.equal(tokenizer.decode(pieces), "<row_1_col_1>");
  // <image> stays one token, so feature slots are still counted exactly.
  assert.equal(tokenizer.encode("<image><image>").length, 2);
  // The expansion text itself is the same as for the 256M model.
  const tokens = getPreset("smolvlm-instruct").tokens;
  const plan = { rows: 1, cols: 2 } as ReturnType<typeof planTiles>;
  assert.match(
    expandImages("<image>", [plan], 1, tokens),
    /^<fake_token_around_image><row_1_col_1><image>/,
  );
});

Deno.test("MobileVLM v1 conversation: system prompt, USER/ASSISTANT, image on its own line", () => {
  const tokens = getPreset("mobilevlm-1.7b").tokens;
  assert.equal(
    renderUserTurn({ imageBlocks: ["<image>"], text: "What is in the picture?" }, tokens),
    "A chat between a curious user and an artificial intelligence assistant. " +
      "The assistant gives helpful, detailed, and polite answers to the user's questions. " +
      "USER: <image>\nWhat is in the picture? ASSISTANT:",
  );
});

Deno.test("a template error names the problem", () => {
  assert.throws(() => new ChatTemplate("{% for %}"), /chat template does not parse/);
});
