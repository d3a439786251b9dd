/**
 * Weight sources that read a checkpoint through a family's name map
 * (`CheckpointModule.builderNames`). Each part of the model (vision tower,
 * projector, text model, head) has its own origin: a checkpoint (with a name
 * prefix, for a model nested in a bigger one) or a seed, so a variant may be
 * composed from several checkpoints. Tensors are read when the builder asks
 * for them, one at a time; every missing tensor and wrong shape is collected
 * and reported together by {@linkcode CheckpointSources.check}.
 *
 * @module
 */
import type { VlmIssue } from "../../errors/issue.ts";
import { VlmError } from "../../errors/vlm_error.ts";
import type { CheckpointModule, CheckpointNames } from "../../families/types.ts";
import type { ProjectorSpec } from "../../spec/types.ts";
import { WeightFactory, type WeightMap, type WeightTensor } from "../seeded_weights.ts";
import type { WeightSource, WeightSources } from "../weight_source.ts";
import type { Checkpoint } from "./checkpoint.ts";

/** A part of the model with its own origin. */
export type ModelPart = "vision" | "projector" | "text" | "head";

/** Where one part's weights come from. */
export type PartOrigin =
  | { kind: "checkpoint"; checkpoint: Checkpoint; prefix: string }
  | { kind: "seed"; seed: number };

/** The parts each builder module namespace holds (hf layouts fuse the connector into `encoder`). */
const PARTS_OF: Readonly<Record<string, readonly ModelPart[]>> = {
  encoder: ["vision", "projector"],
  projector: ["projector"],
  decoder: ["text", "head"],
};

interface NamePattern {
  builder: RegExp;
  checkpoint: string;
}

function compile(map: Readonly<Record<string, string>>): NamePattern[] {
  return Object.entries(map).map(([builder, checkpoint]) => ({
    builder: new RegExp(`^${builder.replace(/[.]/g, "\\.").replace("{i}", "(\\d+)")}$`),
    checkpoint,
  }));
}

/** `[out, in]` (torch Linear) → `[in, out]` (the builder's matrices). */
export function transposeMatrix(tensor: WeightTensor): WeightTensor {
  const [rows, cols] = tensor.dims;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) data[c * rows + r] = tensor.data[row + c];
  }
  return { dims: [cols, rows], data };
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Options of {@linkcode CheckpointSources}. */
export interface CheckpointSourcesOptions {
  /** The family's checkpoint names. */
  names: CheckpointNames;
  /** The spec's projector kind (picks the projector's names). */
  projector: ProjectorSpec["kind"];
  /** Each part's origin. */
  origins: Readonly<Record<ModelPart, PartOrigin>>;
  /** Called after each tensor read from a checkpoint (k of about n). */
  onTensor?: (read: number, total: number, name: string) => void;
  /**
   * Keep every tensor handed out in the sources' `weights` (default true);
   * a streaming conversion passes false so each is dropped once written.
   */
  retain?: boolean;
}

/** Checkpoint-backed weight sources for one build, and the problems found. */
export class CheckpointSources {
  /** Every missing tensor and wrong shape, in the order the builder asked. */
  readonly issues: VlmIssue[] = [];
  /** Tensors read so far. */
  read = 0;
  /** The checkpoint tensors the name map covers (the progress total). */
  readonly total: number;
  readonly #patterns: Record<ModelPart, NamePattern[]>;

  /** Maps each part's names; refuses a part the family has no builder names for. */
  constructor(readonly options: CheckpointSourcesOptions) {
    const modules: Record<ModelPart, CheckpointModule | undefined> = {
      vision: options.names.vision,
      projector: options.names.projector[options.projector],
      text: options.names.text,
      head: options.names.head,
    };
    const patterns = {} as Record<ModelPart, NamePattern[]>;
    let total = 0;
    for (const [part, module] of Object.entries(modules) as [ModelPart, CheckpointModule][]) {
      const origin = options.origins[part];
      // Seeded parts keep their patterns too, so a name is routed to its own part.
      patterns[part] = module?.builderNames ? compile(module.builderNames) : [];
      if (origin.kind === "seed") continue;
      if (!module?.builderNames) {
        throw new VlmError(
          "usage",
          `the family has no checkpoint names for its ${part} part (${options.projector} projector)`,
          {
            fix: `seed that part instead (e.g. --${
              part === "projector" ? "projector" : part
            }-from seed:0)`,
          },
        );
      }
      const targets = Object.values(module.builderNames).map((name) =>
        new RegExp(`^${(origin.prefix + name).replace(/[.]/g, "\\.").replace("{i}", "\\d+")}$`)
      );
      total += origin.checkpoint.names().filter((n) => targets.some((t) => t.test(n))).length;
    }
    this.#patterns = patterns;
    this.total = total;
  }

  /** The source of each builder module namespace. */
  get sources(): WeightSources {
    return (module) => new PartWeights(this, module, this.#patterns);
  }

  /** Throws one `model_mismatch` error listing every issue, if any. */
  check(): void {
    if (this.issues.length === 0) return;
    throw VlmError.fromIssues(
      "model_mismatch",
      "the checkpoint does not fit the variant",
      this.issues,
    );
  }

  /** @internal Reads `name` for builder weight `builder` of `module`, checking its shape. */
  take(
    part: ModelPart,
    checkpointName: string,
    builder: string,
    expected: number[],
    matrix: boolean,
  ): WeightTensor {
    const origin = this.options.origins[part] as Extract<PartOrigin, { kind: "checkpoint" }>;
    const name = origin.prefix + checkpointName;
    const found = origin.checkpoint.entry(name);
    const stored = matrix ? [expected[1], expected[0]] : expected;
    const fix = "convert with the --variant or config.json that matches the checkpoint, " +
      "or take this part from another checkpoint or seed (--encoder-from, --projector-from, --decoder-from)";
    if (!found) {
      this.issues.push({
        path: name,
        message:
          `missing from ${origin.checkpoint.location} (builder weight ${builder}); expected shape [${
            stored.join(", ")
          }]`,
        fix: origin.prefix === "" ? fix : `check --prefix ${origin.prefix}; ${fix}`,
      });
      return { dims: expected, data: new Float32Array(expected.reduce((a, b) => a * b, 1)) };
    }
    // A 1×1 Conv2d ([out, in, 1, 1]) is a Linear: MobileNet-style projectors store them so.
    const conv1x1 = matrix && same(found?.entry.shape ?? [], [...stored, 1, 1]);
    if (found && !conv1x1 && !same(found.entry.shape, stored)) {
      this.issues.push({
        path: name,
        message: `in ${found.file}: expected shape [${stored.join(", ")}], found [${
          found.entry.shape.join(", ")
        }]`,
        fix,
      });
      return { dims: expected, data: new Float32Array(expected.reduce((a, b) => a * b, 1)) };
    }
    // Matrices (and 1×1 convs, [out, in, 1, 1]) are transposed while they are read.
    const tensor = origin.checkpoint.read(name, matrix);
    this.read++;
    this.options.onTensor?.(this.read, this.total, name);
    return tensor;
  }
}

/** One builder module namespace's weights, routed by part. */
class PartWeights implements WeightSource {
  readonly weights: WeightMap = new Map();
  readonly #seeded = new Map<number, WeightFactory>();

  constructor(
    readonly owner: CheckpointSources,
    readonly module: string,
    readonly patterns: Record<ModelPart, NamePattern[]>,
  ) {}

  normal(name: string, dims: number[], std: number, mean?: number): WeightTensor {
    return this.#get(name, dims, false, (f) => f.normal(name, dims, std, mean));
  }

  matrix(name: string, inDim: number, outDim: number, gain?: number): WeightTensor {
    return this.#get(name, [inDim, outDim], true, (f) => f.matrix(name, inDim, outDim, gain));
  }

  bias(name: string, size: number): WeightTensor {
    return this.#get(name, [size], false, (f) => f.bias(name, size));
  }

  scale(name: string, size: number): WeightTensor {
    return this.#get(name, [size], false, (f) => f.scale(name, size));
  }

  /** The part a builder name belongs to and its checkpoint name (undefined name: seeded part). */
  #route(name: string): { part: ModelPart; checkpoint?: string } {
    const parts = PARTS_OF[this.module] ?? [];
    for (const part of parts) {
      for (const pattern of this.patterns[part]) {
        const match = pattern.builder.exec(name);
        if (match) return { part, checkpoint: pattern.checkpoint.replace("{i}", match[1] ?? "") };
      }
    }
    // A part without a name map can only be seeded: unmatched names are its.
    const seeded = parts.filter((part) => this.owner.options.origins[part].kind === "seed");
    if (seeded.length > 0) return { part: seeded[0] };
    throw new VlmError(
      "usage",
      `builder weight ${this.module}/${name} has no checkpoint name in the family's map`,
      { fix: "add it to the family module's builderNames" },
    );
  }

  #get(
    name: string,
    dims: number[],
    matrix: boolean,
    seed: (factory: WeightFactory) => WeightTensor,
  ): WeightTensor {
    const route = this.#route(name);
    const origin = this.owner.options.origins[route.part];
    let tensor: WeightTensor;
    if (origin.kind === "seed") {
      let factory = this.#seeded.get(origin.seed);
      if (!factory) {
        factory = new WeightFactory(origin.seed, this.module, this.owner.options.retain ?? true);
        this.#seeded.set(origin.seed, factory);
      }
      tensor = seed(factory);
    } else {
      tensor = this.owner.take(
        route.part,
        route.checkpoint!,
        `${this.module}/${name}`,
        dims,
        matrix,
      );
    }
    if (this.owner.options.retain ?? true) this.weights.set(name, tensor);
    return tensor;
  }
}
