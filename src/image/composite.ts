/**
 * Alpha on white, in Pillow's integer arithmetic (AlphaComposite.c with a
 * white opaque backdrop), so transparent PNGs match the Python processor's
 * `convert_to_rgb` to the grey level.
 *
 * @module
 */

/** Shift trick Pillow uses for division by 255 with rounding. */
function div255Shift(value: number): number {
  return ((value >>> 8) + value) >>> 8;
}

/** One channel of `value` (alpha `alpha`) composited over white. */
export function overWhite(value: number, alpha: number): number {
  if (alpha === 0) return 255;
  // With an opaque backdrop Pillow's coefficients reduce to alpha·128 and (255 − alpha)·128.
  const mixed = value * alpha * 128 + 255 * (255 - alpha) * 128;
  return div255Shift(mixed + (0x80 << 7)) >>> 7;
}
