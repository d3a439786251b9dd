/**
 * `vlm tokens --variant V --image WxH [...] [--no-split] [--backend B] [--max-tiles N]
 * [--prompt T] [--json]`: the tile plan of each image and the token totals of
 * the conversation, under the image budget the run will use when a backend or
 * a tile cap is given.
 *
 * @module
 */
import { UsageError } from "../../src/errors/usage_error.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { countSequence } from "../../src/tokens/sequence.ts";
import { defaultMaxTiles } from "../../src/runtime/edge_defaults.ts";
import {
  optionalNumber,
  parseBackend,
  parseCommandArgs,
  parseSize,
  requireString,
} from "./args.ts";
import { type Command, printJson } from "./command.ts";
import { loadVariant } from "./variant_source.ts";

const usage = `Usage: vlm tokens --variant <spec.json|preset> --image WxH [WxH ...] [--no-split]
                  [--backend wasm|native] [--max-tiles N] [--prompt TEXT] [--json]

Plans the tiles of each image exactly as the Python processor does and counts
the tokens of one user turn (images, then the prompt) plus the generation
prompt. Image tokens are exact. Text tokens are exact for special tokens and
estimated for plain text (no tokenizer is loaded here: textTokensExact=false).

Without --backend or --max-tiles it counts the model's full split (what the
Python processor and native runtimes plan). \`vlm run\` runs on wasm by default,
which caps an image at 5 tiles: pass --backend wasm (or the run's --max-tiles)
to count the plan that run uses.

Options:
  --variant V      preset name or path to a spec .json file (required)
  --image WxH      an image size; repeat the flag or list more sizes after it
  --no-split       do not split images into tiles (one tile per image)
  --backend B      count under backend B's default image budget: wasm (5 tiles an image)
                   or native (no cap)
  --max-tiles N    most tiles an image (as vlm run --max-tiles; over --backend's default)
  --prompt TEXT    the question (default: empty)
  --json           print {images:[{width,height,resized,rows,cols,tiles,tokens}],
                   imageTokens, textTokens, totalTokens, contextLength, fits, textTokensExact},
                   plus maxTiles (null: no cap) when --backend or --max-tiles is given`;

export const tokensCommand: Command = {
  name: "tokens",
  summary: "tile plan and token totals for images + prompt",
  usage,
  run(args) {
    const parsed = parseCommandArgs("tokens", args, {
      variant: { type: "string" },
      image: { type: "string", multiple: true },
      "no-split": { type: "boolean" },
      backend: { type: "string" },
      "max-tiles": { type: "string" },
      prompt: { type: "string" },
    });
    const variant = requireString("tokens", parsed, "variant");
    const sizes = [...((parsed.values.image as string[] | undefined) ?? []), ...parsed.positionals];
    if (sizes.length === 0) {
      throw new UsageError(
        "vlm tokens: at least one --image WxH is required",
        "e.g. --image 640x480",
      );
    }
    const images = sizes.map((text) => parseSize("tokens", text));
    const plan = resolve(loadVariant(variant));
    const flagTiles = optionalNumber("tokens", parsed, "max-tiles", {
      min: 1,
      max: 10_000,
      integer: true,
    });
    const budgeted = parsed.values.backend !== undefined || flagTiles !== undefined;
    // The run's budget: its --max-tiles, else the backend's default (none without a backend).
    const maxTiles = flagTiles ??
      (parsed.values.backend !== undefined
        ? defaultMaxTiles(parseBackend("tokens", parsed))
        : undefined);
    const count = countSequence(plan, {
      images,
      prompt: parsed.values.prompt as string | undefined,
      split: parsed.values["no-split"] ? false : undefined,
      maxTiles,
    });
    const result = {
      images: count.images.map((image) => ({
        width: image.width,
        height: image.height,
        resized: image.resized,
        rows: image.rows,
        cols: image.cols,
        tiles: image.tiles,
        tokens: image.tokens,
      })),
      imageTokens: count.imageTokens,
      textTokens: count.textTokens,
      totalTokens: count.totalTokens,
      contextLength: count.contextLength,
      fits: count.fits,
      textTokensExact: count.textTokensExact,
      ...(budgeted
        ? { maxTiles: maxTiles === undefined || maxTiles === Infinity ? null : maxTiles }
        : {}),
    };
    if (parsed.values.json) {
      printJson(result);
      return 0;
    }
    const cap = maxTiles === undefined || maxTiles === Infinity
      ? ""
      : `, at most ${maxTiles} an image`;
    console.log(`${plan.spec.name}: ${plan.tokensPerTile} tokens per tile${cap}`);
    for (const image of result.images) {
      const grid = image.rows > 0 ? `${image.rows}×${image.cols} + global` : "single tile";
      console.log(
        `  ${image.width}×${image.height} → ${image.resized.width}×${image.resized.height}: ` +
          `${grid} = ${image.tiles} tiles, ${image.tokens} tokens`,
      );
    }
    console.log(
      `  image ${result.imageTokens} + text ${result.textTokens}${
        result.textTokensExact ? "" : " (estimated)"
      } = ${result.totalTokens} of ${result.contextLength}: ${
        result.fits ? "fits" : "DOES NOT FIT"
      }`,
    );
    return 0;
  },
};
