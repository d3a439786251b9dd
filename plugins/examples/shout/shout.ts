import { parsePluginOptions, type TaskPlugin, userTurn, z } from "vlmkit/plugin";

const Options = z.object({ times: z.int().min(1).max(10).default(1) }).strict();

/** Answers like the model, in capitals, with `times` exclamation marks. */
export function shout(options: z.input<typeof Options> = {}): TaskPlugin<{ text: string }> {
  const o = parsePluginOptions("shout", Options, options);
  return {
    name: "shout",
    optionsSchema: Options,
    maxNewTokens: 32,
    output: z.object({ text: z.string() }),
    hooks: {
      prompt: (input) => userTurn(input.images ?? [], input.prompt ?? "What is this?"),
      postprocess: (text) => ({ text: text.trim().toUpperCase() + "!".repeat(o.times) }),
    },
  };
}
