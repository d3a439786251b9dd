/**
 * `vlm validate <spec.json|preset>`: schema and cross-field checks. Exit 0 when
 * valid, 1 with every issue listed when not.
 *
 * @module
 */
import { validateSpec } from "../../src/spec/validate.ts";
import { presetNames } from "../../variants/mod.ts";
import { smolvlmPaperGrid } from "../../variants/smolvlm_paper_grid.ts";
import { parseCommandArgs } from "./args.ts";
import { type Command, printJson } from "./command.ts";
import { readVariantJson } from "./variant_source.ts";
import { UsageError } from "../../src/errors/usage_error.ts";

const usage = `Usage: vlm validate <spec.json|preset> [--json]
       vlm validate --list [--json]

Checks a variant spec: every field present and in range, and the cross-field
rules (shuffle ratio divides the patch grid, heads divisible by KV heads,
hidden = heads·headDim, tile ≤ longest edge, context holds one full image, ...).
Exits 0 when valid, 1 when not (each issue names the field and the fix).

Options:
  --list   list the built-in presets and the design-grid members (invalid ones with the reason)
  --json   print {valid, name, issues:[{path, message, fix}]}`;

export const validateCommand: Command = {
  name: "validate",
  summary: "check a spec file or preset; exit 1 with the issues if invalid",
  usage,
  run(args) {
    const parsed = parseCommandArgs("validate", args, { list: { type: "boolean" } });
    if (parsed.values.list) {
      const grid = smolvlmPaperGrid();
      if (parsed.values.json) {
        printJson({ presets: presetNames(), invalidGridPoints: grid.invalid });
      } else {
        console.log(presetNames().join("\n"));
        console.log("\ninvalid design-grid points:");
        for (const point of grid.invalid) console.log(`  ${point.name}: ${point.reason}`);
      }
      return 0;
    }
    if (parsed.positionals.length !== 1) {
      throw new UsageError(
        `vlm validate: expected one spec file or preset, got ${parsed.positionals.length}`,
        "run `vlm validate --help`",
      );
    }
    const source = parsed.positionals[0];
    const result = validateSpec(readVariantJson(source));
    if (parsed.values.json) {
      printJson({ valid: result.valid, name: source, issues: result.issues });
    } else if (result.valid) {
      console.log(`${source}: valid`);
    } else {
      console.log(`${source}: ${result.issues.length} issue(s)`);
      for (const issue of result.issues) {
        console.log(`  ${issue.path || "(root)"}: ${issue.message}`);
        if (issue.fix) console.log(`    fix: ${issue.fix}`);
      }
    }
    return result.valid ? 0 : 1;
  },
};
