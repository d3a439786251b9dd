/**
 * Task plugins: the contract, option parsing and the runner.
 *
 * @module
 */
export type {
  PluginContext,
  Schema,
  TaskHooks,
  TaskInput,
  TaskPlugin,
  TaskPrompt,
  TaskResult,
  TaskStop,
  TimedFrame,
} from "./types.ts";
export { parsePluginOptions } from "./plugin_options.ts";
export { callHook, runTask, type TaskModel } from "./run_task.ts";
export { userTurn } from "./user_turn.ts";
