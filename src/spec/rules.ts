/**
 * Cross-field rules of a variant spec. Each rule returns issues that name the
 * offending path and say how to fix it; all rules run, so the user sees every
 * problem at once.
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";
import {
  patchGridSide,
  projectorDownsample,
  tokensPerTile,
  validScaleFactors,
} from "../tokens/tile_tokens.ts";
import { maxGridSide, maxTilesPerImage } from "../tokens/tiles.ts";
import { familyOf, layoutNamed, LAYOUTS } from "../families/registry.ts";
import type { VariantSpec } from "./types.ts";

/** Module names each layout requires, in load order (from the layouts in `src/families/`). */
export const LAYOUT_MODULES: Readonly<
  Record<VariantSpec["artifacts"]["layout"], readonly string[]>
> = Object.fromEntries(LAYOUTS.map((layout) => [layout.name, layout.modules])) as Record<
  VariantSpec["artifacts"]["layout"],
  readonly string[]
>;

/** A cross-field rule: returns the issues it finds (empty when the spec passes). */
export type CrossFieldRule = (spec: VariantSpec) => SpecIssue[];

const encoderGeometry: CrossFieldRule = ({ encoder }) => {
  const issues: SpecIssue[] = [];
  const remainder = encoder.imageSize % encoder.patchSize;
  if (remainder !== 0 && encoder.remainderPixels === "none") {
    issues.push({
      path: "encoder.imageSize",
      message:
        `imageSize ${encoder.imageSize} is not a multiple of patchSize ${encoder.patchSize} (${remainder} px left over)`,
      fix: `use imageSize ${
        encoder.imageSize - remainder
      }, or set encoder.remainderPixels to "dropped" if the checkpoint's patch conv ignores those pixels`,
    });
  }
  if (remainder === 0 && encoder.remainderPixels === "dropped") {
    issues.push({
      path: "encoder.remainderPixels",
      message:
        `patchSize ${encoder.patchSize} divides imageSize ${encoder.imageSize}: no pixels are dropped`,
      fix: 'set encoder.remainderPixels to "none"',
    });
  }
  if (Math.floor(encoder.imageSize / encoder.patchSize) < 1) {
    issues.push({
      path: "encoder.patchSize",
      message: `patchSize ${encoder.patchSize} is larger than imageSize ${encoder.imageSize}`,
      fix: "use a patch smaller than the image",
    });
  }
  if (encoder.hidden % encoder.heads !== 0) {
    issues.push({
      path: "encoder.heads",
      message: `encoder hidden ${encoder.hidden} is not divisible by ${encoder.heads} heads`,
      fix: "choose a head count that divides encoder.hidden",
    });
  }
  if (encoder.featureLayer === "penultimate" && encoder.layers < 2) {
    issues.push({
      path: "encoder.featureLayer",
      message: "penultimate feature layer needs at least 2 encoder layers",
      fix: "set encoder.layers ≥ 2 or featureLayer to 'last'",
    });
  }
  if (encoder.featureLayer === "penultimate" && encoder.postLayerNorm) {
    issues.push({
      path: "encoder.postLayerNorm",
      message: "the post-LayerNorm follows the last layer and cannot apply to penultimate features",
      fix: "set encoder.postLayerNorm to false",
    });
  }
  return issues;
};

const projectorGrid: CrossFieldRule = ({ encoder, projector }) => {
  const side = patchGridSide(encoder);
  if (side < 1) return []; // reported by encoderGeometry
  const factor = projectorDownsample(projector);
  if (side % factor === 0) return [];
  if (projector.kind === "pixel-shuffle-linear") {
    const valid = validScaleFactors(encoder).filter((r) => r > 1);
    return [{
      path: "projector.scaleFactor",
      message: `shuffle ratio r=${factor} does not divide the ${side}×${side} patch grid`,
      fix: valid.length > 0
        ? `use r ∈ {${valid.join(", ")}} for this encoder`
        : `no r > 1 divides ${side}; change encoder.imageSize or patchSize`,
    }];
  }
  return [{
    path: "projector.kind",
    message: `${projector.kind} halves the patch grid, but the ${side}×${side} grid is odd`,
    fix: "use an encoder whose patch grid side is even (e.g. CLIP-L/14@336 → 24)",
  }];
};

const decoderHeads: CrossFieldRule = ({ decoder }) => {
  const issues: SpecIssue[] = [];
  if (decoder.heads % decoder.kvHeads !== 0) {
    issues.push({
      path: "decoder.kvHeads",
      message: `${decoder.heads} query heads are not divisible by ${decoder.kvHeads} KV heads`,
      fix: "choose kvHeads that divides heads (grouped-query attention)",
    });
  }
  if (decoder.hidden !== decoder.heads * decoder.headDim) {
    issues.push({
      path: "decoder.headDim",
      message: `hidden ${decoder.hidden} ≠ heads ${decoder.heads} × headDim ${decoder.headDim} (= ${
        decoder.heads * decoder.headDim
      })`,
      fix: Number.isInteger(decoder.hidden / decoder.heads)
        ? `set headDim to ${decoder.hidden / decoder.heads}`
        : "make hidden a multiple of heads",
    });
  }
  if (decoder.ropeScaling && decoder.ropeScaling.originalContextLength > decoder.contextLength) {
    issues.push({
      path: "decoder.ropeScaling.originalContextLength",
      message: "the original context is longer than the scaled context",
      fix: "set originalContextLength ≤ decoder.contextLength",
    });
  }
  return issues;
};

const imageTiles: CrossFieldRule = ({ encoder, image }) => {
  const issues: SpecIssue[] = [];
  if (image.tileSize !== encoder.imageSize) {
    issues.push({
      path: "image.tileSize",
      message: `tile ${image.tileSize} differs from the encoder input ${encoder.imageSize}`,
      fix: `set image.tileSize to ${encoder.imageSize}`,
    });
  }
  if (image.tileSize > image.longestEdge) {
    issues.push({
      path: "image.tileSize",
      message: `tile ${image.tileSize} is larger than longestEdge ${image.longestEdge}`,
      fix: `set image.longestEdge to a multiple of ${image.tileSize} (≥ ${image.tileSize})`,
    });
  }
  const worst = maxTilesPerImage(image);
  if (worst > image.maxTiles) {
    issues.push({
      path: "image.maxTiles",
      message: `splitting can produce ${worst} tiles per image but maxTiles is ${image.maxTiles}`,
      fix: `raise maxTiles to ${worst} or lower longestEdge to ${
        Math.floor(Math.sqrt(Math.max(image.maxTiles - 1, 1))) * image.tileSize
      }`,
    });
  }
  if (image.padToSquare && image.splitting) {
    issues.push({
      path: "image.splitting",
      message: "pad-to-square models see one square view; splitting cannot apply",
      fix: "set image.splitting to false",
    });
  }
  return issues;
};

const imageTokens: CrossFieldRule = (spec) => {
  const { image, tokens, decoder } = spec;
  const format = familyOf(spec).prompt;
  const issues: SpecIssue[] = format.tokenIssues(spec);
  if (image.splitting && tokens.rowCol?.firstId != null) {
    const side = maxGridSide(image);
    if (side > tokens.rowCol.maxRows || side > tokens.rowCol.maxCols) {
      issues.push({
        path: "tokens.rowCol",
        message:
          `splitting can produce a ${side}×${side} grid but row/col tokens stop at ${tokens.rowCol.maxRows}×${tokens.rowCol.maxCols}`,
        fix: `lower image.longestEdge to ≤ ${
          Math.min(tokens.rowCol.maxRows, tokens.rowCol.maxCols) * image.tileSize
        }`,
      });
    }
  }
  const ids: [string, number | null | undefined][] = [
    ["tokens.fakeTokenAroundImage.id", tokens.fakeTokenAroundImage?.id],
    ["tokens.globalImage.id", tokens.globalImage?.id],
    ["tokens.endOfUtterance.id", tokens.endOfUtterance.id],
    ["tokens.bos.id", tokens.bos?.id],
    ["tokens.padId", tokens.padId],
    ...tokens.eosIds.map((id, i): [string, number] => [`tokens.eosIds.${i}`, id]),
  ];
  // A sentinel placeholder (MobileVLM's −200) is replaced before embedding.
  if (format.placeholderInVocabulary) ids.push(["tokens.image.id", tokens.image.id]);
  if (tokens.rowCol?.firstId != null) {
    ids.push([
      "tokens.rowCol",
      tokens.rowCol.firstId + tokens.rowCol.maxRows * tokens.rowCol.maxCols - 1,
    ]);
  }
  for (const [path, id] of ids) {
    if (id != null && (id < 0 || id >= decoder.vocab)) {
      issues.push({
        path,
        message: `token id ${id} is outside the vocabulary [0, ${decoder.vocab})`,
        fix: "check the id against tokenizer.json or raise decoder.vocab",
      });
    }
  }
  if (format.placeholderInVocabulary && tokens.image.id === null) {
    issues.push({
      path: "tokens.image.id",
      message: "the image placeholder must be an added token with an id",
      fix: "set tokens.image.id (e.g. 49190 for SmolVLM-256M)",
    });
  }
  return issues;
};

/**
 * Tokens per tile, or `null` when the geometry is invalid (no patch grid, or a
 * downsample that does not divide it); those cases are reported by other rules.
 */
function validTokensPerTile(spec: VariantSpec): number | null {
  if (patchGridSide(spec.encoder) < 1) return null;
  const perTile = tokensPerTile(spec.encoder, spec.projector);
  return Number.isInteger(perTile) ? perTile : null;
}

const contextHoldsOneImage: CrossFieldRule = (spec) => {
  const perTile = validTokensPerTile(spec);
  if (perTile === null) return [];
  // Image tokens of the worst-case single image (features only, markers excluded).
  const needed = maxTilesPerImage(spec.image) * perTile;
  if (needed <= spec.decoder.contextLength) return [];
  return [{
    path: "decoder.contextLength",
    message:
      `one fully split image takes ${needed} image tokens but the context holds ${spec.decoder.contextLength}`,
    fix:
      `raise decoder.contextLength above ${needed}, lower image.longestEdge, or raise the shuffle ratio`,
  }];
};

const videoFrames: CrossFieldRule = (spec) => {
  const { video, image } = spec;
  if (!video) return [];
  const issues: SpecIssue[] = [];
  if (video.frameSize !== image.tileSize) {
    issues.push({
      path: "video.frameSize",
      message:
        `frames are squared to one tile, but frameSize ${video.frameSize} ≠ tile ${image.tileSize}`,
      fix: `set video.frameSize to ${image.tileSize}`,
    });
  }
  const perFrame = validTokensPerTile(spec);
  if (perFrame !== null) {
    const needed = video.maxFrames * perFrame;
    if (needed > spec.decoder.contextLength) {
      issues.push({
        path: "video.maxFrames",
        message:
          `${video.maxFrames} frames × ${perFrame} tokens = ${needed} exceed the context ${spec.decoder.contextLength}`,
        fix: `lower video.maxFrames to ≤ ${Math.floor(spec.decoder.contextLength / perFrame)}`,
      });
    }
  }
  return issues;
};

const artifactModules: CrossFieldRule = ({ artifacts, projector }) => {
  const issues: SpecIssue[] = [];
  const required = LAYOUT_MODULES[artifacts.layout];
  const present = Object.keys(artifacts.modules);
  const missing = required.filter((name) => !present.includes(name));
  const extra = present.filter((name) => !required.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    issues.push({
      path: "artifacts.modules",
      message: `layout ${artifacts.layout} needs modules [${required.join(", ")}]` +
        (missing.length ? `; missing [${missing.join(", ")}]` : "") +
        (extra.length ? `; unknown [${extra.join(", ")}]` : ""),
      fix: `declare exactly the modules ${required.join(", ")}`,
    });
  }
  const layout = layoutNamed(artifacts.layout);
  if (layout.projectorKinds !== null && !layout.projectorKinds.includes(projector.kind)) {
    const fused = layout.roles.projector === null
      ? ` fuses a ${layout.projectorKinds.join(" or ")} connector into ${layout.roles.vision}`
      : ` holds only ${layout.projectorKinds.join(" or ")} projectors`;
    issues.push({
      path: "artifacts.layout",
      message: `the ${layout.name} layout${fused}`,
      fix: "use the modular layout for this projector",
    });
  }
  return issues;
};

/** All cross-field rules, in the order their issues are reported. */
const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  encoderGeometry,
  projectorGrid,
  decoderHeads,
  imageTiles,
  imageTokens,
  contextHoldsOneImage,
  videoFrames,
  artifactModules,
];

/** Runs every cross-field rule on a schema-valid spec. */
export function checkCrossFieldRules(spec: VariantSpec): SpecIssue[] {
  return CROSS_FIELD_RULES.flatMap((rule) => rule(spec));
}
