/**
 * Streaming storage for a {@linkcode GraphBuilder}'s tensors: each tensor is
 * appended to an external-data file the moment the builder adds it, and only
 * its name, type, shape and offset stay in memory. The layout (1 KiB and
 * larger tensors moved out, 4 KiB-aligned offsets, zero padding, insertion
 * order) is exactly `serializeModel`'s, so a streamed model and data file
 * equal the in-memory external-data form byte for byte.
 *
 * @module
 */
import type onnxProto from "npm:onnx-proto@8.0.1";
import { float32ToFloat16 } from "../runtime/float16.ts";
import { FLOAT16_SUFFIX, isFloat16Weight } from "./float16_form.ts";
import { alignedOffset, EXTERNAL_MIN_BYTES, externalTensor } from "./onnx_file.ts";
import { type TensorData, tensorProto } from "./onnx_graph.ts";

/** A file written front to back, synchronously (the graph builders are synchronous). */
export interface AppendFile {
  /** Writes all of `bytes` at the end of the file. */
  append(bytes: Uint8Array): void;
  /** Closes the file. */
  close(): void;
}

/** Where a {@linkcode GraphBuilder} puts each tensor as it is added. */
export interface TensorSink {
  /** Stores `tensor` as initializer `name`; the caller may drop `tensor` afterwards. */
  store(name: string, tensor: TensorData): void;
  /** Tensors stored so far. */
  readonly count: number;
  /** The graph's initializers, in the order stored (call after {@linkcode close}). */
  initializers(): onnxProto.onnx.ITensorProto[];
}

/** Options of {@linkcode ExternalDataSink}. */
export interface ExternalDataSinkOptions {
  /** Store float weights as float16 (the fp16 and q4f16 forms; see `float16Form`). */
  float16?: boolean;
}

interface Stored {
  proto: onnxProto.onnx.ITensorProto;
  /** Offset and length in the data file, for tensors moved out. */
  external?: { offset: number; length: number };
}

/** Appends tensors to one external-data file; keeps only their descriptions. */
export class ExternalDataSink implements TensorSink {
  readonly #file: AppendFile;
  readonly #float16: boolean;
  readonly #stored: Stored[] = [];
  readonly #names = new Set<string>();
  /** Initializers (by `_fp16` name) this sink converted to float16. */
  readonly converted = new Set<string>();
  #size = 0;
  #closed = false;
  #location?: string;

  /** Writes into `file`, which must be empty. */
  constructor(file: AppendFile, options: ExternalDataSinkOptions = {}) {
    this.#file = file;
    this.#float16 = options.float16 ?? false;
  }

  /** Tensors stored so far. */
  get count(): number {
    return this.#stored.length;
  }

  /** Bytes written to the data file so far. */
  get bytes(): number {
    return this.#size;
  }

  store(name: string, tensor: TensorData): void {
    if (this.#closed) throw new Error(`tensor ${name} stored after the data file was closed`);
    if (this.#names.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.#names.add(name);
    let proto = tensorProto(name, tensor);
    if (this.#float16 && isFloat16Weight(name, proto.dataType!)) {
      const half = float32ToFloat16(tensor.data as Float32Array);
      proto = {
        ...proto,
        name: `${name}${FLOAT16_SUFFIX}`,
        dataType: 10,
        rawData: new Uint8Array(half.buffer),
      };
      this.converted.add(proto.name!);
    }
    const raw = proto.rawData!;
    if (raw.byteLength < EXTERNAL_MIN_BYTES) {
      // Small constants stay inline: copy, so the caller's buffer is not kept alive.
      this.#stored.push({ proto: { ...proto, rawData: raw.slice() } });
      return;
    }
    const offset = alignedOffset(this.#size);
    if (offset > this.#size) this.#file.append(new Uint8Array(offset - this.#size));
    this.#file.append(raw);
    this.#size = offset + raw.byteLength;
    this.#stored.push({
      proto: { ...proto, rawData: null },
      external: { offset, length: raw.byteLength },
    });
  }

  /** Closes the data file; its tensors will point at `location` (relative to the model file). */
  close(location: string): void {
    if (!this.#closed) this.#file.close();
    this.#closed = true;
    this.#location = location;
  }

  initializers(): onnxProto.onnx.ITensorProto[] {
    const location = this.#location;
    if (location === undefined) throw new Error("the data file is still open");
    return this.#stored.map(({ proto, external }) =>
      external ? externalTensor(proto, location, external.offset, external.length) : proto
    );
  }
}
