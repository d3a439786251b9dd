// A hub that accepts connections and never answers, or stalls mid-body, ends a pull with a typed
// timeout error instead of hanging.
import assert from "node:assert/strict";
import { HubError } from "../../src/hub/hub_error.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { timedFetch } from "../../src/hub/timed_fetch.ts";
import { pullCommand } from "../../tools/cli/pull_command.ts";

/** A TCP server that accepts, optionally writes `prefix`, then stays silent until closed. */
async function withSilentServer(
  prefix: string,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      connections.push(conn);
      // Read (and ignore) the request so the client is not blocked writing it.
      conn.read(new Uint8Array(65536)).catch(() => {});
      if (prefix) await conn.write(new TextEncoder().encode(prefix)).catch(() => {});
    }
  })();
  try {
    await body(`http://127.0.0.1:${listener.addr.port}`);
  } finally {
    listener.close();
    for (const conn of connections) {
      try {
        conn.close();
      } catch { /* already closed by the client */ }
    }
    await accepting.catch(() => {});
  }
}

const cacheDir = () => Deno.makeTempDir({ prefix: "vlmkit-timeout-" });

Deno.test("pull: a hub that never answers is a timeout HubError after the connect limit", async () => {
  await withSilentServer("", async (url) => {
    const dir = await cacheDir();
    const started = performance.now();
    await assert.rejects(
      pullModel("acme/smol", { hubUrl: url, cacheDir: dir, connectTimeoutMs: 300, token: "" }),
      (error) => {
        assert.ok(error instanceof HubError, String(error));
        assert.equal(error.reason, "timeout");
        assert.equal(error.code, "hub_error");
        assert.match(error.message, /did not answer within 0\.3 s/);
        assert.match(error.fix!, /--connect-timeout-ms/);
        return true;
      },
    );
    assert.ok(performance.now() - started < 5000);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("pull: a response body that goes silent fails with the idle limit", async () => {
  const head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n" +
    "content-length: 1000\r\n\r\nfirst bytes";
  await withSilentServer(head, async (url) => {
    const response = await timedFetch(undefined, { idleTimeoutMs: 300 })(`${url}/file`);
    assert.equal(response.status, 200);
    await assert.rejects(response.arrayBuffer(), (error) => {
      assert.ok(error instanceof HubError && error.reason === "timeout", String(error));
      assert.match(error.message, /sent nothing within 0\.3 s/);
      return true;
    });
  });
});

Deno.test("vlm pull --connect-timeout-ms: a silent hub ends in the typed timeout error; a bad value is refused", async () => {
  await withSilentServer("", async (url) => {
    const dir = await cacheDir();
    await assert.rejects(
      async () =>
        await pullCommand.run([
          "acme/smol",
          "--hub-url",
          url,
          "--cache",
          dir,
          "--connect-timeout-ms",
          "200",
        ]),
      (error: unknown) => error instanceof HubError && error.reason === "timeout",
    );
    await assert.rejects(
      async () =>
        await pullCommand.run(["acme/smol", "--hub-url", url, "--connect-timeout-ms", "soon"]),
      (error: unknown) => error instanceof Error && /connect-timeout-ms/.test(error.message),
    );
    await Deno.remove(dir, { recursive: true });
  });
});
