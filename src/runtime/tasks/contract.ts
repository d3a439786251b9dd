/**
 * The task-plugin contract. A plugin is made by a factory (`ocr(options)`)
 * and carries a name, its parsed options, an output schema and optional
 * hooks. The runner calls the hooks in this order:
 *
 * 1. `prompt` — builds the request's messages and images from the task input;
 * 2. `preprocess` — adjusts the generation request (splitting, limits, ...);
 * 3. during generation, every step: `logitsProcessor` (before sampling),
 *    then `onToken` (after the token is chosen); `stop` strings/ids end it;
 * 4. `postprocess` — turns the text into the typed result, checked against
 *    `output`.
 *
 * An exception in any hook becomes a `VlmError` with code `plugin_failed`
 * naming the plugin and the hook; the model stays usable.
 *
 * The contract belongs to the runtime, which runs the hooks (`model.task`);
 * plugins implement it and import it through `src/plugins/` (`vlmkit/plugin`).
 *
 * @module
 */
import type { ImageSource } from "../../image/source.ts";
import type {
  GenerateRequest,
  GenerationTimings,
  LogitsProcessor,
  StreamedToken,
} from "../generation_types.ts";
import type { Plan } from "../../spec/plan.ts";
import type { ChatMessage } from "../../text/messages.ts";
import type { TextTokenizer } from "../../text/tokenizer.ts";

/**
 * A validating schema: anything with zod's `safeParse` (a zod schema is one).
 * Declared structurally so plugin authors may use any zod version.
 */
export interface Schema<T> {
  /** Validates `value`; on failure lists the issues. */
  safeParse(value: unknown):
    | { success: true; data: T }
    | {
      success: false;
      error: { issues: readonly { message: string; path: readonly PropertyKey[] }[] };
    };
}

/** One video frame and when it was shown. */
export interface TimedFrame {
  /** The frame. */
  image: ImageSource;
  /** Its time in seconds from the start of the video. */
  time: number;
}

/** What a caller hands a task. */
export interface TaskInput {
  /** Images, in order. */
  images?: ImageSource[];
  /** The question or instruction, for tasks that take one. */
  prompt?: string;
  /** Video frames with timestamps, for video tasks. */
  frames?: TimedFrame[];
  /** A whole conversation, for tasks that accept one. */
  messages?: ChatMessage[];
  /** Upper bound on new tokens (default: the plugin's, lowered to the room the prompt leaves). */
  maxNewTokens?: number;
  /** Cancels the task. */
  signal?: AbortSignal;
}

/** Read-only facts a hook may use. */
export interface PluginContext {
  /** The model's Plan (token accounting, geometry, special tokens). */
  plan: Plan;
  /** The model's tokenizer. */
  tokenizer: TextTokenizer;
}

/** The messages and images a `prompt` hook produces. */
export interface TaskPrompt {
  /** Conversation to render with the model's chat template. */
  messages: ChatMessage[];
  /** Images for its image parts. */
  images: ImageSource[];
  /** Anything the prompt hook wants `postprocess` to see for this run. */
  meta?: Record<string, unknown>;
}

/** What ends generation besides the model's EOS. */
export interface TaskStop {
  /** Stop strings. */
  strings?: string[];
  /** Extra stop token ids. */
  ids?: number[];
}

/** The optional hooks of a plugin. */
export interface TaskHooks<Output> {
  /** Builds messages and images from the input (default: images then `input.prompt`). */
  prompt?(input: TaskInput, context: PluginContext): TaskPrompt;
  /** Adjusts the request before it runs (return a new request). */
  preprocess?(request: GenerateRequest, context: PluginContext): GenerateRequest;
  /** A fresh logits processor for one run (constrain or penalise tokens). */
  logitsProcessor?(context: PluginContext): LogitsProcessor;
  /** Stop strings and ids. */
  stop?(context: PluginContext): TaskStop;
  /** Observes each generated token. */
  onToken?(token: StreamedToken, context: PluginContext): void;
  /** Turns the generated text into the result (default: the text itself); `prompt` is this run's. */
  postprocess?(text: string, context: PluginContext, prompt: TaskPrompt): Output;
}

/** A task plugin, as returned by its factory. */
export interface TaskPlugin<Output = unknown> {
  /** Task name (`model.task(name, input)`); lower-case kebab. */
  name: string;
  /** Default generation limit for the task. */
  maxNewTokens: number;
  /** Schema of the factory's options (for tools that build plugins from configuration). */
  optionsSchema?: Schema<unknown>;
  /** Schema every result is checked against. */
  output: Schema<Output>;
  /** The hooks. */
  hooks: TaskHooks<Output>;
}

/** A task's result: the typed output plus what generation reported. */
export interface TaskResult<Output> {
  /** The plugin's typed result. */
  output: Output;
  /** The raw generated text. */
  text: string;
  /** Generated token ids. */
  tokenIds: number[];
  /** Why generation stopped. */
  finishReason: string;
  /** Timings of the run. */
  timings: GenerationTimings;
}
