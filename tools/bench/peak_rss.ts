/**
 * A process's peak resident memory as the operating system counts it, so
 * `vlm run --json` and both sides of the benchmark report the same figure.
 *
 * Sources, first that answers:
 * 1. `VmHWM` in `/proc/self/status` (Linux; read with `Deno.readTextFileSync`
 *    under Deno, `node:fs` under Node) — the kernel's high-water mark of RSS;
 * 2. `process.resourceUsage().maxRSS` (getrusage's `ru_maxrss`: also on
 *    macOS, needs no read permission; but Linux carries it across execve, so
 *    in a process spawned by a larger one it reads the spawner's peak);
 * 3. the largest `rss` sampled every 20 ms while tracking (under-reports
 *    short spikes: the last resort).
 *
 * @module
 */
import process from "node:process";
import { readFileSync } from "node:fs";

/** Where a peak figure came from. */
export type PeakRssSource = "VmHWM" | "getrusage" | "sampled";

/** A peak resident-memory figure and its source. */
export interface PeakRss {
  /** Bytes. */
  bytes: number;
  /** Which counter answered. */
  source: PeakRssSource;
}

function currentRss(): number {
  return globalThis.Deno ? Deno.memoryUsage().rss : process.memoryUsage().rss;
}

function procStatus(): string | undefined {
  try {
    return globalThis.Deno
      ? Deno.readTextFileSync("/proc/self/status")
      : readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined; // not Linux, or no read permission on /proc
  }
}

/** The kernel's peak RSS of this process, or undefined where no counter answers. */
export function osPeakRss(): PeakRss | undefined {
  const status = procStatus();
  const kib = (field: string) =>
    Number(status?.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1]);
  // The kernel raises VmHWM lazily (when RSS is about to drop): the current RSS may be above it.
  if (kib("VmHWM") > 0) {
    return { bytes: Math.max(kib("VmHWM"), kib("VmRSS")) * 1024, source: "VmHWM" };
  }
  try {
    const maxRss = process.resourceUsage().maxRSS; // KiB
    if (maxRss > 0) return { bytes: maxRss * 1024, source: "getrusage" };
  } catch {
    // runtime without getrusage
  }
  return undefined;
}

/** Current resident memory in bytes (`VmRSS`, as the OS counts it). */
export function rssBytes(): number {
  return currentRss();
}

/** Samples RSS every 20 ms until `stop()`; `peak()` prefers the OS's counters. */
export function trackPeakRss(): {
  stop(): void;
  peak(): number;
  source(): PeakRssSource;
  sampledPeak(): number;
} {
  let sampled = currentRss();
  const timer = setInterval(() => (sampled = Math.max(sampled, currentRss())), 20);
  const read = (): PeakRss => {
    sampled = Math.max(sampled, currentRss());
    return osPeakRss() ?? { bytes: sampled, source: "sampled" };
  };
  return {
    stop: () => clearInterval(timer),
    peak: () => read().bytes,
    source: () => read().source,
    /** The largest RSS sampled since tracking began (not the process's lifetime peak). */
    sampledPeak: () => Math.max(sampled, currentRss()),
  };
}
