/**
 * Folds per-layer tensor names for `vlm inspect`'s text output: a decoder's
 * `past_key_values.0.key` … `past_key_values.29.value` (all of one type and
 * shape) become one line, `past_key_values.{0..29}.{key,value}`. The fold is
 * exact: a line stands for every combination of its segments, and for nothing
 * else.
 *
 * @module
 */
import type { TensorInfo } from "../../src/runtime/session_contract.ts";

/** One folded line: the name's dot-separated segments, each a set of alternatives. */
export interface TensorGroup {
  /** Alternatives per segment, in the order they were met (numbers ascending). */
  segments: string[][];
  /** Element type shared by every member. */
  type: string;
  /** Dims shared by every member. */
  dims: readonly (number | string)[];
}

const NUMBER = /^\d+$/;

function signature(group: TensorGroup, skip: number): string {
  const rest = group.segments.map((alternatives, i) =>
    i === skip ? "*" : [...alternatives].sort().join("|")
  );
  return JSON.stringify([group.type, group.dims, rest]);
}

/**
 * Groups `tensors` (names assumed unique). Only names with a numeric segment
 * (a layer index) are folded; two lines merge when they agree on type, dims
 * and every segment but one, so each line is the product of its segments.
 */
export function foldTensors(tensors: readonly TensorInfo[]): TensorGroup[] {
  let groups: TensorGroup[] = tensors.map((t) => ({
    segments: t.name.split(".").map((s) => [s]),
    type: t.type,
    dims: t.dims,
  }));
  const foldable = (g: TensorGroup) => g.segments.some((alts) => alts.some((s) => NUMBER.test(s)));
  for (let changed = true; changed;) {
    changed = false;
    const width = Math.max(0, ...groups.map((g) => g.segments.length));
    // Last segment first: `.key`/`.value` pair up before the layer index folds.
    for (let position = width - 1; position >= 0; position--) {
      const merged: TensorGroup[] = [];
      const byKey = new Map<string, TensorGroup>();
      for (const group of groups) {
        if (!foldable(group) || position >= group.segments.length) {
          merged.push(group);
          continue;
        }
        const key = `${group.segments.length}:${signature(group, position)}`;
        const into = byKey.get(key);
        if (!into) {
          const copy = { ...group, segments: group.segments.map((alts) => [...alts]) };
          byKey.set(key, copy);
          merged.push(copy);
          continue;
        }
        for (const alternative of group.segments[position]) {
          if (!into.segments[position].includes(alternative)) {
            into.segments[position].push(alternative);
          }
        }
        changed = true;
      }
      groups = merged;
    }
  }
  for (const group of groups) {
    for (const alternatives of group.segments) {
      if (alternatives.every((s) => NUMBER.test(s))) {
        alternatives.sort((a, b) => Number(a) - Number(b));
      }
    }
  }
  return groups;
}

function renderSegment(alternatives: readonly string[]): string {
  if (alternatives.length === 1) return alternatives[0];
  const numbers = alternatives.every((s) => NUMBER.test(s)) ? alternatives.map(Number) : undefined;
  if (numbers && numbers.length > 2 && numbers.every((n, i) => n === numbers[0] + i)) {
    return `{${numbers[0]}..${numbers[numbers.length - 1]}}`;
  }
  return `{${alternatives.join(",")}}`;
}

/** A group's name as a pattern, e.g. `past_key_values.{0..29}.{key,value}`. */
export function groupName(group: TensorGroup): string {
  return group.segments.map(renderSegment).join(".");
}

/** How many tensors a group stands for. */
export function groupSize(group: TensorGroup): number {
  return group.segments.reduce((product, alternatives) => product * alternatives.length, 1);
}
