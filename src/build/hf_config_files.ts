/**
 * The JSON files of a published-layout folder (e.g. hf-idefics3): the
 * family's config files from its codec (`src/families/`), plus the tokenizer
 * and chat template the builder synthesizes, as the runtime's
 * `specFromHfFiles` and transformers.js read them.
 *
 * @module
 */
import { familyOf } from "../families/registry.ts";
import type { Plan } from "../spec/plan.ts";
import { chatTemplateFor } from "./chat_templates.ts";
import { specialTokens, tokenizerJson } from "./synthetic_tokenizer.ts";

/**
 * `{file name: JSON}` for every config file of the folder. `externalData`
 * tells transformers.js to fetch `<file>.onnx_data` (it does not look for it
 * otherwise).
 */
export function hfConfigFiles(plan: Plan, externalData = false): Record<string, unknown> {
  const { spec } = plan;
  const family = familyOf(spec);
  if (!family.hfConfig) {
    throw new Error(`the ${family.id} family has no Hugging Face config codec`);
  }
  const { "tokenizer_config.json": familyTokenizerKeys, ...configs } = family.hfConfig.write(
    plan,
    externalData,
  ) as Record<string, Record<string, unknown>>;
  const t = spec.tokens;
  const template = chatTemplateFor(t);
  const specials = specialTokens(spec);
  const textOf = (id: number | null) => id === null ? null : specials.get(id) ?? null;
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      [...specials].map(([id, content]) => [String(id), {
        content,
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        special: true,
      }]),
    ),
    bos_token: t.bos?.text ?? null,
    chat_template: template,
    clean_up_tokenization_spaces: false,
    eos_token: t.endOfUtterance.text,
    model_max_length: spec.decoder.contextLength,
    pad_token: textOf(t.padId),
    processor_class: familyTokenizerKeys?.processor_class,
    tokenizer_class: familyTokenizerKeys?.tokenizer_class,
    unk_token: textOf(0),
  };
  return {
    ...configs,
    "chat_template.json": { chat_template: template },
    "tokenizer_config.json": tokenizerConfig,
    "tokenizer.json": tokenizerJson(spec),
  };
}
