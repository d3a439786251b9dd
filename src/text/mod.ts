/**
 * Text: the model's tokenizer, its chat template, and chat message types.
 *
 * @module
 */
export { TextTokenizer } from "./tokenizer.ts";
export { ChatTemplate } from "./chat_template.ts";
export {
  type ChatMessage,
  type ContentPart,
  contentParts,
  countImageParts,
  type ImagePart,
  type Role,
  type TextPart,
} from "./messages.ts";
