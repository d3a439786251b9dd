/**
 * `synthesize`: a variant spec → the files of a runnable model folder with
 * seeded weights, in a family's published layout such as hf-idefics3 (what
 * transformers.js and the runtime load) or the modular layout (separate encoder/projector/embed/decoder
 * files described by `vlmkit.json`). Pure: returns bytes; writing them is the
 * caller's job.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { modularLayout } from "../families/modular_layout.ts";
import { layoutNamed, layoutOf } from "../families/registry.ts";
import type { Plan } from "../spec/plan.ts";
import { resolve } from "../spec/resolve.ts";
import type { ArtifactLayout, VariantSpec } from "../spec/types.ts";
import { chatTemplateFor } from "./chat_templates.ts";
import { hfConfigFiles } from "./hf_config_files.ts";
import type { WeightFormat } from "./layers/ops.ts";
import { MODULAR_MANIFEST, type ModularManifest } from "./modular_manifest.ts";
import {
  type BuildSettings,
  encoderGraph,
  hfVisionEncoderGraph,
  languageGraphs,
  type ModuleGraph,
  projectorGraph,
} from "./module_graphs.ts";
import { float16Form } from "./float16_form.ts";
import { initializerBytes, INLINE_WEIGHT_LIMIT, serializeModel } from "./onnx_file.ts";
import type { WeightMap } from "./seeded_weights.ts";
import { type BuildScale, scaledSpec } from "./test_scale.ts";
import type { WeightSources } from "./weight_source.ts";
import { tokenizerJson } from "./synthetic_tokenizer.ts";

/** Options of {@linkcode synthesize}. */
export interface SynthesizeOptions {
  /** Weight seed (default 0). */
  seed?: number;
  /** Storage of matmul weights (default fp32). */
  dtype?: WeightFormat;
  /** Folder layout (default: the spec's own). */
  layout?: ArtifactLayout;
  /** `test` builds the reduced-depth variant (default `full`). */
  scale?: BuildScale;
  /**
   * Weights in `<file>.onnx_data` beside each graph: `auto` (default) only
   * when a graph's weights exceed protobuf's 2 GiB limit, `always`, or `never`.
   */
  externalData?: "auto" | "always" | "never";
  /**
   * Where each module's weights come from (default: seeded from `seed`);
   * `vlm convert` passes a checkpoint's.
   */
  sources?: WeightSources;
  /**
   * Called as the build advances (synchronously, between modules), so a
   * caller can show progress on a large model.
   */
  onProgress?: (progress: SynthesisProgress) => void;
}

/** One step of {@linkcode synthesize}. */
export interface SynthesisProgress {
  /** `build`: a module's graph and weights are about to be made; `write`: its file was encoded. */
  stage: "build" | "write";
  /** The module (or modules built together, joined by `+`). */
  module: string;
  /** 1-based position of this step within its stage. */
  index: number;
  /** Steps in this stage. */
  total: number;
  /** Tensors stored so far in this stage (weights and constants). */
  tensors: number;
}

/** One file of the folder. */
export interface SynthesizedFile {
  /** Path inside the folder (`/`-separated). */
  path: string;
  /** Contents. */
  bytes: Uint8Array;
}

/** What {@linkcode synthesize} produced. */
export interface Synthesis {
  /** The spec the folder implements (scaled, with this layout and dtype). */
  spec: VariantSpec;
  /** Its plan. */
  plan: Plan;
  /** Every file, configs and ONNX. */
  files: SynthesizedFile[];
  /** Float weights per module (before quantization), for numerical checks. */
  weights: Record<string, WeightMap>;
  /** Parameters stored per module file (a tied head counts again in the decoder). */
  parameters: Record<string, number>;
}

/** The spec with the requested layout and one dtype for every module. */
function specForBuild(spec: VariantSpec, layout: ArtifactLayout, dtype: WeightFormat): VariantSpec {
  const target = layoutNamed(layout);
  if (target.projectorKinds !== null && !target.projectorKinds.includes(spec.projector.kind)) {
    throw new VlmError(
      "usage",
      `${spec.name} has a ${spec.projector.kind} projector; the ${layout} layout only ${
        target.roles.projector === null ? "fuses" : "holds"
      } ${target.projectorKinds.join(" or ")} ${
        target.roles.projector === null ? "connectors" : "projectors"
      }`,
      { fix: `use --layout ${modularLayout.cliName}` },
    );
  }
  const modules = Object.fromEntries(
    Object.entries(target.files).map(([module, file]) => [module, { file, dtype }]),
  );
  return { ...spec, artifacts: { ...spec.artifacts, layout, modules } };
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
}

/** The module graphs of the plan's layout, keyed by module name. */
function moduleGraphs(
  plan: Plan,
  settings: BuildSettings,
  onProgress?: (progress: SynthesisProgress) => void,
): Record<string, ModuleGraph> {
  const roles = layoutOf(plan.spec).roles;
  // One builder per step; embed and decoder share a weight stream, so they are one step.
  const steps: [string, () => Record<string, ModuleGraph>][] = roles.projector === null
    // A layout without a projector module fuses the connector into its vision module.
    ? [[roles.vision, () => ({ [roles.vision]: hfVisionEncoderGraph(plan, settings) })]]
    : [
      [roles.vision, () => ({ [roles.vision]: encoderGraph(plan, settings) })],
      [roles.projector, () => ({ [roles.projector!]: projectorGraph(plan, settings) })],
    ];
  steps.push([`${roles.embed}+${roles.decoder}`, () => {
    const language = languageGraphs(plan, settings, roles.decoder);
    return { [roles.embed]: language.embed, [roles.decoder]: language.decoder };
  }]);
  const graphs: Record<string, ModuleGraph> = {};
  let tensors = 0;
  steps.forEach(([module, build], i) => {
    onProgress?.({ stage: "build", module, index: i + 1, total: steps.length, tensors });
    for (const [name, graph] of Object.entries(build())) {
      graphs[name] = graph;
      tensors += graph.graph.initializers.size;
    }
  });
  return graphs;
}

/** Builds every file of a synthesized model folder for `spec`. */
export function synthesize(spec: VariantSpec, options: SynthesizeOptions = {}): Synthesis {
  const seed = options.seed ?? 0;
  const dtype = options.dtype ?? "fp32";
  const layout = options.layout ?? spec.artifacts.layout;
  const built = specForBuild(scaledSpec(spec, options.scale ?? "full"), layout, dtype);
  const plan = resolve(built);
  const graphs = moduleGraphs(
    plan,
    { seed, format: dtype, sources: options.sources },
    options.onProgress,
  );
  const files: SynthesizedFile[] = [];
  const weights: Record<string, WeightMap> = {};
  const parameters: Record<string, number> = {};
  const models = plan.files.map((planned) => {
    const { graph } = graphs[planned.module];
    const model = graph.toModel({
      "vlmkit.variant": built.name,
      "vlmkit.seed": String(seed),
      "vlmkit.dtype": dtype,
      "vlmkit.parameters": String(graph.parameters),
    });
    return dtype === "fp16" || dtype === "q4f16" ? float16Form(model) : model;
  });
  // One choice for the whole folder: transformers.js's switch is per model, not per file.
  const mode = options.externalData ?? "auto";
  const external = mode === "always" ||
    (mode === "auto" && models.some((model) => initializerBytes(model) > INLINE_WEIGHT_LIMIT));
  let written = 0;
  plan.files.forEach((planned, index) => {
    const fileName = planned.path.split("/").pop()!;
    const serialized = serializeModel(models[index], external ? `${fileName}_data` : undefined);
    written += models[index].graph?.initializer?.length ?? 0;
    options.onProgress?.({
      stage: "write",
      module: planned.module,
      index: index + 1,
      total: plan.files.length,
      tensors: written,
    });
    files.push({ path: planned.path, bytes: serialized.model });
    if (serialized.data) files.push({ path: `${planned.path}_data`, bytes: serialized.data });
    weights[planned.module] = graphs[planned.module].weights;
    parameters[planned.module] = graphs[planned.module].graph.parameters;
  });
  if (layout !== modularLayout.name) {
    for (const [path, value] of Object.entries(hfConfigFiles(plan, external))) {
      files.push({ path, bytes: json(value) });
    }
  } else {
    const manifest: ModularManifest = {
      format: MODULAR_MANIFEST,
      version: 1,
      spec: built,
      build: { seed, dtype, scale: options.scale ?? "full" },
    };
    files.push({ path: "vlmkit.json", bytes: json(manifest) });
    files.push({ path: "tokenizer.json", bytes: json(tokenizerJson(built)) });
    files.push({
      path: "chat_template.json",
      bytes: json({ chat_template: chatTemplateFor(built.tokens) }),
    });
  }
  return { spec: built, plan, files, weights, parameters };
}
