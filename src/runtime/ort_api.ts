/**
 * The part of the onnxruntime API vlmkit uses: onnxruntime-web,
 * onnxruntime-node and a host's own runtime (e.g. Supabase's) all provide
 * it, so everything above speaks to this shape, not to one package.
 *
 * @module
 */

/** Element storage of the tensors vlmkit exchanges with ONNX Runtime. */
export type OrtTensorData = Float32Array | Uint16Array | BigInt64Array | Uint8Array | Int32Array;

/** A tensor as both onnxruntime packages expose it. */
export interface OrtTensor {
  /** Element type, e.g. `float32`, `float16`, `int64`, `bool`. */
  readonly type: string;
  /** Dimensions. */
  readonly dims: readonly number[];
  /** Elements (float16 as raw `Uint16Array` bits). */
  readonly data: unknown;
}

/** Name, element type and dims of one session input or output. */
export type OrtValueMetadata =
  | {
    /** Tensor name. */
    readonly name: string;
    /** A tensor value. */
    readonly isTensor: true;
    /** Element type. */
    readonly type: string;
    /** Dims: numbers, or names of symbolic axes. */
    readonly shape: readonly (number | string)[];
  }
  | {
    /** Value name. */
    readonly name: string;
    /** A non-tensor value (sequence, map). */
    readonly isTensor: false;
  };

/** An open inference session. */
export interface OrtSession {
  /** Inputs in declaration order. */
  readonly inputMetadata: readonly OrtValueMetadata[];
  /** Outputs in declaration order. */
  readonly outputMetadata: readonly OrtValueMetadata[];
  /**
   * Runs the graph. `fetches` names the outputs to return; a tensor there is
   * a preallocated output written in place (onnxruntime-node binds its memory).
   */
  run(
    feeds: Record<string, OrtTensor>,
    fetches?: Record<string, OrtTensor | null>,
  ): Promise<Record<string, OrtTensor>>;
  /** Frees the session's native or wasm memory. */
  release(): Promise<void>;
}

/** The part of the onnxruntime API vlmkit uses; both packages provide it. */
export interface OrtApi {
  /** Session factory. */
  InferenceSession: {
    /** Opens a model from its bytes. */
    create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  /** Tensor constructor. */
  Tensor: new (type: string, data: OrtTensorData, dims: readonly number[]) => OrtTensor;
}
