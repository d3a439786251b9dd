// `vlm serve` as users run it: a port already in use is a usage error that says so, not a stack.
import assert from "node:assert/strict";
import { runVlm } from "./_vlm.ts";

const MODEL = new URL("../../models/tiny-smolvlm", import.meta.url).pathname;

Deno.test("vlm serve: a port in use exits 2 naming the port and how to choose another", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await runVlm(
      ["--allow-read", "--allow-env", "--allow-net", "--allow-ffi"],
      ["serve", "--model", MODEL, "--port", String(busy.addr.port)],
    );
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`port ${busy.addr.port} is in use`));
    assert.match(stderr, /--port N/);
    assert.doesNotMatch(stderr, /internal error|\n\s+at /);
  } finally {
    busy.close();
  }
});
