/**
 * RoPE inverse frequencies θ^(−2j/d), with Llama 3.1's frequency scaling when
 * the spec asks for it: wavelengths shorter than original/highFreqFactor keep
 * their frequency, those longer than original/lowFreqFactor are slowed by
 * `factor`, and the band between blends the two linearly in
 * original/wavelength.
 *
 * @module
 */
import type { DecoderSpec } from "../../spec/types.ts";

/** Inverse frequency of each rotated pair j < headDim/2. */
export function inverseFrequencies(
  spec: Pick<DecoderSpec, "headDim" | "ropeTheta" | "ropeScaling">,
): number[] {
  const half = spec.headDim / 2;
  const plain = Array.from({ length: half }, (_, j) => spec.ropeTheta ** (-(2 * j) / spec.headDim));
  const scaling = spec.ropeScaling;
  if (!scaling) return plain;
  const { factor, lowFreqFactor, highFreqFactor, originalContextLength } = scaling;
  const lowFreqWavelength = originalContextLength / lowFreqFactor;
  const highFreqWavelength = originalContextLength / highFreqFactor;
  return plain.map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFreqWavelength) return frequency;
    if (wavelength > lowFreqWavelength) return frequency / factor;
    const smooth = (originalContextLength / wavelength - lowFreqFactor) /
      (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (frequency / factor) + smooth * frequency;
  });
}
