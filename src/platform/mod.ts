/**
 * The platform seam: host services (files, environment, hashing, locks)
 * behind one interface, with Deno, Node and web adapters.
 *
 * @module
 */
export type {
  FileInfo,
  HashAlgorithm,
  IncrementalHash,
  Platform,
  PlatformFile,
  PlatformPath,
} from "./types.ts";
export { detectPlatform, platform, setPlatform } from "./current.ts";
export { denoPlatform } from "./deno.ts";
export { nodePlatform } from "./node.ts";
export { webPlatform } from "./web.ts";
export { writeFileAtomically } from "./atomic_write.ts";
