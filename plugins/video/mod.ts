/**
 * `video`: answer a question about a video given as timestamped frames.
 * Frames are sampled as SmolVLM2 samples them (fps, at most `maxFrames`),
 * each is one unsplit tile, and the prompt lists them with their timestamps
 * the way SmolVLM2's processor writes it. The token budget is checked before
 * anything runs: frames are thinned evenly until prompt + answer fit the
 * context, and the task fails with `budget_unsatisfiable` if one frame
 * cannot.
 *
 * ```ts
 * const model = await loadModel(dir, { plugins: [video({ fps: 1 })] });
 * const frames = [{ image: "f0.png", time: 0 }, { image: "f1.png", time: 1 }];
 * const { output } = await model.task<VideoResult>("video", { frames, prompt: "What happens?" });
 * ```
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { parsePluginOptions } from "../../src/plugins/plugin_options.ts";
import type { PluginContext, TaskPlugin, TaskPrompt, TimedFrame } from "../../src/plugins/types.ts";
import type { ContentPart } from "../../src/text/messages.ts";
import {
  hoursMinutesSeconds,
  minutesSeconds,
  numberWords,
  sampleFrameIndices,
} from "./frame_sampling.ts";

export { sampleFrameIndices } from "./frame_sampling.ts";

/** Options of {@linkcode video}. */
export interface VideoOptions {
  /** Frames per second to sample (default: the model's video spec, else 1). */
  fps?: number;
  /** Upper bound on frames (default: the model's video spec, else 64). */
  maxFrames?: number;
  /** Generation limit (default 256). */
  maxNewTokens?: number;
}

/** The answer and the frames it saw. */
export interface VideoResult {
  /** The answer, trimmed. */
  answer: string;
  /** Timestamps (seconds) of the frames sent to the model. */
  frameTimes: number[];
}

const Options = z.object({
  fps: z.number().positive().optional(),
  maxFrames: z.number().int().positive().optional(),
  maxNewTokens: z.number().int().positive().default(256),
}).strict();

/** The prompt for `frames`: the SmolVLM2 header, one unsplit image per frame, then the question. */
function videoPrompt(
  frames: readonly TimedFrame[],
  duration: number,
  question: string,
): TaskPrompt {
  const content: ContentPart[] = [{
    type: "text",
    text: `You are provided the following series of ${numberWords(frames.length)} frames from a ${
      hoursMinutesSeconds(duration)
    } [H:MM:SS] video.\n`,
  }];
  for (const frame of frames) {
    content.push({ type: "text", text: `\nFrame from ${minutesSeconds(frame.time)}:` }, {
      type: "image",
    });
  }
  content.push({ type: "text", text: `\n\n${question}` });
  return {
    messages: [{ role: "user", content }],
    images: frames.map((f) => f.image),
    meta: { frameTimes: frames.map((f) => f.time) },
  };
}

/** Prompt tokens of `prompt` with every image as one unsplit tile. */
function promptTokens(prompt: TaskPrompt, context: PluginContext): number {
  let text = "";
  for (const message of prompt.messages) {
    const parts = typeof message.content === "string" ? [] : message.content;
    for (const part of parts) if (part.type === "text") text += part.text;
  }
  // Per frame: the image slots plus <fake><global-img> and the closing <fake>.
  return context.tokenizer.count(text) + prompt.images.length * (context.plan.tokensPerTile + 3) +
    16; // role markers and the generation prompt
}

/** The video plugin. */
export function video(options: VideoOptions = {}): TaskPlugin<VideoResult> {
  const o = parsePluginOptions("video", Options, options);
  return {
    name: "video",
    optionsSchema: Options,
    maxNewTokens: o.maxNewTokens,
    output: z.object({ answer: z.string(), frameTimes: z.array(z.number()) }),
    hooks: {
      prompt: (input, context) => {
        const frames = [...(input.frames ?? [])].sort((a, b) => a.time - b.time);
        if (frames.length === 0) {
          throw new VlmError("input_invalid", "video needs frames: [{ image, time }, ...]", {
            fix: "pass input.frames with one entry per decoded frame (time in seconds)",
          });
        }
        const spec = context.plan.spec.video;
        const fps = o.fps ?? spec?.fps ?? 1;
        const maxFrames = o.maxFrames ?? spec?.maxFrames ?? 64;
        // n frames at a steady rate cover n intervals (the video's duration), not n − 1.
        const span = frames[frames.length - 1].time - frames[0].time;
        const duration = frames.length > 1 && span > 0
          ? (span * frames.length) / (frames.length - 1)
          : 1 / fps;
        const budget = context.plan.decoder.contextLength - (input.maxNewTokens ?? o.maxNewTokens);
        const question = input.prompt ?? "Describe the video.";
        // Thin the frames until prompt + answer fit the context.
        for (let limit = maxFrames; limit >= 1; limit--) {
          const chosen = sampleFrameIndices(frames.length, duration, fps, limit).map((i) =>
            frames[i]
          );
          const prompt = videoPrompt(chosen, duration, question);
          if (promptTokens(prompt, context) <= budget) return prompt;
        }
        throw new VlmError(
          "budget_unsatisfiable",
          `even one frame (${context.plan.tokensPerTile} image tokens) and the question do not fit the context of ${context.plan.decoder.contextLength} tokens with ${
            input.maxNewTokens ?? o.maxNewTokens
          } new tokens`,
          { fix: "shorten the question or lower maxNewTokens" },
        );
      },
      // Videos are never split: one tile per frame.
      preprocess: (request) => ({ ...request, split: false }),
      postprocess: (text, _context, prompt) => ({
        answer: text.trim(),
        frameTimes: (prompt.meta?.frameTimes as number[] | undefined) ?? [],
      }),
    },
  };
}
