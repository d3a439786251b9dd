/**
 * The prompt most tasks send: one user turn with every image, then the text.
 *
 * @module
 */
import type { ImageSource } from "../../image/source.ts";
import type { TaskPrompt } from "./contract.ts";

/** One user turn: an image part per image, then `text`. */
export function userTurn(images: readonly ImageSource[], text: string): TaskPrompt {
  return {
    messages: [{
      role: "user",
      content: [...images.map(() => ({ type: "image" as const })), { type: "text", text }],
    }],
    images: [...images],
  };
}
