/**
 * `synthesize`: a variant spec → the files of a runnable model folder with
 * seeded weights, in a family's published layout such as hf-idefics3 (what
 * transformers.js and the runtime load) or the modular layout (separate encoder/projector/embed/decoder
 * files described by `vlmkit.json`). `synthesize` is pure and returns bytes;
 * `synthesizeToFolder` streams each tensor into a folder the caller provides.
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
import type { VisionAttention } from "./layers/vit_attention.ts";
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
import { withTensorSinks } from "./onnx_graph.ts";
import { type AppendFile, ExternalDataSink, type TensorSink } from "./tensor_sink.ts";
import type { WeightMap } from "./seeded_weights.ts";
import { type BuildScale, scaledSpec } from "./test_scale.ts";
import { seededSources, type WeightSources } from "./weight_source.ts";
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
   * The vision tower's attention: `fused` (default), one QKV matmul and ONNX
   * Runtime's MultiHeadAttention; `unfused`, the published exports' form.
   */
  visionAttention?: VisionAttention;
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
      tensors += graph.graph.tensorCount;
    }
  });
  return graphs;
}

/** The spec, plan and graphs of one build. */
function build(spec: VariantSpec, options: SynthesizeOptions, sources?: WeightSources) {
  const seed = options.seed ?? 0;
  const dtype = options.dtype ?? "fp32";
  const layout = options.layout ?? spec.artifacts.layout;
  const built = specForBuild(scaledSpec(spec, options.scale ?? "full"), layout, dtype);
  const plan = resolve(built);
  const graphs = moduleGraphs(
    plan,
    { seed, format: dtype, sources, visionAttention: options.visionAttention },
    options.onProgress,
  );
  return { seed, dtype, layout, built, plan, graphs };
}

/** The model of one module graph, with vlmkit's metadata (before any float16 form). */
function toModel(
  graph: ModuleGraph["graph"],
  built: VariantSpec,
  seed: number,
  dtype: WeightFormat,
) {
  return graph.toModel({
    "vlmkit.variant": built.name,
    "vlmkit.seed": String(seed),
    "vlmkit.dtype": dtype,
    "vlmkit.parameters": String(graph.parameters),
  });
}

function isFloat16Dtype(dtype: WeightFormat): boolean {
  return dtype === "fp16" || dtype === "q4f16";
}

/** The folder's non-ONNX files: hf configs, or the modular manifest, tokenizer and template. */
function folderFiles(
  built: VariantSpec,
  plan: Plan,
  options: SynthesizeOptions,
  external: boolean,
): SynthesizedFile[] {
  const files: SynthesizedFile[] = [];
  const layout = built.artifacts.layout;
  if (layout !== modularLayout.name) {
    for (const [path, value] of Object.entries(hfConfigFiles(plan, external))) {
      files.push({ path, bytes: json(value) });
    }
  } else {
    const manifest: ModularManifest = {
      format: MODULAR_MANIFEST,
      version: 1,
      spec: built,
      build: {
        seed: options.seed ?? 0,
        dtype: options.dtype ?? "fp32",
        scale: options.scale ?? "full",
      },
    };
    files.push({ path: "vlmkit.json", bytes: json(manifest) });
    files.push({ path: "tokenizer.json", bytes: json(tokenizerJson(built)) });
    files.push({
      path: "chat_template.json",
      bytes: json({ chat_template: chatTemplateFor(built.tokens) }),
    });
  }
  return files;
}

/** Builds every file of a synthesized model folder for `spec`. */
export function synthesize(spec: VariantSpec, options: SynthesizeOptions = {}): Synthesis {
  const { seed, dtype, built, plan, graphs } = build(spec, options, options.sources);
  const files: SynthesizedFile[] = [];
  const weights: Record<string, WeightMap> = {};
  const parameters: Record<string, number> = {};
  const models = plan.files.map((planned) => {
    const model = toModel(graphs[planned.module].graph, built, seed, dtype);
    return isFloat16Dtype(dtype) ? float16Form(model) : model;
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
  files.push(...folderFiles(built, plan, options, external));
  return { spec: built, plan, files, weights, parameters };
}

/** A folder that {@linkcode synthesizeToFolder} writes into (paths `/`-separated, relative). */
export interface FolderSink {
  /** Creates the empty file `path` (and its parent folders) for appending. */
  create(path: string): AppendFile;
  /** Writes `bytes` as the file `path` (creating parent folders). */
  write(path: string, bytes: Uint8Array): void;
  /** Renames file `from` to `to`. */
  rename(from: string, to: string): void;
}

/** One file {@linkcode synthesizeToFolder} wrote. */
export interface WrittenFile {
  /** Path inside the folder (`/`-separated). */
  path: string;
  /** Its size. */
  bytes: number;
}

/** What {@linkcode synthesizeToFolder} wrote. */
export interface StreamedSynthesis {
  /** The spec the folder implements (scaled, with this layout and dtype). */
  spec: VariantSpec;
  /** Its plan. */
  plan: Plan;
  /** Every file written, configs and ONNX. */
  files: WrittenFile[];
  /** Parameters stored per module file (a tied head counts again in the decoder). */
  parameters: Record<string, number>;
}

/**
 * Builds `spec`'s folder like {@linkcode synthesize}, but streams: every
 * tensor is appended to its module's `<file>.onnx_data` as soon as the
 * builder makes it, and dropped; each `.onnx` (the graph without weights) is
 * written at the end. Peak memory is the largest tensors in flight, not the
 * model. The folder always uses external data (`externalData` is ignored),
 * byte-identical to `synthesize(spec, { externalData: "always" })`. Weights
 * are not kept for numerical checks: `options.sources` (default: seeded,
 * not retained) should not retain them either.
 */
export function synthesizeToFolder(
  spec: VariantSpec,
  folder: FolderSink,
  options: SynthesizeOptions = {},
): StreamedSynthesis {
  const dtype = options.dtype ?? "fp32";
  // Data files get their final names once the plan says which graph is which file.
  const temporary = new Map<TensorSink, string>();
  const { seed, built, plan, graphs } = withTensorSinks((graphName) => {
    const path = `.${graphName}-${temporary.size}.onnx_data.partial`;
    const sink = new ExternalDataSink(folder.create(path), { float16: isFloat16Dtype(dtype) });
    temporary.set(sink, path);
    return sink;
  }, () => build(spec, options, options.sources ?? seededSources(options.seed ?? 0, false)));
  const files: WrittenFile[] = [];
  const parameters: Record<string, number> = {};
  let written = 0;
  plan.files.forEach((planned, index) => {
    const graph = graphs[planned.module].graph;
    const sink = graph.sink;
    const path = sink && temporary.get(sink);
    if (!(sink instanceof ExternalDataSink) || !path) {
      throw new Error(`${planned.module}: its graph was built without a data file`);
    }
    const fileName = planned.path.split("/").pop()!;
    sink.close(`${fileName}_data`);
    folder.rename(path, `${planned.path}_data`);
    const model = toModel(graph, built, seed, dtype);
    const encoded = serializeModel(
      isFloat16Dtype(dtype) ? float16Form(model, { converted: sink.converted }) : model,
    ).model;
    folder.write(planned.path, encoded);
    written += sink.count;
    options.onProgress?.({
      stage: "write",
      module: planned.module,
      index: index + 1,
      total: plan.files.length,
      tensors: written,
    });
    files.push({ path: planned.path, bytes: encoded.byteLength });
    files.push({ path: `${planned.path}_data`, bytes: sink.bytes });
    parameters[planned.module] = graph.parameters;
  });
  for (const file of folderFiles(built, plan, options, true)) {
    folder.write(file.path, file.bytes);
    files.push({ path: file.path, bytes: file.bytes.byteLength });
  }
  return { spec: built, plan, files, parameters };
}
