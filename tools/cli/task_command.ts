/**
 * `vlm task NAME --model DIR [--image PATH ...] [--prompt T] [--option K=V ...]
 * [--plugin FILE ...] --json`: runs a built-in task plugin, or one from a
 * plugin file, and prints its typed result.
 *
 * @module
 */
import { caption } from "../../plugins/caption/mod.ts";
import { doctags } from "../../plugins/doctags/task.ts";
import { ocr } from "../../plugins/ocr/mod.ts";
import { video } from "../../plugins/video/mod.ts";
import { vqa } from "../../plugins/vqa/mod.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseDtype,
  requireString,
} from "./args.ts";
import { type Command, printJson } from "./command.ts";
import { factoryName, loadPluginFile, type PluginFile, pluginForTask } from "./plugin_file.ts";
import { type DecodedVideo, decodeVideo } from "./video_frames.ts";
import { MAX_PIXELS_HELP, MAX_PIXELS_OPTION, parseMaxPixels } from "./max_pixels.ts";

/** Built-in task factories by name. */
const TASKS: Record<string, (options: Record<string, unknown>) => TaskPlugin<unknown>> = {
  caption: (o) => caption(o) as TaskPlugin<unknown>,
  vqa: (o) => vqa(o) as TaskPlugin<unknown>,
  ocr: (o) => ocr(o) as TaskPlugin<unknown>,
  doctags: (o) => doctags(o) as TaskPlugin<unknown>,
  video: (o) => video(o) as TaskPlugin<unknown>,
};

const usage =
  `Usage: vlm task NAME --model DIR [--image PATH ...] [--prompt TEXT] [--option KEY=VALUE ...]
                [--plugin FILE ...] [--max-new-tokens N] [--backend wasm|native] [--dtype D]
                [--max-pixels N] [--json]

Runs a built-in task plugin (${Object.keys(TASKS).join(", ")}), or task NAME from a plugin file,
and prints its typed result.
--plugin FILE loads a plugin module (a .ts file, or a bundle from \`vlm plugin bundle\`); NAME is
an exported plugin of that name, else the factory exported as NAME in camelCase (or the default
export), called with the --option values.
--option passes plugin options; values are read as JSON when they parse (numbers, true/false),
as text otherwise, e.g. --option detail=detailed --option maxSentences=2.
Without --max-new-tokens the plugin's limit applies, lowered to the room the prompt leaves in the
model's context.
video: --video FILE is decoded with ffmpeg (when installed) at the plugin's fps (default 1);
or pass frames as --image files, --frame-interval seconds apart (default 1).
--json prints {task, output, text, tokenIds, finishReason, timings}.
${MAX_PIXELS_HELP}`;

function parseOptions(values: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const entry of values) {
    const at = entry.indexOf("=");
    if (at <= 0) {
      throw new UsageError(
        `vlm task: --option ${entry} is not KEY=VALUE`,
        "write e.g. --option detail=detailed",
      );
    }
    const raw = entry.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain text
    }
    options[entry.slice(0, at)] = value;
  }
  return options;
}

/** Whether `file` offers task `task` by name (an exported plugin, or a factory named after it). */
function offers(file: PluginFile, task: string): boolean {
  return factoryName(task) in file.exports ||
    Object.values(file.exports).some((value) =>
      typeof value === "object" && value !== null && (value as { name?: unknown }).name === task
    );
}

/** The plugin for `name`: from the plugin files first, then the built-ins. */
function choosePlugin(
  name: string | undefined,
  files: PluginFile[],
  options: Record<string, unknown>,
): TaskPlugin<unknown> {
  if (name) {
    const file = files.find((f) => offers(f, name)) ??
      (files.length === 1 && !TASKS[name] ? files[0] : undefined);
    if (file) return pluginForTask(file, name, options);
    if (TASKS[name]) return TASKS[name](options);
  }
  throw new UsageError(
    `vlm task: unknown task "${name ?? ""}"`,
    `use one of ${Object.keys(TASKS).join(", ")}, or load it with --plugin FILE`,
  );
}

export const taskCommand: Command = {
  name: "task",
  summary:
    "run a task plugin (caption, vqa, ocr, doctags, video, or --plugin FILE) and print its result",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("task", args, {
      model: { type: "string" },
      image: { type: "string", multiple: true },
      prompt: { type: "string" },
      option: { type: "string", multiple: true },
      "max-new-tokens": { type: "string" },
      backend: { type: "string" },
      dtype: { type: "string" },
      video: { type: "string" },
      "frame-interval": { type: "string" },
      ...MAX_PIXELS_OPTION,
      plugin: { type: "string", multiple: true },
    });
    const name = parsed.positionals[0];
    const options = parseOptions((parsed.values.option as string[] | undefined) ?? []);
    const files: PluginFile[] = [];
    for (const path of (parsed.values.plugin as string[] | undefined) ?? []) {
      files.push(await loadPluginFile(path));
    }
    const plugin = choosePlugin(name, files, options);
    const model = await loadModel(requireString("task", parsed, "model"), {
      backend: parseBackend("task", parsed),
      dtype: parseDtype("task", parsed),
      maxPixels: parseMaxPixels("task", parsed),
      plugins: [plugin],
    });
    const images = (parsed.values.image as string[] | undefined) ?? [];
    const interval = optionalNumber("task", parsed, "frame-interval", { min: 1e-3, max: 3600 }) ??
      1;
    let decoded: DecodedVideo | undefined;
    try {
      if (typeof parsed.values.video === "string") {
        const fps = Number(options.fps ?? 1);
        decoded = await decodeVideo(parsed.values.video, fps);
      }
      const frames = name === "video"
        ? decoded?.frames ?? images.map((image, i) => ({ image, time: i * interval }))
        : undefined;
      const result = await model.task(plugin.name, {
        frames,
        images: name === "video" ? [] : images,
        prompt: parsed.values.prompt as string | undefined,
        maxNewTokens: optionalNumber("task", parsed, "max-new-tokens", {
          min: 1,
          max: 65536,
          integer: true,
        }),
      });
      if (parsed.values.json) printJson({ task: plugin.name, ...result });
      else console.log(JSON.stringify(result.output, null, 2));
    } finally {
      await model.dispose();
      if (decoded) await Deno.remove(decoded.dir, { recursive: true });
    }
    return 0;
  },
};
