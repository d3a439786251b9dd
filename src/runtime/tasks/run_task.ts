/**
 * Runs one task: the plugin's hooks around a model's generation, in the
 * documented order, with every hook failure wrapped as `plugin_failed`.
 *
 * @module
 */
import { schemaIssues } from "../../errors/issue.ts";
import { VlmError } from "../../errors/vlm_error.ts";
import type { GenerateRequest, GenerationResult } from "../generation_types.ts";
import { userTurn } from "./user_turn.ts";
import type { PluginContext, TaskInput, TaskPlugin, TaskPrompt, TaskResult } from "./contract.ts";

/** The part of a model a task needs (a `VlmModel` has it). */
export interface TaskModel {
  /** Facts for hooks. */
  readonly plan: PluginContext["plan"];
  /** Tokenizer for hooks. */
  readonly tokenizer: PluginContext["tokenizer"];
  /** Runs generation. */
  generate(request: GenerateRequest): Promise<GenerationResult>;
}

/** Error codes a hook may raise on purpose; they reach the caller unchanged. */
const PASS_THROUGH = new Set(["plugin_failed", "input_invalid", "budget_unsatisfiable"]);

/** Calls `hook` and wraps anything it throws with the plugin's and the hook's name. */
export function callHook<T>(plugin: string, hook: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    // Already attributed, or a deliberate error about the caller's input that must keep its code.
    if (error instanceof VlmError && PASS_THROUGH.has(error.code)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new VlmError(
      "plugin_failed",
      `plugin "${plugin}" failed in its ${hook} hook: ${message}`,
      {
        fix: `fix or remove the ${plugin} plugin's ${hook} hook`,
        cause: error,
      },
    );
  }
}

function defaultPrompt(input: TaskInput): TaskPrompt {
  if (input.messages) return { messages: input.messages, images: input.images ?? [] };
  return userTurn(input.images ?? [], input.prompt ?? "");
}

/**
 * A budget error of the model restated for a task, whose caller controls the
 * limit and the images but not the request the plugin builds (e.g. `split`).
 */
function taskBudgetError(name: string, input: TaskInput, error: unknown): unknown {
  if (!(error instanceof VlmError) || error.code !== "budget_unsatisfiable") return error;
  const fix = input.maxNewTokens !== undefined
    ? "lower maxNewTokens, or leave it out (the task's limit then shrinks to the room the " +
      "prompt leaves); or use fewer or smaller images"
    : "use fewer or smaller images, or a shorter prompt: the prompt alone fills the model's context";
  return new VlmError("budget_unsatisfiable", `task "${name}": ${error.message}`, {
    fix,
    cause: error,
  });
}

/** Runs `plugin` on `model` with `input`. */
export async function runTask<Output>(
  model: TaskModel,
  plugin: TaskPlugin<Output>,
  input: TaskInput,
): Promise<TaskResult<Output>> {
  const context: PluginContext = { plan: model.plan, tokenizer: model.tokenizer };
  const { hooks, name } = plugin;
  const prompt = hooks.prompt
    ? callHook(name, "prompt", () => hooks.prompt!(input, context))
    : defaultPrompt(input);
  const stop = hooks.stop ? callHook(name, "stop", () => hooks.stop!(context)) : {};
  let request: GenerateRequest = {
    messages: prompt.messages,
    images: prompt.images,
    maxNewTokens: input.maxNewTokens ?? plugin.maxNewTokens,
    // The plugin's default is a cap, not a demand: it shrinks to what the prompt leaves.
    fitContext: input.maxNewTokens === undefined,
    signal: input.signal,
    stopStrings: stop.strings,
    stopTokenIds: stop.ids ? [...model.plan.spec.tokens.eosIds, ...stop.ids] : undefined,
  };
  if (hooks.preprocess) {
    request = callHook(name, "preprocess", () => hooks.preprocess!(request, context));
  }
  if (hooks.logitsProcessor) {
    const processor = callHook(name, "logitsProcessor", () => hooks.logitsProcessor!(context));
    request = {
      ...request,
      logitsProcessors: [
        ...(request.logitsProcessors ?? []),
        (logits, generated) =>
          callHook(name, "logitsProcessor", () => processor(logits, generated)),
      ],
    };
  }
  if (hooks.onToken) {
    const previous = request.onToken;
    request = {
      ...request,
      onToken: (token) => {
        previous?.(token);
        callHook(name, "onToken", () => hooks.onToken!(token, context));
      },
    };
  }
  const result = await model.generate(request).catch((error) => {
    throw taskBudgetError(name, input, error);
  });
  const raw = hooks.postprocess
    ? callHook(name, "postprocess", () => hooks.postprocess!(result.text, context, prompt))
    : result.text;
  const checked = plugin.output.safeParse(raw);
  if (!checked.success) {
    throw VlmError.fromIssues(
      "plugin_failed",
      `plugin "${name}" returned a result that does not match its output schema`,
      schemaIssues(
        checked.error.issues,
        `fix the ${name} plugin's postprocess hook or its output schema`,
      ),
    );
  }
  return {
    output: checked.data,
    text: result.text,
    tokenIds: result.tokenIds,
    finishReason: result.finishReason,
    timings: result.timings,
  };
}
