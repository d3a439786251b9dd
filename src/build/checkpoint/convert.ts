/**
 * `convertCheckpoint`: a variant spec plus each part's origin (checkpoint or
 * seed) → the files of a runnable model folder. It is `synthesize` with
 * checkpoint-backed weight sources, so converted folders get exactly the
 * graphs (and every optimisation) of seeded ones. `convertCheckpointToFolder`
 * streams: one tensor at a time from the checkpoint to the data file.
 *
 * @module
 */
import { familyOf } from "../../families/registry.ts";
import type { ArtifactLayout, VariantSpec } from "../../spec/types.ts";
import type { WeightFormat } from "../layers/ops.ts";
import {
  type FolderSink,
  type StreamedSynthesis,
  type Synthesis,
  synthesize,
  synthesizeToFolder,
} from "../synthesize.ts";
import { CheckpointSources, type ModelPart, type PartOrigin } from "./checkpoint_weights.ts";

/** Options of {@linkcode convertCheckpoint}. */
export interface ConvertOptions {
  /** Each part's origin. */
  origins: Readonly<Record<ModelPart, PartOrigin>>;
  /** Storage of matmul weights (default fp32). */
  dtype?: WeightFormat;
  /** Folder layout (default: the spec's own). */
  layout?: ArtifactLayout;
  /** Called after each tensor read. */
  onTensor?: (read: number, total: number, name: string) => void;
}

/** What {@linkcode convertCheckpoint} produced. */
export interface Conversion extends Synthesis {
  /** Tensors read from checkpoints. */
  tensorsRead: number;
}

/**
 * Builds `spec`'s folder from checkpoints. Throws one `model_mismatch` error
 * listing every missing tensor and wrong shape.
 */
export function convertCheckpoint(spec: VariantSpec, options: ConvertOptions): Conversion {
  const sources = new CheckpointSources({
    names: familyOf(spec).checkpoint,
    projector: spec.projector.kind,
    origins: options.origins,
    onTensor: options.onTensor,
  });
  const synthesis = synthesize(spec, {
    dtype: options.dtype,
    layout: options.layout,
    sources: sources.sources,
  });
  sources.check();
  return { ...synthesis, tensorsRead: sources.read };
}

/** What {@linkcode convertCheckpointToFolder} wrote. */
export interface StreamedConversion extends StreamedSynthesis {
  /** Tensors read from checkpoints. */
  tensorsRead: number;
}

/**
 * Builds `spec`'s folder from checkpoints into `folder`, streaming: each
 * tensor is read, converted, appended to its module's external data and
 * dropped, so peak memory is about the largest tensor plus what is being
 * written, not the model. The folder always uses external data. Throws one
 * `model_mismatch` error listing every missing tensor and wrong shape (after
 * writing: the caller discards the folder).
 */
export function convertCheckpointToFolder(
  spec: VariantSpec,
  folder: FolderSink,
  options: ConvertOptions,
): StreamedConversion {
  const sources = new CheckpointSources({
    names: familyOf(spec).checkpoint,
    projector: spec.projector.kind,
    origins: options.origins,
    onTensor: options.onTensor,
    retain: false,
  });
  const synthesis = synthesizeToFolder(spec, folder, {
    dtype: options.dtype,
    layout: options.layout,
    sources: sources.sources,
  });
  sources.check();
  return { ...synthesis, tensorsRead: sources.read };
}
