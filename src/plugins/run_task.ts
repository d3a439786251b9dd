/**
 * Runs one task: a plugin's hooks around a model's generation (the runner
 * behind `model.task`, usable on anything with `plan`, `tokenizer` and
 * `generate`).
 *
 * @module
 */
export { callHook, runTask, type TaskModel } from "../runtime/tasks/run_task.ts";
