/**
 * `vlm inspect DIR [--variant V] [--dtype D] --json`: lists every ONNX session
 * of a model folder (inputs/outputs with dtypes and dims, opsets, operators,
 * bytes) and checks the ones the variant needs against its Plan, naming each
 * mismatch. Exit 1 when something does not match or is missing.
 *
 * @module
 */
import { join, relative } from "node:path";
import { inspectOnnx, type OnnxInterface } from "../../src/build/inspect_onnx.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { moduleContracts } from "../../src/runtime/module_contracts.ts";
import { layoutOf } from "../../src/families/registry.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import { contractProblems } from "../../src/runtime/session_contract.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { parseCommandArgs, parseDtype } from "./args.ts";
import { type Command, humanBytes, printJson } from "./command.ts";
import { loadVariant } from "./variant_source.ts";
import { foldTensors, groupName } from "./tensor_summary.ts";
import { UsageError } from "../../src/errors/usage_error.ts";
import { pickDtype } from "../../src/runtime/dtype_detection.ts";

const usage = `Usage: vlm inspect DIR [--variant V] [--dtype D] [--json]

Lists every .onnx file under DIR with its inputs and outputs (element types
and dims), opsets, operator counts and stored bytes, then checks the files the
variant needs against its Plan. Without --variant the spec comes from the
folder itself (vlmkit.json, or the Hugging Face config files).

Options:
  --variant V   preset name or spec .json to check against
  --dtype D     which files to check (fp32, fp16, int8, uint8, q8, q4, q4f16, bnb4;
                default: detected from the files present)
  --json        print {folder, variant, layout, dtypes, sessions, missing, mismatches}

Per-layer names of one type and shape are folded into one line, e.g.
past_key_values.{0..29}.{key,value} (--json lists every tensor).`;

async function onnxFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (entry.name.endsWith(".onnx")) found.push(relative(dir, full));
    }
  };
  try {
    await walk(dir);
  } catch (error) {
    throw new VlmError("usage", `cannot read ${dir}: ${(error as Error).message}`, {
      fix: "pass a model folder",
      cause: error,
    });
  }
  return found.sort();
}

export const inspectCommand: Command = {
  name: "inspect",
  summary: "list an ONNX folder's sessions and check them against a spec",
  usage,
  async run(args) {
    const parsed = parseCommandArgs("inspect", args, {
      variant: { type: "string" },
      dtype: { type: "string" },
    });
    const dir = parsed.positionals[0];
    if (!dir) throw new UsageError("vlm inspect: the folder is required", "run `vlm inspect DIR`");
    const dtype = parseDtype("inspect", parsed);
    const sessions: (OnnxInterface & { file: string })[] = [];
    for (const file of await onnxFiles(dir)) {
      sessions.push({ file, ...inspectOnnx(await Deno.readFile(join(dir, file))) });
    }
    let spec: VariantSpec;
    if (typeof parsed.values.variant === "string") {
      const base = loadVariant(parsed.values.variant);
      const detected = dtype ?? pickDtype(
        Object.fromEntries(Object.entries(base.artifacts.modules).map(([m, a]) => [m, a.file])),
        new Set(sessions.map((s) => s.file)),
        dir,
      );
      const modules = Object.fromEntries(
        Object.entries(base.artifacts.modules).map(([m, a]) => [m, { ...a, dtype: detected }]),
      );
      spec = { ...base, artifacts: { ...base.artifacts, modules } };
    } else {
      spec = (await describeModelFolder(openModelFolder(dir), { dtype })).spec;
    }
    const plan = resolve(spec);
    const decoderModule = layoutOf(plan.spec).roles.decoder;
    const decoderFile = plan.files.find((f) => f.module === decoderModule);
    const decoder = sessions.find((s) => s.file === decoderFile?.path);
    const cacheType = decoder?.inputs.find((t) => t.name === "past_key_values.0.key")?.type ??
      "float32";
    const contracts = moduleContracts(plan, cacheType);
    const missing: string[] = [];
    const mismatches: string[] = [];
    for (const planned of plan.files) {
      const session = sessions.find((s) => s.file === planned.path);
      if (!session) {
        missing.push(planned.path);
        continue;
      }
      const want = contracts[planned.module];
      mismatches.push(
        ...contractProblems(planned.path, "input", session.inputs, want.inputs),
        ...contractProblems(planned.path, "output", session.outputs, want.outputs),
      );
    }
    const report = {
      folder: dir,
      variant: spec.name,
      layout: spec.artifacts.layout,
      dtypes: Object.fromEntries(
        Object.entries(spec.artifacts.modules).map(([m, a]) => [m, a.dtype]),
      ),
      sessions,
      missing,
      mismatches,
    };
    if (parsed.values.json) printJson(report);
    else {
      const forms = [...new Set(Object.values(report.dtypes))].join("+");
      console.log(`${dir}: ${spec.name} (${spec.artifacts.layout}, ${forms})`);
      for (const s of sessions) {
        console.log(
          `  ${s.file}  ${humanBytes(s.inlineBytes + s.externalBytes)}  ${s.opsets.join(" ")}`,
        );
        for (const [label, tensors] of [["in ", s.inputs], ["out", s.outputs]] as const) {
          for (const g of foldTensors(tensors)) {
            console.log(`    ${label} ${groupName(g)} ${g.type} [${g.dims.join(", ")}]`);
          }
        }
      }
      for (const m of missing) console.log(`missing: ${m}`);
      for (const m of mismatches) console.log(`mismatch: ${m}`);
      if (missing.length === 0 && mismatches.length === 0) {
        console.log("all planned sessions match the spec");
      }
    }
    return missing.length === 0 && mismatches.length === 0 ? 0 : 1;
  },
};
