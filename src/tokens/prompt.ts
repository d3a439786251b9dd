/**
 * Prompt expansion: the text that stands in for one image in an
 * Idefics3/SmolVLM prompt. The Idefics3 family module owns it
 * (`src/families/idefics3_prompt.ts`); it is exported here for token
 * accounting users.
 *
 * @module
 */
export {
  expandImagePrompt,
  type ExpansionTokens,
  rowColText,
} from "../families/idefics3_prompt.ts";
