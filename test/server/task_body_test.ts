// Regression: a task request whose JSON body is not an object (null, an array,
// a number) is the client's mistake, answered 400 with a typed error.
import assert from "node:assert/strict";
import { ocr } from "../../plugins/ocr/mod.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { createServerHandler } from "../../src/server/handler.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";

Deno.test("server: POST /v1/tasks/{name} with a body that is not an object answers 400", async () => {
  const model = await loadModel(TINY_MODEL, { plugins: [ocr({ maxNewTokens: 4 })] });
  try {
    const handler = createServerHandler(model, { modelName: "tiny" });
    for (const body of ["null", "[]", "7", '"ocr"']) {
      const response = await handler.handle(
        new Request("http://localhost/v1/tasks/ocr", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }),
      );
      assert.equal(response.status, 400, body);
      const json = await response.json();
      assert.equal(json.error.code, "input_invalid", body);
      assert.match(json.error.message, /JSON object/);
    }
  } finally {
    await model.dispose();
  }
});
