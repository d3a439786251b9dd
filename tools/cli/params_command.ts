/**
 * `vlm params --variant V [--json]`: parameter counts per module.
 *
 * @module
 */
import { resolve } from "../../src/spec/resolve.ts";
import { parseCommandArgs, requireString } from "./args.ts";
import { type Command, humanCount, printJson } from "./command.ts";
import { loadVariant } from "./variant_source.ts";

const usage = `Usage: vlm params --variant <spec.json|preset> [--json]

Counts parameters per module from the architecture formulas (checkpoint
tensors, unused ones included, so totals match the published sizes).

Options:
  --variant V   preset name or path to a spec .json file (required)
  --json        print {encoder, projector, decoder, total}`;

export const paramsCommand: Command = {
  name: "params",
  summary: "parameter counts per module and in total",
  usage,
  run(args) {
    const parsed = parseCommandArgs("params", args, { variant: { type: "string" } });
    const plan = resolve(loadVariant(requireString("params", parsed, "variant")));
    const { encoder, projector, decoder, total } = plan.params;
    if (parsed.values.json) {
      printJson({
        encoder: encoder.total,
        projector: projector.total,
        decoder: decoder.total,
        total,
      });
    } else {
      const rows: [string, number][] = [
        ["encoder", encoder.total],
        ["projector", projector.total],
        ["decoder", decoder.total],
        ["total", total],
      ];
      console.log(plan.spec.name);
      for (const [name, value] of rows) {
        console.log(`  ${name.padEnd(10)} ${String(value).padStart(14)}  ${humanCount(value)}`);
      }
    }
    return 0;
  },
};
