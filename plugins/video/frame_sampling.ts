/**
 * SmolVLM2 frame sampling: `min(round(fps · duration), maxFrames)` frames at
 * evenly spaced indices (numpy `linspace` truncated to integers, duplicates
 * removed), skipping one second at each end when the video is long enough
 * that the remaining span still holds more than `maxFrames · fps` seconds.
 *
 * @module
 */

/** Indices of the frames to keep out of `total` frames covering `durationSeconds`. */
export function sampleFrameIndices(
  total: number,
  durationSeconds: number,
  fps: number,
  maxFrames: number,
): number[] {
  if (total <= 0) return [];
  const desired = Math.max(1, Math.min(Math.round(fps * durationSeconds), maxFrames, total));
  let start = 0;
  let end = total - 1;
  const skipSeconds = 1;
  if (durationSeconds - 2 * skipSeconds > maxFrames * fps) {
    const nativeFps = total / durationSeconds;
    start = Math.trunc(skipSeconds * nativeFps);
    end = Math.min(total - 1, Math.trunc(total - skipSeconds * nativeFps));
  }
  const indices: number[] = [];
  for (let i = 0; i < desired; i++) {
    const position = desired === 1 ? start : start + (i * (end - start)) / (desired - 1);
    const index = Math.trunc(position);
    if (indices[indices.length - 1] !== index) indices.push(index);
  }
  return indices;
}

/** `MM:SS` of a timestamp in seconds (minutes not wrapped). */
export function minutesSeconds(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(whole / 60)).padStart(2, "0")}:${
    String(whole % 60).padStart(2, "0")
  }`;
}

/** `H:MM:SS` of a duration in seconds. */
export function hoursMinutesSeconds(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

const ONES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/** English words for 0…999 as `num2words` writes them ("sixty-four", "one hundred and five"). */
export function numberWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) {
    throw new RangeError(`numberWords: ${n} is outside 0…999`);
  }
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : "");
  const rest = n % 100;
  return `${ONES[Math.floor(n / 100)]} hundred${rest ? ` and ${numberWords(rest)}` : ""}`;
}
