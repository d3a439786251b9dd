/**
 * The parts of `@huggingface/hub` the client uses, imported in one place:
 * `modelInfo` (revision → commit), `listFiles` (the recursive tree listing,
 * paginated), `HubApiError` (failed API calls) and `HUB_URL`.
 *
 * @module
 */
// Pinned inline so the client works without an import-map entry; with
// `"@huggingface/hub": "@huggingface/hub"` in deno.json this becomes the bare name.
export {
  HUB_URL,
  HubApiError,
  type ListFileEntry,
  listFiles,
  modelInfo,
} from "npm:@huggingface/hub@2.17.5";
