/**
 * Minimal, deterministic ONNX ModelProto serializer.
 *
 * Hand-written protobuf encoding of the subset of onnx.proto the exporter needs. Field numbers follow
 * onnx/onnx.proto (proto2): repeated scalars are written unpacked, as the reference serializer does.
 * Fields are always emitted in the same order, so equal models give byte-identical output.
 */

/** ONNX TensorProto.DataType values used by the exporter. */
export const OnnxDataType = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;
export type OnnxDataTypeName = keyof typeof OnnxDataType;

export type OnnxTensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataTypeName;
  readonly dims: readonly number[];
  readonly data: OnnxTensorData;
}

export type OnnxAttribute =
  | { readonly name: string; readonly kind: 'int'; readonly value: number }
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'string'; readonly value: string }
  | { readonly name: string; readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'tensor'; readonly value: OnnxTensor };

export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly OnnxAttribute[];
}

/** A dimension is a fixed size or a symbolic name. */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: OnnxDataTypeName;
  readonly shape: readonly OnnxDim[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly docString?: string;
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly graph: OnnxGraph;
}

export class OnnxEncodeError extends Error {
  override readonly name = 'OnnxEncodeError';
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Append-only protobuf byte writer; messages are nested by encoding them first, then writing bytes. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private readonly scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.scratch.length = 0;
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement, as protobuf requires.
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new OnnxEncodeError(`field ${field}: ${value} is not an integer`);
    }
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt(value));
  }

  float(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    const buf = new DataView(new ArrayBuffer(4));
    buf.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.scratch.push(buf.getUint8(i));
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(BigInt(value.length));
    this.flushScratch();
    this.chunks.push(value);
    this.length += value.length;
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, encode: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    encode(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Little-endian bytes of the tensor data, independent of the host's byte order. */
export function tensorRawBytes(data: OnnxTensorData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  } else if (data instanceof Int32Array) {
    for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i]!, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i]!, true);
  }
  return out;
}

const BYTES_PER_ELEMENT: Readonly<Record<OnnxDataTypeName, number>> = {
  float: 4,
  uint8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
};

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count || t.data.BYTES_PER_ELEMENT !== BYTES_PER_ELEMENT[t.dataType]) {
    throw new OnnxEncodeError(
      `tensor '${t.name}': ${t.data.length} ${t.data.constructor.name} elements do not match ${t.dataType}[${t.dims.join(',')}]`,
    );
  }
  for (const d of t.dims) w.int(1, d);
  w.int(2, OnnxDataType[t.dataType]);
  w.string(8, t.name);
  w.bytes(9, tensorRawBytes(t.data));
}

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (m) => writeTensor(m, a.value));
      break;
    case 'floats':
      for (const v of a.value) w.float(7, v);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      break;
  }
  w.int(20, ATTRIBUTE_TYPE[a.kind]);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  // TypeProto.tensor_type(1) -> Tensor{elem_type(1), shape(2) -> TensorShapeProto{dim(1)}}
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxDataType[v.elemType]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  if (g.docString !== undefined) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, (m) => writeValueInfo(m, i));
  for (const o of g.outputs) w.message(12, (m) => writeValueInfo(m, o));
}

/** Serialize a model to ONNX protobuf bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (m) => writeGraph(m, model.graph));
  // OperatorSetIdProto: domain(1) = '' (default ai.onnx), version(2)
  w.message(8, (m) => {
    m.string(1, '');
    m.int(2, model.opsetVersion);
  });
  return w.finish();
}
