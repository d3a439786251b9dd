/**
 * The edge server: an OpenAI-compatible handler for any fetch-style host.
 *
 * @module
 */
export { createServerHandler, type ServerHandler, type ServerOptions } from "./handler.ts";
export { RequestQueue } from "./request_queue.ts";
