/**
 * Environment variables the client honours (`HF_TOKEN`, `HF_ENDPOINT`,
 * `HF_HUB_OFFLINE`, `HF_HOME`, …), read so that a missing `--allow-env`
 * falls back to the defaults instead of failing.
 *
 * @module
 */
import { platform } from "../platform/current.ts";

/** The variable's value, or `undefined` when unset, empty or not readable. */
export function readEnv(name: string): string | undefined {
  return platform().env(name);
}
