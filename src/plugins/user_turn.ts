/**
 * The prompt most tasks send: one user turn with every image, then the text.
 *
 * @module
 */
export { userTurn } from "../runtime/tasks/user_turn.ts";
