/**
 * Jinja chat templates written into synthesized folders, one per conversation
 * layout the token accounting knows (`src/tokens/conversation.ts` renders the
 * same text for a single user turn).
 *
 * @module
 */
import type { TokensSpec } from "../spec/types.ts";
import { MOBILEVLM_SYSTEM_PROMPT } from "../tokens/conversation.ts";

/** SmolVLM/Idefics3: `BOS` + `Role:` (`Role: ` before text) + items + `<end_of_utterance>\n`. */
function idefics3Template(bos: string, endOfUtterance: string): string {
  return `${bos}{% for message in messages %}{{message['role'] | capitalize}}` +
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}" +
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}" +
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}" +
    `${endOfUtterance}\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}`;
}

/** MobileVLM `v1`: system prompt, ` USER: <image>\n{text}`, ` ASSISTANT: {text}</s>`. */
function mobileVlmTemplate(endOfUtterance: string): string {
  return `${MOBILEVLM_SYSTEM_PROMPT}{% for message in messages %}` +
    "{% if message['role'] == 'user' %} USER: " +
    "{% for line in message['content'] %}{% if line['type'] == 'image' %}<image>\n{% endif %}{% endfor %}" +
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% endif %}{% endfor %}" +
    "{% else %} ASSISTANT: {% for line in message['content'] %}{% if line['type'] == 'text' %}" +
    `{{line['text']}}{% endif %}{% endfor %}${endOfUtterance}{% endif %}{% endfor %}` +
    "{% if add_generation_prompt %} ASSISTANT:{% endif %}";
}

/** The chat template for a variant's conversation layout. */
export function chatTemplateFor(tokens: TokensSpec): string {
  if (tokens.chatTemplate === "mobilevlm-v1") return mobileVlmTemplate(tokens.endOfUtterance.text);
  return idefics3Template(tokens.bos?.text ?? "", tokens.endOfUtterance.text);
}
