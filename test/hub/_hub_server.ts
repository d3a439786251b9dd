// A Hugging Face Hub compatible HTTP server on 127.0.0.1 for the hub client
// tests. It serves the routes the client uses, as the real Hub shapes them:
//
//   GET /api/models/{repo}/revision/{rev}        model info with the commit `sha`
//   GET /api/models/{repo}/tree/{rev}[?cursor=]  recursive listing, paginated by Link
//   GET|HEAD /{repo}/resolve/{rev}/{path}        file bytes, with Range support
//
// Listings give sizes, git blob ids and, for LFS files (.onnx, .onnx_data),
// `lfs.oid` = sha256. Faults are switched on per test through `faults`.
import { createHash } from "node:crypto";

/** One file of a served repo. */
export interface ServedFile {
  path: string;
  bytes: Uint8Array;
}

/** Repos by id, each with its revisions (branch or tag name → files). */
export type ServedRepos = Record<string, Record<string, ServedFile[]>>;

/** Fault injection; every field is optional and may be changed between requests. */
export interface Faults {
  /** Cut the connection after `afterBytes` body bytes, on the first response for `path` that is longer. */
  cutOnce?: { path: string; afterBytes: number };
  /** Serve these paths with one byte flipped (the listing keeps the true hash). */
  corrupt?: string[];
  /** Entries appended to every listing (e.g. paths escaping the folder). */
  extraEntries?: unknown[];
  /** Answer listings with this raw body instead (a malformed listing). */
  treeBody?: string;
  /** Stream `path` in `chunkBytes` pieces every `delayMs`. */
  slow?: { path: string; chunkBytes: number; delayMs: number };
  /** Answer Range requests with the whole file (200), like a server without range support. */
  ignoreRange?: boolean;
}

/** What the server saw. */
export interface RequestRecord {
  route: "info" | "tree" | "resolve" | "other";
  method: string;
  /** Decoded file path for resolve requests. */
  file?: string;
  /** Revision in the URL. */
  revision?: string;
  range: string | null;
  authorization: string | null;
  status: number;
}

export interface HubServerOptions {
  repos: ServedRepos;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Listing entries per page (default: all on one page). */
  pageSize?: number;
}

export function isLfs(path: string): boolean {
  return path.endsWith(".onnx") || path.endsWith(".onnx_data");
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** The fake commit id of a repo revision. */
export function commitOf(repo: string, revision: string): string {
  return createHash("sha1").update(`${repo}@${revision}`).digest("hex");
}

function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function notFound(code: string, message: string): Response {
  return json({ error: message }, 404, { "x-error-code": code });
}

export function listing(files: ServedFile[]): Record<string, unknown>[] {
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [
    ...[...dirs].map((path) => ({
      type: "directory",
      oid: gitBlobId(new Uint8Array()),
      size: 0,
      path,
    })),
    ...files.map((file) => ({
      type: "file",
      oid: gitBlobId(file.bytes),
      size: file.bytes.length,
      path: file.path,
      ...(isLfs(file.path)
        ? { lfs: { oid: sha256(file.bytes), size: file.bytes.length, pointerSize: 134 } }
        : {}),
    })),
  ];
}

/** A body that yields `bytes` in chunks, optionally slowly, optionally stopping early. */
function body(bytes: Uint8Array, chunk: number, delayMs: number, stopAt?: number): ReadableStream {
  let offset = 0;
  const end = stopAt ?? bytes.length;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= end) {
        // Closing before Content-Length is reached drops the connection.
        controller.close();
        return;
      }
      if (delayMs > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delayMs);
        });
        if (cancelled) return;
      }
      const next = Math.min(end, offset + chunk);
      controller.enqueue(bytes.slice(offset, next));
      offset = next;
    },
    cancel() {
      // The client went away (abort): no timer may outlive the test.
      cancelled = true;
      clearTimeout(timer);
      wake?.();
    },
  });
}

export class HubServer {
  readonly requests: RequestRecord[] = [];
  faults: Faults = {};
  token: string | undefined;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #options: HubServerOptions;
  #cutDone = false;
  #closing: Promise<void> | undefined;

  constructor(options: HubServerOptions) {
    this.#options = options;
    this.token = options.token;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => this.#handle(request),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Requests for one file (resolve route). */
  fileRequests(path: string): RequestRecord[] {
    return this.requests.filter((r) => r.route === "resolve" && r.file === path);
  }

  /** Files downloaded with a GET, in order (each path once per request). */
  resolvedFiles(): string[] {
    return this.requests.filter((r) => r.route === "resolve" && r.method === "GET").map((r) =>
      r.file!
    );
  }

  /** Stops the server (again is a no-op), e.g. to test offline use. */
  async close(): Promise<void> {
    this.#closing ??= this.#server.shutdown();
    await this.#closing;
  }

  #revision(repo: string, revision: string): { name: string; files: ServedFile[] } | undefined {
    const revisions = this.#options.repos[repo];
    if (!revisions) return undefined;
    for (const [name, files] of Object.entries(revisions)) {
      if (name === revision || commitOf(repo, name) === revision) return { name, files };
    }
    return undefined;
  }

  #handle(request: Request): Response {
    const record: RequestRecord = {
      route: "other",
      method: request.method,
      range: request.headers.get("range"),
      authorization: request.headers.get("authorization"),
      status: 0,
    };
    this.requests.push(record);
    const response = this.#route(request, record);
    record.status = response.status;
    return response;
  }

  #route(request: Request, record: RequestRecord): Response {
    const url = new URL(request.url);
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    record.route = info ? "info" : tree ? "tree" : resolve ? "resolve" : "other";
    if (record.route === "other") return new Response("no such route", { status: 404 });
    if (this.token && record.authorization !== `Bearer ${this.token}`) {
      return json({ error: "Invalid credentials in Authorization header" }, 401);
    }
    const match = (info ?? tree ?? resolve)!;
    const repo = match[1];
    const revision = decodeURIComponent(match[2]);
    record.revision = revision;
    if (!this.#options.repos[repo]) return notFound("RepoNotFound", "Repository not found");
    const found = this.#revision(repo, revision);
    if (!found) return notFound("RevisionNotFound", "Invalid rev id: " + revision);
    if (info) {
      return json({
        _id: `id-${repo}`,
        id: repo,
        sha: commitOf(repo, found.name),
        private: Boolean(this.token),
        gated: false,
        downloads: 0,
        likes: 0,
        lastModified: "2025-01-01T00:00:00.000Z",
        pipeline_tag: "image-text-to-text",
      });
    }
    if (tree) return this.#tree(url, found.files);
    const path = resolve![3].split("/").map(decodeURIComponent).join("/");
    record.file = path;
    const file = found.files.find((f) => f.path === path);
    if (!file) return notFound("EntryNotFound", `Entry not found: ${path}`);
    return this.#file(request, file, commitOf(repo, found.name));
  }

  #tree(url: URL, files: ServedFile[]): Response {
    if (this.faults.treeBody !== undefined) {
      return new Response(this.faults.treeBody, {
        headers: { "content-type": "application/json" },
      });
    }
    const entries = [...listing(files), ...(this.faults.extraEntries ?? [])];
    const pageSize = this.#options.pageSize ?? entries.length;
    const cursor = Number(url.searchParams.get("cursor") ?? 0);
    const page = entries.slice(cursor, cursor + pageSize);
    const headers: Record<string, string> = {};
    if (cursor + pageSize < entries.length) {
      const next = new URL(url);
      next.searchParams.set("cursor", String(cursor + pageSize));
      headers.link = `<${next.href}>; rel="next"`;
    }
    return json(page, 200, headers);
  }

  #file(request: Request, file: ServedFile, commit: string): Response {
    let bytes = file.bytes;
    if (this.faults.corrupt?.includes(file.path)) {
      bytes = bytes.slice();
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const headers: Record<string, string> = {
      "accept-ranges": "bytes",
      etag: `"${isLfs(file.path) ? sha256(file.bytes) : gitBlobId(file.bytes)}"`,
      "x-repo-commit": commit,
      "content-type": "application/octet-stream",
    };
    let start = 0;
    let end = bytes.length; // exclusive
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      end = range[2] ? Math.min(bytes.length, Number(range[2]) + 1) : bytes.length;
      if (start >= bytes.length || start >= end) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${bytes.length}` },
        });
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${end - 1}/${bytes.length}`;
    }
    headers["content-length"] = String(end - start);
    if (request.method === "HEAD") return new Response(null, { status, headers });
    const slice = bytes.subarray(start, end);
    const slow = this.faults.slow?.path === file.path ? this.faults.slow : undefined;
    const cut = this.faults.cutOnce;
    let stopAt: number | undefined;
    if (cut?.path === file.path && !this.#cutDone && slice.length > cut.afterBytes) {
      this.#cutDone = true;
      stopAt = cut.afterBytes;
    }
    return new Response(
      body(slice, slow?.chunkBytes ?? 64 * 1024, slow?.delayMs ?? 0, stopAt),
      { status, headers },
    );
  }
}

// The client reads these; a developer's shell must not change what the tests see.
for (const name of ["HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT"]) Deno.env.delete(name);

/** Runs `fn` with a server for `repos` and an empty temporary folder; cleans both up. */
export async function withHub(
  repos: ServedRepos,
  fn: (hub: HubServer, dir: string) => Promise<void>,
  options: Omit<HubServerOptions, "repos"> = {},
): Promise<void> {
  const hub = new HubServer({ repos, ...options });
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-hub-" });
  try {
    await fn(hub, dir);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}
