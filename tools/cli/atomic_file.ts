/**
 * The CLI's atomic writer is the SDK's one (`src/platform/atomic_write.ts`):
 * a temporary sibling renamed into place, so a final name never holds a
 * partial file.
 *
 * @module
 */
export { writeFileAtomically } from "../../src/platform/atomic_write.ts";
