// A static file server on 127.0.0.1 for the web tests: URL prefixes mapped to folders.
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

export interface StaticServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  origin: string;
  /** Every request as `STATUS /path`, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves each `prefix` (e.g. `/models/tiny/`) from its folder; the longest prefix wins. */
export function serveStatic(routes: Record<string, string>): StaticServer {
  const requests: string[] = [];
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    const relative = prefix === undefined ? undefined : normalize(path.slice(prefix.length));
    let status = 404;
    let body: Uint8Array | null = null;
    if (prefix !== undefined && relative && !relative.startsWith("..")) {
      try {
        body = await Deno.readFile(join(routes[prefix], relative));
        status = 200;
      } catch {
        // absent: 404
      }
    }
    requests.push(`${status} ${path}`);
    if (!body) return new Response("not found", { status: 404 });
    const type = TYPES[extname(path)] ?? "application/octet-stream";
    return new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": type, "cache-control": "no-store" },
    });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}
