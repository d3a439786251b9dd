/**
 * Evaluation sets: JSON Lines of `{"image", "prompt", "answer"}`, image paths
 * relative to the file. Parsed strictly: a bad line is an error naming its
 * line number, never a silently skipped item.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { VlmError } from "../errors/vlm_error.ts";

/** One evaluation item. */
export interface LabeledItem {
  /** Image path as written in the file (relative to it, or absolute). */
  image: string;
  /** The question. */
  prompt: string;
  /** The expected answer. */
  answer: string;
}

const ItemSchema = z.object({
  image: z.string().min(1),
  prompt: z.string(),
  answer: z.string(),
}).passthrough();

/** A labeled item with another system's answer (a predictions file line). */
export interface PredictedItem extends LabeledItem {
  /** That system's answer. */
  prediction: string;
}

const PredictionSchema = ItemSchema.extend({ prediction: z.string() });

/** Parses a labels.jsonl text; `source` names the file in errors. Blank lines are ignored. */
export function parseLabels(text: string, source: string): LabeledItem[] {
  return parseLines(text, source, ItemSchema, '"image" (non-empty), "prompt" and "answer"')
    .map(({ image, prompt, answer }) => ({ image, prompt, answer }));
}

/** Parses a predictions JSONL text (labels plus a string "prediction" per line). */
export function parsePredictions(text: string, source: string): PredictedItem[] {
  return parseLines(text, source, PredictionSchema, '"image", "prompt", "answer" and "prediction"')
    .map(({ image, prompt, answer, prediction }) => ({ image, prompt, answer, prediction }));
}

function parseLines<T>(text: string, source: string, schema: z.ZodType<T>, fields: string): T[] {
  const items: T[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new VlmError(
        "input_invalid",
        `${source}:${index + 1}: not JSON (${(error as Error).message})`,
        {
          fix: 'write one object per line: {"image": "a.png", "prompt": "...", "answer": "..."}',
        },
      );
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new VlmError(
        "input_invalid",
        `${source}:${index + 1}: field "${issue.path.join(".")}" ${issue.message.toLowerCase()}`,
        { fix: `each line needs string fields ${fields}` },
      );
    }
    items.push(parsed.data);
  });
  if (items.length === 0) {
    throw new VlmError("input_invalid", `${source} has no items`, {
      fix: "add at least one labeled line",
    });
  }
  return items;
}
