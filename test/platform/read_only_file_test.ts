// Synchronous positioned reads (Platform.openReadOnly), which `vlm convert`
// uses to read one checkpoint tensor at a time: the Deno and Node adapters
// read exactly the bytes at a position, stop at the end, and report a missing
// file as undefined; the web adapter has none.
import assert from "node:assert/strict";
import { denoPlatform } from "../../src/platform/deno.ts";
import { nodePlatform } from "../../src/platform/node.ts";
import { webPlatform } from "../../src/platform/web.ts";

for (const [name, make] of [["deno", denoPlatform], ["node", nodePlatform]] as const) {
  Deno.test(`${name}: openReadOnly reads at positions and reports a missing file`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
      await Deno.writeFile(`${dir}/f.bin`, bytes);
      const file = make().openReadOnly!(`${dir}/f.bin`)!;
      try {
        assert.equal(file.size, 300);
        const middle = new Uint8Array(50);
        assert.equal(file.readAt(middle, 123), 50);
        assert.deepEqual(middle, bytes.subarray(123, 173));
        const tail = new Uint8Array(40);
        assert.equal(file.readAt(tail, 280), 20); // short only at the end
        assert.deepEqual(tail.subarray(0, 20), bytes.subarray(280));
      } finally {
        file.close();
      }
      assert.equal(make().openReadOnly!(`${dir}/absent.bin`), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("web: no synchronous file reads", () => {
  assert.equal(webPlatform().openReadOnly, undefined);
});
