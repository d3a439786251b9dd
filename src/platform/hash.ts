/**
 * Incremental SHA-256 / SHA-1 from `node:crypto`, which Deno and Node both
 * provide; fetched on first use so web bundles never import it.
 *
 * @module
 */
import { builtin } from "./builtin.ts";
import type { HashAlgorithm, IncrementalHash } from "./types.ts";

interface NodeHash {
  update(bytes: Uint8Array | string): NodeHash;
  digest(encoding: "hex"): string;
}

/** A new incremental hash backed by `node:crypto`. */
export function nodeCryptoHash(algorithm: HashAlgorithm): IncrementalHash {
  const { createHash } = builtin<{ createHash(name: string): NodeHash }>("node:crypto");
  const hash = createHash(algorithm);
  const wrapper: IncrementalHash = {
    update(bytes) {
      hash.update(bytes);
      return wrapper;
    },
    digest: () => hash.digest("hex"),
  };
  return wrapper;
}
