/**
 * `vlm serve --model DIR [--port N] [--task NAME ...] [--plugin FILE ...]`:
 * the edge server under `Deno.serve`, with the model loaded once at start.
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
import { documentsRoute } from "../../src/server/documents_route.ts";
import { createServerHandler } from "../../src/server/handler.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseDtype,
  requireString,
} from "./args.ts";
import type { Command } from "./command.ts";
import { MAX_PIXELS_HELP, MAX_PIXELS_OPTION, parseMaxPixels } from "./max_pixels.ts";
import { loadPluginFile, pluginsOfFile } from "./plugin_file.ts";

const TASKS: Record<string, () => TaskPlugin<unknown>> = {
  caption: () => caption() as TaskPlugin<unknown>,
  vqa: () => vqa() as TaskPlugin<unknown>,
  ocr: () => ocr() as TaskPlugin<unknown>,
  doctags: () => doctags() as TaskPlugin<unknown>,
  video: () => video() as TaskPlugin<unknown>,
};

const usage = `Usage: vlm serve --model DIR [--port N] [--host H] [options]

Serves the model over HTTP (loaded once at start):
  POST /v1/chat/completions   OpenAI-compatible; image_url data: URLs; "stream": true sends SSE;
                              unsupported parameters are refused with 400 naming them
  POST /v1/tasks/{name}       registered task plugins: {images: [urls], prompt, max_tokens}
  GET  /v1/models, GET /healthz

Options:
  --port N                 port (default 8080; 0 picks a free one)
  --host H                 interface (default 127.0.0.1)
  --backend B, --dtype D   as for vlm run
  --task NAME              register a built-in task (${Object.keys(TASKS).join(", ")}); repeatable
  --plugin FILE            serve the plugins of a plugin file (a .ts module or a bundle from
                           \`vlm plugin bundle\`): its exported plugins, and each exported
                           factory called without options; repeatable
  --max-new-tokens N       upper bound on max_tokens (default 512); a request without
                           max_tokens gets the room its prompt leaves, up to N
  --max-queue N            requests that may wait for a turn (default 8, at least 1); one more
                           gets 503 with Retry-After
  --max-queue-wait-ms N    longest wait for a turn (default 30000; past it: 503 with Retry-After)
  --max-concurrent N       requests admitted at once (default 1); with --memory-budget-mb, only
                           while their estimates fit the budget together
  --timeout-ms N           per-request time limit (default 120000)
  --max-body-bytes N       largest request body (default 20000000)
  --allow-remote-images    also fetch http(s) image URLs (off by default)
  --max-image-pixels N     total pixels of one request's images, checked as they arrive, before
                           the request queues (default 50000000; over it: 413)
  --max-tiles N            most tiles per image for detail "auto" and tasks (default 5 on wasm,
                           no cap on native; detail "low" is unsplit, "high" the full split)
  --max-pixels-per-image N pixels of any one image, read from its header before decoding
                           (default 16777216 = 4096²; over it: 413, so a decompression bomb
                           is refused without being decoded)
  --memory-budget-mb N     memory the requests in flight may add on top of the model, each
                           estimated from its plan before it queues (decoded images, tiles ×
                           vision activations, KV cache for prompt + max_tokens); one over it on
                           its own: 413; one that fits alone waits its turn (default: no limit)
  --image-time-ms N        time to fetch and check one request's images (default 10000; past it: 408)
${MAX_PIXELS_HELP}`;

const mebibytes = (mb: number | undefined) => mb === undefined ? undefined : mb * 2 ** 20;

export const serveCommand: Command = {
  name: "serve",
  summary: "serve a model over HTTP (OpenAI-compatible chat completions, tasks)",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("serve", args, {
      model: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      backend: { type: "string" },
      dtype: { type: "string" },
      task: { type: "string", multiple: true },
      plugin: { type: "string", multiple: true },
      "max-new-tokens": { type: "string" },
      "max-queue": { type: "string" },
      "max-queue-wait-ms": { type: "string" },
      "max-concurrent": { type: "string" },
      "timeout-ms": { type: "string" },
      "max-body-bytes": { type: "string" },
      "allow-remote-images": { type: "boolean" },
      "max-image-pixels": { type: "string" },
      "image-time-ms": { type: "string" },
      "max-tiles": { type: "string" },
      "max-pixels-per-image": { type: "string" },
      "memory-budget-mb": { type: "string" },
      ...MAX_PIXELS_OPTION,
    });
    const dir = requireString("serve", parsed, "model");
    const tasks = ((parsed.values.task as string[] | undefined) ?? []).map((name) => {
      const factory = TASKS[name];
      if (!factory) {
        throw new UsageError(
          `vlm serve: unknown task "${name}"`,
          `use one of ${Object.keys(TASKS).join(", ")}`,
        );
      }
      return factory();
    });
    const plugins = [];
    for (const path of (parsed.values.plugin as string[] | undefined) ?? []) {
      plugins.push(...pluginsOfFile(await loadPluginFile(path)));
    }
    const maxTiles = optionalNumber("serve", parsed, "max-tiles", {
      min: 1,
      max: 10_000,
      integer: true,
    });
    const model = await loadModel(dir, {
      maxTiles,
      backend: parseBackend("serve", parsed),
      dtype: parseDtype("serve", parsed),
      maxPixels: parseMaxPixels("serve", parsed),
      plugins: tasks,
    });
    let handler;
    try {
      handler = createServerHandler(model, {
        documents: documentsRoute,
        modelName: dir.replace(/\/$/, "").split("/").pop(),
        maxNewTokens: optionalNumber("serve", parsed, "max-new-tokens", {
          min: 1,
          max: 65536,
          integer: true,
        }),
        maxQueue: optionalNumber("serve", parsed, "max-queue", {
          min: 1,
          max: 10000,
          integer: true,
        }),
        maxQueueWaitMs: optionalNumber("serve", parsed, "max-queue-wait-ms", {
          min: 1,
          max: 86_400_000,
          integer: true,
        }),
        maxConcurrent: optionalNumber("serve", parsed, "max-concurrent", {
          min: 1,
          max: 1000,
          integer: true,
        }),
        timeoutMs: optionalNumber("serve", parsed, "timeout-ms", {
          min: 1,
          max: 86_400_000,
          integer: true,
        }),
        maxBodyBytes: optionalNumber("serve", parsed, "max-body-bytes", {
          min: 1,
          max: 2 ** 31,
          integer: true,
        }),
        allowRemoteImages: parsed.values["allow-remote-images"] === true,
        maxImagePixels: optionalNumber("serve", parsed, "max-image-pixels", {
          min: 1,
          max: 2 ** 31,
          integer: true,
        }),
        imageTimeMs: optionalNumber("serve", parsed, "image-time-ms", {
          min: 1,
          max: 3_600_000,
          integer: true,
        }),
        maxTiles,
        maxPixelsPerImage: optionalNumber("serve", parsed, "max-pixels-per-image", {
          min: 1,
          max: 2 ** 31,
          integer: true,
        }),
        memoryBudgetBytes: mebibytes(
          optionalNumber("serve", parsed, "memory-budget-mb", {
            min: 1,
            max: 1_048_576,
            integer: true,
          }),
        ),
        plugins,
      });
    } catch (error) {
      await model.dispose();
      throw error;
    }
    const port = optionalNumber("serve", parsed, "port", { min: 0, max: 65535, integer: true }) ??
      8080;
    const hostname = (parsed.values.host as string | undefined) ?? "127.0.0.1";
    let server;
    try {
      server = Deno.serve({
        port,
        hostname,
        onListen: ({ hostname, port }) =>
          console.error(`vlm serve: http://${hostname}:${port} (model ${dir})`),
      }, handler.handle);
    } catch (error) {
      await model.dispose();
      if (error instanceof Deno.errors.AddrInUse) {
        throw new UsageError(
          `vlm serve: port ${port} is in use`,
          "pass --port N (another free port, or 0 to pick one)",
        );
      }
      if (error instanceof Deno.errors.AddrNotAvailable) {
        throw new UsageError(
          `vlm serve: cannot listen on ${hostname}: no such local address`,
          "pass --host with an address of this machine (e.g. 127.0.0.1 or 0.0.0.0)",
        );
      }
      throw error;
    }
    await server.finished;
    await model.dispose();
    return 0;
  },
};
