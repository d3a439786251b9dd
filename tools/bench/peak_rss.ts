/**
 * A process's peak resident memory: the kernel's high-water mark (VmHWM) on
 * Linux, else the largest of periodic samples. Shared by both sides of the
 * benchmark so their figures mean the same thing.
 *
 * @module
 */

/** Samples RSS every 20 ms until `stop()`; `peak()` prefers VmHWM. */
export function trackPeakRss(): { stop(): void; peak(): number } {
  let sampled = Deno.memoryUsage().rss;
  const timer = setInterval(() => (sampled = Math.max(sampled, Deno.memoryUsage().rss)), 20);
  return {
    stop: () => clearInterval(timer),
    peak() {
      try {
        const status = Deno.readTextFileSync("/proc/self/status");
        const kib = Number(status.match(/^VmHWM:\s+(\d+)\s+kB/m)?.[1]);
        if (kib > 0) return kib * 1024;
      } catch {
        // not Linux: the sampled maximum
      }
      return sampled;
    },
  };
}
