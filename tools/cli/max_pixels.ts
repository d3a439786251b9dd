/**
 * `--max-pixels N`: the CLI face of `loadModel`'s `maxPixels` (the largest
 * image, in pixels, a command decodes), and the CLI's wording of the
 * `image_too_large` fix, which names the flag instead of the API option.
 *
 * @module
 */
import { DEFAULT_MAX_PIXELS } from "../../src/image/decode.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { optionalNumber, type OptionSpec, type ParsedArgs } from "./args.ts";
import type { Command } from "./command.ts";

/** The option table entry; spread it into a command's options. */
export const MAX_PIXELS_OPTION: OptionSpec = { "max-pixels": { type: "string" } };

/** The help line every command with the flag shows. */
export const MAX_PIXELS_HELP =
  `  --max-pixels N          largest image to decode, in pixels (default ${DEFAULT_MAX_PIXELS})`;

/** `--max-pixels`: a positive integer, or `undefined` for the default; a usage error otherwise. */
export function parseMaxPixels(command: string, parsed: ParsedArgs): number | undefined {
  return optionalNumber(command, parsed, "max-pixels", { min: 1, max: 2 ** 40, integer: true });
}

/**
 * The error as `command` should report it: an `image_too_large` from image
 * decoding gets a fix naming `--max-pixels` when the command offers it (its
 * usage lists the flag); anything else is returned unchanged.
 */
export function withCliFix(command: Command | undefined, error: VlmError): VlmError {
  if (
    error.code !== "image_too_large" || !error.fix?.includes("maxPixels") ||
    !command?.usage.includes("--max-pixels")
  ) {
    return error;
  }
  const fixed = new VlmError(error.code, error.message, {
    fix: `downscale the image first, or raise the limit with \`vlm ${command.name} ` +
      `--max-pixels N\` (default ${DEFAULT_MAX_PIXELS})`,
    cause: error.cause,
  });
  fixed.stack = error.stack;
  return fixed;
}
