/**
 * The task-plugin contract (defined by the runtime, which runs the hooks):
 * what a plugin factory returns and what its hooks receive.
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
} from "../runtime/tasks/contract.ts";
