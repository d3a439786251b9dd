/**
 * `vlm plugin bundle PATH --out FILE`: bundles a task plugin (and what it
 * imports: `vlmkit/plugin`, the parts of zod it uses) into one ESM file that
 * `vlm task --plugin`, `vlm serve --plugin` or an edge function imports.
 *
 * @module
 */
import { UsageError } from "../../src/errors/usage_error.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { bundleModule } from "./esbuild_bundle.ts";

const usage = `Usage: vlm plugin bundle PATH --out FILE [--json]

Bundles the plugin module at PATH with esbuild into one self-contained ES module.
Imports resolve as Deno resolves them for PATH: through the deno.json next to it
(or above), e.g. "vlmkit/plugin" mapped to the package; npm code is inlined, and
\`z\` from vlmkit/plugin is trimmed to the parts of zod the plugin uses.

Use the bundle with vlm task --plugin FILE NAME, vlm serve --plugin FILE, or in code:

  import { choice } from "./choice.js";
  const model = await loadModel(url, { plugins: [choice({ choices: ["yes", "no"] })] });

Options:
  --out FILE   the bundle to write (atomically)
  --json       print {entry, out, bytes, inputs} (inputs: the files inlined)`;

export const pluginCommand: Command = {
  name: "plugin",
  summary: "bundle a task plugin into one ESM file (vlm plugin bundle PATH --out FILE)",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("plugin", args, { out: { type: "string" } });
    const [action, entry] = parsed.positionals;
    if (action !== "bundle" || !entry) {
      throw new UsageError(
        "vlm plugin: expected `bundle PATH --out FILE`",
        "run `vlm plugin --help`",
      );
    }
    const out = requireString("plugin", parsed, "out");
    const { bytes, inputs } = await bundleModule(entry, out);
    if (parsed.values.json) printJson({ entry, out, bytes, inputs });
    else console.log(`${entry} → ${out} (${humanBytes(bytes)}, ${inputs.length} files inlined)`);
    return 0;
  },
};
