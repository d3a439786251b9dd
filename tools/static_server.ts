/**
 * A static file server on 127.0.0.1 for pages driven in headless Chromium (the
 * web tests, the wasm-anchor bench): URL prefixes mapped to folders, optionally
 * cross-origin isolated (COOP/COEP headers), so that the page has
 * SharedArrayBuffer and ONNX Runtime or wllama may start threads.
 *
 * @module
 */
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

/** A running server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
  /** Every request as `STATUS /path`, in order. */
  requests: string[];
  /** Stops it. */
  close(): Promise<void>;
}

/** Serves each `prefix` (e.g. `/gguf/`) from its folder; the longest prefix wins. */
export function serveFolders(
  routes: Record<string, string>,
  options: { isolated?: boolean; cacheable?: boolean } = {},
): StaticServer {
  const requests: string[] = [];
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const isolation: Record<string, string> = options.isolated
    ? {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    }
    : {};
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const prefix = prefixes.find((p) => path.startsWith(p));
      const relative = prefix === undefined ? undefined : normalize(path.slice(prefix.length));
      const notFound = () => {
        requests.push(`404 ${path}`);
        return new Response("not found", { status: 404 });
      };
      if (prefix === undefined || !relative || relative.startsWith("..")) return notFound();
      let file: Deno.FsFile;
      try {
        file = await Deno.open(join(routes[prefix], relative));
      } catch {
        return notFound();
      }
      requests.push(`200 ${path}`);
      // Streamed: the fp32 GGUF and model files are hundreds of MB.
      return new Response(file.readable, {
        headers: {
          "content-type": TYPES[extname(path)] ?? "application/octet-stream",
          "content-length": String((await file.stat()).size),
          // Cacheable responses let Chromium keep compiled WebAssembly code between pages.
          "cache-control": options.cacheable ? "max-age=3600" : "no-store",
          ...isolation,
        },
      });
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}
