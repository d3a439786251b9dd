/**
 * Video token accounting (SmolVLM2): frames sampled at `fps`, at most
 * `maxFrames`, each one unsplit tile.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";

/** Frames sampled from a video of `durationSeconds`: round(fps · duration), clamped to [1, maxFrames]. */
export function sampledFrameCount(plan: Plan, durationSeconds: number): number {
  const video = plan.spec.video;
  if (!video) {
    throw new VlmError("input_invalid", `${plan.spec.name} has no video settings`, {
      fix: "use a SmolVLM2 video variant, e.g. smolvlm2-256m-video",
    });
  }
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new VlmError(
      "input_invalid",
      `video duration must be > 0 seconds, got ${durationSeconds}`,
    );
  }
  return Math.min(Math.max(1, Math.round(video.fps * durationSeconds)), video.maxFrames);
}

/** Image tokens of a video: frames × tokens per frame. */
export function videoImageTokens(plan: Plan, durationSeconds: number): number {
  return sampledFrameCount(plan, durationSeconds) * plan.tokensPerTile;
}
