/**
 * How a decoder graph declares that its KV cache may live in one shared
 * buffer: the sequence axis of its `present.{i}.*` outputs is named after
 * GroupQueryAttention's own rule for the present length. The rule holds in
 * both ways of feeding the cache: with a past of `past` tokens, present is
 * `past + new` long and a fresh tensor (the Hugging Face contract); with a
 * past buffer of fixed capacity bound as the present output too, present is
 * that buffer and GQA writes the new rows in place. Graphs without the name
 * (published exports) keep the copying path.
 *
 * @module
 */

/** dim_param of the present outputs' sequence axis in graphs that allow a shared KV buffer. */
export const SHARED_KV_AXIS = "max(total_sequence_length, past_sequence_length)";

/**
 * dim_param of the present outputs' sequence axis in a decoder graph rewritten
 * to return only a step's new key/value rows (`past … past + new` of GQA's
 * present), which the caller appends to its own capacity buffers.
 */
export const KV_ROWS_AXIS = "new_sequence_length";
