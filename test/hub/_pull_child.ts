// Pulls in a separate process, for the cross-process concurrency test:
// deno run _pull_child.ts REPO HUB_URL CACHE_DIR DTYPE → prints the PullResult as JSON.
import { pullModel } from "../../src/hub/pull.ts";

const [repo, hubUrl, cacheDir, dtype] = Deno.args;
const pulled = await pullModel(repo, { hubUrl, cacheDir, dtype: dtype as "q4" });
console.log(JSON.stringify(pulled));
