/**
 * What a model family is to vlmkit: its physical layouts (module files and
 * their I/O contracts), its Hugging Face config codec, its prompt format and
 * its checkpoint's parameter names. Every family-specific decision in the
 * runtime, the builder, the hub client and the token accounting asks a
 * {@linkcode ModelFamily} (through `registry.ts`) instead of comparing names.
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";
import type { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";
import type {
  ArtifactLayout,
  ChatTemplateId,
  Dtype,
  ProjectorSpec,
  TokensSpec,
  VariantSpec,
} from "../spec/types.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

/** One expected tensor: a fixed size, or `null` for a dynamic axis. */
export interface ExpectedTensor {
  /** Tensor name. */
  name: string;
  /** Allowed element types. */
  types: readonly string[];
  /** Expected dims; `null` = any (symbolic) size. */
  dims: readonly (number | null)[];
  /** Other shapes also accepted (e.g. a rank-3 form of a rank-2 output the runtime flattens). */
  alternatives?: readonly (readonly (number | null)[])[];
}

/** Expected inputs and outputs of one session. */
export interface ModuleContract {
  /** Inputs. */
  inputs: ExpectedTensor[];
  /** Outputs. */
  outputs: ExpectedTensor[];
}

/** Which module of a layout plays each pipeline part. */
export interface LayoutRoles {
  /** The session that turns pixels into features (fused with the projector when `projector` is null). */
  vision: string;
  /** The projector session, or `null` when the vision session already projects. */
  projector: string | null;
  /** The token-embedding session. */
  embed: string;
  /** The decoder session with the KV cache. */
  decoder: string;
}

/** A physical layout of a model folder: which ONNX modules it has and what they look like. */
export interface ModuleLayout {
  /** The spec's `artifacts.layout` value. */
  name: ArtifactLayout;
  /** The short name the CLI's `--layout` flag takes. */
  cliName: string;
  /** Module names, in load order. */
  modules: readonly string[];
  /** Default file base path (no dtype suffix, no `.onnx`) per module. */
  files: Readonly<Record<string, string>>;
  /** Which module plays which part of the pipeline. */
  roles: LayoutRoles;
  /** Files a repo in this layout must have besides the ONNX modules. */
  requiredFiles: readonly string[];
  /** Projector kinds the layout can hold, or `null` for any. */
  projectorKinds: readonly ProjectorSpec["kind"][] | null;
  /** I/O every module session must have for `plan`; `cacheType` is the decoder's cache element type. */
  contracts(plan: Plan, cacheType: string): Record<string, ModuleContract>;
}

/** The parsed JSON files of a Hugging Face model folder. */
export interface HfFiles {
  /** config.json */
  config: Record<string, unknown>;
  /** preprocessor_config.json */
  preprocessor: Record<string, unknown>;
  /** processor_config.json (may be empty) */
  processor: Record<string, unknown>;
  /** generation_config.json (may be empty) */
  generation: Record<string, unknown>;
}

/** One key of a Hugging Face config file, e.g. `config.json` `text_config.hidden_size`. */
export interface ConfigKey {
  /** File name inside the model folder. */
  file: string;
  /** Dotted key path inside that file. */
  key: string;
}

/**
 * Reads and writes the Hugging Face config files of a family's published
 * layout. `read` returns the spec unvalidated, so the caller can report
 * validation issues in terms of the files (see {@linkcode HfConfigCodec.sources}).
 */
export interface HfConfigCodec {
  /** The layout a folder with these configs has. */
  layout: ArtifactLayout;
  /** Whether a config.json belongs to this family (by `model_type`). */
  accepts(config: Record<string, unknown>): boolean;
  /** The spec the files describe, not yet validated; `dtypes` picks each module's file. */
  read(
    files: HfFiles,
    tokenizer: TextTokenizer,
    name: string,
    dtypes: Readonly<Record<string, Dtype>>,
  ): unknown;
  /** Checks between files the spec alone cannot see (throws `VlmError`). */
  check(files: HfFiles, plan: Plan): void;
  /** The config files (not the tokenizer files) that describe `plan`, by file name. */
  write(plan: Plan, externalData: boolean): Record<string, unknown>;
  /** For each spec field path, the config keys it is read from (for error messages). */
  sources: Readonly<Record<string, readonly ConfigKey[]>>;
}

/** A single user turn: expanded image blocks and the question. */
export interface UserTurn {
  /** One expanded prompt string per image, in order. */
  imageBlocks: readonly string[];
  /** The question text (may be empty). */
  text: string;
}

/** Rows and columns of one image's tile grid (0×0 = one unsplit tile). */
export interface TileGrid {
  /** Tile rows. */
  rows: number;
  /** Tile columns. */
  cols: number;
  /** Tiles fed to the encoder (grid + global image). */
  tiles: number;
}

/** A prompt with its images spliced in. */
export interface SplicedPrompt {
  /** The prompt text after image expansion (the rendered text when ids carry the images). */
  text: string;
  /** Token ids, with one image id per feature row. */
  ids: number[];
}

/** How a family lays out a conversation and splices image features into it. */
export interface PromptFormat {
  /** Images one conversation may hold, or `null` for no limit. */
  maxImages: number | null;
  /** Whether the tokenizer adds the BOS id (rather than the template writing it as text). */
  tokenizerAddsBos(tokens: TokensSpec): boolean;
  /** Whether the image placeholder is a vocabulary token (its id must lie in the vocabulary). */
  placeholderInVocabulary: boolean;
  /** One user turn plus the generation prompt, as the model's template renders it. */
  renderUserTurn(turn: UserTurn, tokens: TokensSpec): string;
  /** The text that stands for one image in the rendered prompt. */
  imageBlock(grid: TileGrid, tokensPerTile: number, tokens: TokensSpec): string;
  /** Feature rows each image placeholder of {@linkcode PromptFormat.imageBlock} receives. */
  featureRowsPerPlaceholder(tokensPerTile: number): number;
  /** Replaces the k-th placeholder of `rendered` with the k-th image and tokenizes. */
  splice(
    rendered: string,
    tokenizer: TextTokenizer,
    grids: readonly TileGrid[],
    tokensPerTile: number,
    tokens: TokensSpec,
  ): SplicedPrompt;
  /** The Jinja chat template written into built folders. */
  chatTemplate(tokens: TokensSpec): string;
  /** Token names the synthetic tokenizer gives unnamed ids 0 (unk) and pad. */
  fillerTokens: { unknown: string; pad: string };
  /** Spec issues specific to the family's prompt format. */
  tokenIssues(spec: VariantSpec): SpecIssue[];
}

/**
 * Parameter names of one module in the family's Hugging Face (PyTorch)
 * checkpoint. `{i}` stands for the layer index. `verified` is false for names
 * taken from convention rather than read from a published checkpoint.
 */
export interface CheckpointModule {
  /** Prefix every parameter of the module starts with. */
  prefix: string;
  /** Full parameter names, `{i}` = layer index. */
  parameters: readonly string[];
  /** Whether the names were read from a published checkpoint or its loading code. */
  verified: boolean;
  /** Where the names come from, or why they are uncertain. */
  note: string;
  /**
   * Builder weight name (module-local, see `src/build/layers/`) → checkpoint
   * parameter name, `{i}` = layer index in both; what `vlm convert` reads.
   * Matrices are transposed from torch's `[out, in]`; other tensors keep
   * torch's layout, which is the builder's.
   */
  builderNames?: Readonly<Record<string, string>>;
}

/** Checkpoint parameter names per module (vision, projector, text, head). */
export interface CheckpointNames {
  /** Vision tower. */
  vision: CheckpointModule;
  /** Projector (connector), keyed by projector kind. */
  projector: Readonly<Partial<Record<ProjectorSpec["kind"], CheckpointModule>>>;
  /** Language model without the head. */
  text: CheckpointModule;
  /** LM head (absent from the checkpoint when tied to the embeddings). */
  head: CheckpointModule;
}

/** The parsed config.json of one checkpoint folder (and its preprocessor_config.json). */
export interface CheckpointConfig {
  /** The folder, as errors name it. */
  folder: string;
  /** Its config.json. */
  config: Record<string, unknown>;
  /** Its preprocessor_config.json, when it has one. */
  preprocessor?: Record<string, unknown>;
}

/** The configs of the checkpoints one conversion reads. */
export interface CheckpointConfigs {
  /** `--from` (the checkpoint that carries the decoder). */
  main: CheckpointConfig;
  /** `--encoder-from`, when the vision tower comes from another checkpoint folder. */
  encoder?: CheckpointConfig;
}

/**
 * Reads a family's training checkpoint configs into a variant spec, for
 * families whose checkpoints are not a published ONNX layout (their configs
 * may span several checkpoints, e.g. MobileVLM's and its CLIP tower's).
 */
export interface CheckpointConfigCodec {
  /** Whether `--from`'s config.json belongs to this family. */
  accepts(config: Record<string, unknown>): boolean;
  /**
   * The spec the configs describe, not yet validated (the caller validates, so
   * families need not import the validator); a `VlmError` naming the folders
   * and keys when the configs disagree with each other.
   */
  read(configs: CheckpointConfigs): unknown;
  /** The error for validation `issues` of what `read` returned, naming the config keys behind them. */
  explain(issues: readonly SpecIssue[], configs: CheckpointConfigs): VlmError;
}

/** One model family: everything vlmkit knows that differs between families. */
export interface ModelFamily {
  /** Registry key, e.g. `idefics3`. */
  id: string;
  /** The models it covers. */
  description: string;
  /** The spec `tokens.chatTemplate` values that mark a spec as this family's. */
  chatTemplates: readonly ChatTemplateId[];
  /** Layouts only this family uses (the shared modular layout is not listed). */
  layouts: readonly ModuleLayout[];
  /** Its Hugging Face config codec, or `null` when vlmkit reads no published folder of it. */
  hfConfig: HfConfigCodec | null;
  /** Its conversation format and image splicing. */
  prompt: PromptFormat;
  /** Its checkpoint's parameter names. */
  checkpoint: CheckpointNames;
  /** Its checkpoint config codec, when checkpoints are not read through `hfConfig`. */
  checkpointConfig?: CheckpointConfigCodec;
}
