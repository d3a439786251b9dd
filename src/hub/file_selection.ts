/**
 * Which files of a repo a pull downloads: the configs `loadModel` reads and,
 * per module, the one ONNX file of the requested dtype (plus its external
 * weights). Hub repos carry every dtype side by side, so downloading the whole
 * repo would fetch several copies of the weights.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { DtypeChoice } from "../runtime/model_spec.ts";
import { DTYPE_SUFFIX, resolve } from "../spec/resolve.ts";
import { completeDtypes } from "../runtime/dtype_detection.ts";
import { LAYOUTS } from "../families/registry.ts";
import { MODULAR_MANIFEST_FILE, modularLayout } from "../families/modular_layout.ts";
import type { ModuleLayout } from "../families/types.ts";
import type { Dtype, VariantSpec } from "../spec/types.ts";
import { HubError } from "./hub_error.ts";
import type { RepoFile } from "./listing.ts";

/** The manifest that marks a modular folder (same as the runtime's). */
export const MANIFEST_FILE: string = MODULAR_MANIFEST_FILE;

/** Config files pulled when the repo has them. */
export const CONFIG_FILES: readonly string[] = [
  "config.json",
  "preprocessor_config.json",
  "processor_config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "chat_template.json",
  "special_tokens_map.json",
  MANIFEST_FILE,
];

/** Where each module's ONNX file lives, without the dtype suffix. */
type ModuleFiles = Record<string, { file: string; dtype: Dtype }>;

/** Whether a listing is a modular folder, whose module files are named in its manifest. */
export function isModular(files: readonly RepoFile[]): boolean {
  return files.some((file) => file.path === MANIFEST_FILE);
}

/** The published (family) layout whose module files the listing has; the first one if none fits. */
function publishedLayout(byPath: Map<string, RepoFile>): ModuleLayout {
  const published = LAYOUTS.filter((layout) => layout !== modularLayout);
  const complete = published.find((layout) =>
    Object.values(layout.files).every((base) => availableDtypes(byPath, base).length > 0)
  );
  return complete ?? published[0];
}

/**
 * A published layout's module files in the form `loadModel` would detect: the
 * first complete one in `DTYPE_PREFERENCE` (fp32 when the repo has it), else fp32.
 */
function publishedModules(layout: ModuleLayout, byPath: Map<string, RepoFile>): ModuleFiles {
  const bases = Object.fromEntries(layout.modules.map((m) => [m, layout.files[m]]));
  const dtype = completeDtypes(bases, new Set(byPath.keys()))[0] ?? "fp32";
  return Object.fromEntries(
    layout.modules.map((module) => [module, { file: layout.files[module], dtype }]),
  );
}

/** The module files of a modular manifest, validated as the runtime will. */
function manifestModules(manifest: unknown): ModuleFiles {
  const spec = (manifest as { spec?: VariantSpec } | undefined)?.spec;
  if (typeof spec !== "object" || spec === null) {
    throw new HubError("incomplete_repo", `${MANIFEST_FILE} has no variant spec`, {
      fix: "re-create the folder with `vlm synth --layout modular` and upload it again",
    });
  }
  return { ...resolve(spec).spec.artifacts.modules };
}

/** The dtype of every module: the choice, else the module's default. */
function applyDtypes(modules: ModuleFiles, choice: DtypeChoice | undefined): ModuleFiles {
  const check = (dtype: string, where: string): Dtype => {
    if (!(dtype in DTYPE_SUFFIX)) {
      throw new VlmError("input_invalid", `unknown dtype "${dtype}"${where}`, {
        fix: `use one of ${Object.keys(DTYPE_SUFFIX).join(", ")}`,
      });
    }
    return dtype as Dtype;
  };
  if (typeof choice === "object") {
    for (const module of Object.keys(choice)) {
      if (!(module in modules)) {
        throw new VlmError("input_invalid", `this repo has no module "${module}"`, {
          fix: `set dtypes for ${Object.keys(modules).join(", ")}`,
        });
      }
    }
  }
  return Object.fromEntries(
    Object.entries(modules).map(([module, { file, dtype }]) => {
      const chosen = typeof choice === "string"
        ? check(choice, "")
        : choice?.[module as keyof typeof choice] ?? dtype;
      return [module, { file, dtype: check(chosen, ` for ${module}`) }];
    }),
  );
}

/** The dtypes the listing has for a module file, for the error message. */
function availableDtypes(byPath: Map<string, RepoFile>, base: string): Dtype[] {
  return (Object.entries(DTYPE_SUFFIX) as [Dtype, string][])
    .filter(([, suffix]) => byPath.has(`${base}${suffix}.onnx`))
    .map(([dtype]) => dtype);
}

/**
 * The files to pull from `files` for `dtype`. `manifest` is the parsed
 * `vlmkit.json` of a modular repo (it names the module files and their
 * default dtypes); published (e.g. hf-idefics3) repos default to the form `loadModel`
 * detects (fp32 when present).
 */
export function selectFiles(
  files: readonly RepoFile[],
  dtype: DtypeChoice | undefined,
  manifest?: unknown,
): RepoFile[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const layout = isModular(files) ? modularLayout : publishedLayout(byPath);
  const missing = layout.requiredFiles.filter((path) => !byPath.has(path));
  if (missing.length > 0) {
    throw new HubError("incomplete_repo", `the repo has no ${missing.join(", ")}`, {
      fix: "pull a repo in the Hugging Face ONNX layout (config.json, onnx/, tokenizer.json) " +
        "or a modular vlmkit folder",
    });
  }
  const modules = applyDtypes(
    layout === modularLayout ? manifestModules(manifest) : publishedModules(layout, byPath),
    dtype,
  );
  const selected = CONFIG_FILES.flatMap((path) => byPath.get(path) ?? []);
  for (const [module, { file, dtype }] of Object.entries(modules)) {
    const path = `${file}${DTYPE_SUFFIX[dtype]}.onnx`;
    const onnx = byPath.get(path);
    if (!onnx) {
      const available = availableDtypes(byPath, file);
      throw new HubError("incomplete_repo", `the repo has no ${path} (${module} in ${dtype})`, {
        fix: available.length > 0
          ? `pick a dtype it has for ${module}: ${available.join(", ")}`
          : `the repo has no ONNX export of ${module}`,
      });
    }
    selected.push(onnx);
    const data = byPath.get(`${path}_data`);
    if (data) selected.push(data);
  }
  return selected;
}
