/**
 * The edge server: an OpenAI-compatible handler for any fetch-style host.
 *
 * @module
 */
export { createServerHandler, type ServerHandler, type ServerOptions } from "./handler.ts";
export {
  type Admission,
  type QueueLimits,
  type QueueMemory,
  RequestQueue,
} from "./request_queue.ts";
export {
  type RequestMemory,
  requestMemory,
  type RequestShape,
  tileActivationBytes,
} from "./request_memory.ts";
export { DEFAULT_MAX_PIXELS_PER_IMAGE } from "./image_budget.ts";
