/**
 * Chat messages as the Hugging Face chat templates expect them: a role and a
 * list of content parts, where each image part stands for one input image.
 *
 * @module
 */

/** A text part of a message. */
export interface TextPart {
  /** Discriminator. */
  type: "text";
  /** The text. */
  text: string;
}

/** An image placeholder; the n-th image part receives the n-th request image. */
export interface ImagePart {
  /** Discriminator. */
  type: "image";
}

/** One part of a message's content. */
export type ContentPart = TextPart | ImagePart;

/** Who speaks. */
export type Role = "system" | "user" | "assistant";

/** One chat message. A string content is shorthand for one text part. */
export interface ChatMessage {
  /** Speaker. */
  role: Role;
  /** Content parts in order, or plain text. */
  content: string | ContentPart[];
}

/** Normalises string content into a list of parts. */
export function contentParts(message: ChatMessage): ContentPart[] {
  return typeof message.content === "string"
    ? [{ type: "text", text: message.content }]
    : message.content;
}

/** Number of image parts across all messages. */
export function countImageParts(messages: readonly ChatMessage[]): number {
  let count = 0;
  for (const message of messages) {
    for (const part of contentParts(message)) if (part.type === "image") count++;
  }
  return count;
}
