/**
 * A worker of `parallelCopyBandwidth` (`tools/machine_limits.ts`): on each
 * message it measures `memoryBandwidth` on its own thread and answers with
 * the bytes moved per second.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { memoryBandwidth } from "../machine_limits.ts";

self.onmessage = (event: MessageEvent<{ megabytes: number; runs: number }>) => {
  self.postMessage(memoryBandwidth(event.data.megabytes, event.data.runs));
};
