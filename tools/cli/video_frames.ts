/**
 * Video files → timestamped frames through the machine's ffmpeg (when it is
 * installed): frames are extracted at the requested rate as PNG files into a
 * temporary folder, frame i at time i / fps.
 *
 * @module
 */
import { join } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { TimedFrame } from "../../src/plugins/types.ts";

/** Decoded frames and the folder holding them (remove it when done). */
export interface DecodedVideo {
  /** Frames in time order. */
  frames: TimedFrame[];
  /** Temporary folder with the PNG files. */
  dir: string;
}

/** Extracts frames of `file` at `fps` with ffmpeg. */
export async function decodeVideo(file: string, fps: number): Promise<DecodedVideo> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-frames-" });
  try {
    const command = new Deno.Command("ffmpeg", {
      args: [
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        file,
        "-vf",
        `fps=${fps}`,
        join(dir, "%06d.png"),
      ],
      stdout: "null",
      stderr: "piped",
    });
    let output: Deno.CommandOutput;
    try {
      output = await command.output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new VlmError(
          "input_invalid",
          "decoding a video file needs ffmpeg, which is not installed",
          {
            fix: "install ffmpeg (e.g. apt-get install ffmpeg), or pass the frames as images",
            cause: error,
          },
        );
      }
      throw error;
    }
    if (!output.success) {
      throw new VlmError(
        "input_invalid",
        `ffmpeg could not decode ${file}: ${new TextDecoder().decode(output.stderr).trim()}`,
        {
          fix: "pass a video file ffmpeg can read",
        },
      );
    }
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".png"))
      .sort();
    if (names.length === 0) {
      throw new VlmError("input_invalid", `${file} has no video frames`, {
        fix: "pass a video with at least one frame",
      });
    }
    return { frames: names.map((name, i) => ({ image: join(dir, name), time: i / fps })), dir };
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}
