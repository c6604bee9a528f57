/**
 * Reader for TensorFlow.js graph models (model.json + .bin weight shards).
 *
 * Produces plain typed data: GraphDef nodes with decoded attributes, and every Const as a typed array with
 * its shape. Input/output naming follows @tensorflow/tfjs-converter's GraphModel so that an exported model
 * is addressed by the same names as the tfjs one.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Element types a tfjs graph can hold at run time (tfjs itself computes DT_DOUBLE/DT_INT64 as float32/int32). */
export type TfDtype = 'float32' | 'int32' | 'bool' | 'uint8';
export type TfTypedArray = Float32Array | Int32Array | Uint8Array;

export interface TfTensor {
  readonly dtype: TfDtype;
  readonly shape: readonly number[];
  readonly data: TfTypedArray;
}

export type TfAttr =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'type'; readonly value: string }
  /** `dims` is null for unknown rank; unknown sizes are -1. */
  | { readonly kind: 'shape'; readonly dims: readonly number[] | null }
  | {
      readonly kind: 'list';
      readonly strings: readonly string[];
      readonly ints: readonly number[];
      readonly floats: readonly number[];
    }
  | { readonly kind: 'tensor' };

/** Reference to output `index` of node `node` (GraphDef's "node:index"). */
export interface TfTensorRef {
  readonly node: string;
  readonly index: number;
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  /** Data inputs only; control dependencies ("^node") carry no data and are dropped. */
  readonly inputs: readonly TfTensorRef[];
  readonly attrs: Readonly<Record<string, TfAttr>>;
}

/** A graph input or output as tfjs-converter's GraphModel names it (`inputNodes` / `outputNodes`). */
export interface TfEndpoint {
  readonly name: string;
  readonly tensor: TfTensorRef;
}

export interface TfGraph {
  readonly nodes: readonly TfNode[];
  /** Values of Const nodes, by node name. */
  readonly constants: ReadonlyMap<string, TfTensor>;
  readonly inputs: readonly TfEndpoint[];
  readonly outputs: readonly TfEndpoint[];
}

export class TfjsModelError extends Error {
  override readonly name = 'TfjsModelError';
}

type JsonRecord = { readonly [key: string]: unknown };

function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(obj: JsonRecord, key: string, where: string): unknown {
  const v = obj[key];
  if (v === undefined) throw new TfjsModelError(`${where}: missing '${key}'`);
  return v;
}

function asRecord(v: unknown, where: string): JsonRecord {
  if (!isRecord(v)) throw new TfjsModelError(`${where}: expected an object`);
  return v;
}

function asArray(v: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new TfjsModelError(`${where}: expected an array`);
  return v;
}

function asString(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new TfjsModelError(`${where}: expected a string`);
  return v;
}

function asNumber(v: unknown, where: string): number {
  // GraphDef JSON writes int64 values as decimal strings.
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new TfjsModelError(`${where}: expected a number`);
  return n;
}

/** Parse "node", "node:1" or "^node" (control input, returns null). */
export function parseTensorRef(ref: string): TfTensorRef | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1]!, index: Number(m[2]) } : { node: ref, index: 0 };
}

const decodeBase64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

function parseShapeDims(v: JsonRecord, where: string): readonly number[] | null {
  if (v.unknownRank === true) return null;
  const dims = v.dim === undefined ? [] : asArray(v.dim, where);
  return dims.map((d, i) => {
    const size = asRecord(d, `${where}.dim[${i}]`).size;
    return size === undefined ? 0 : asNumber(size, `${where}.dim[${i}].size`);
  });
}

function parseAttr(v: JsonRecord, where: string): TfAttr {
  if (v.s !== undefined) return { kind: 'string', value: decodeBase64(asString(v.s, where)) };
  if (v.i !== undefined) return { kind: 'int', value: asNumber(v.i, where) };
  if (v.f !== undefined) return { kind: 'float', value: asNumber(v.f, where) };
  if (v.b !== undefined) return { kind: 'bool', value: v.b === true };
  if (v.type !== undefined) return { kind: 'type', value: asString(v.type, where) };
  if (v.shape !== undefined) return { kind: 'shape', dims: parseShapeDims(asRecord(v.shape, where), where) };
  if (v.tensor !== undefined) return { kind: 'tensor' };
  if (v.list !== undefined) {
    const list = asRecord(v.list, where);
    const items = (key: string): readonly unknown[] =>
      list[key] === undefined ? [] : asArray(list[key], where);
    return {
      kind: 'list',
      strings: items('s').map((s) => decodeBase64(asString(s, where))),
      ints: items('i').map((i) => asNumber(i, where)),
      floats: items('f').map((f) => asNumber(f, where)),
    };
  }
  throw new TfjsModelError(`${where}: unsupported attribute encoding ${JSON.stringify(v)}`);
}

function parseNode(v: unknown, index: number): TfNode {
  const where = `modelTopology.node[${index}]`;
  const obj = asRecord(v, where);
  const name = asString(field(obj, 'name', where), `${where}.name`);
  const op = asString(field(obj, 'op', where), `${where}.op`);
  const inputs = (obj.input === undefined ? [] : asArray(obj.input, `${name}.input`))
    .map((i) => parseTensorRef(asString(i, `${name}.input`)))
    .filter((r): r is TfTensorRef => r !== null);
  const attrs: Record<string, TfAttr> = {};
  const rawAttrs = obj.attr === undefined ? {} : asRecord(obj.attr, `${name}.attr`);
  for (const key of Object.keys(rawAttrs).sort()) {
    attrs[key] = parseAttr(asRecord(rawAttrs[key], `${name}.attr.${key}`), `${name}.attr.${key}`);
  }
  return { name, op, inputs, attrs };
}

interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype: string; readonly scale: number; readonly min: number };
}

function parseWeightSpec(v: unknown, where: string): WeightSpec {
  const obj = asRecord(v, where);
  const spec = {
    name: asString(field(obj, 'name', where), `${where}.name`),
    shape: asArray(field(obj, 'shape', where), `${where}.shape`).map((d) => asNumber(d, `${where}.shape`)),
    dtype: asString(field(obj, 'dtype', where), `${where}.dtype`),
  };
  if (obj.quantization === undefined) return spec;
  const q = asRecord(obj.quantization, `${where}.quantization`);
  const qDtype = asString(field(q, 'dtype', where), `${where}.quantization.dtype`);
  return {
    ...spec,
    quantization: {
      dtype: qDtype,
      // float16 quantization carries no affine parameters.
      scale: q.scale === undefined ? 1 : asNumber(q.scale, `${where}.quantization.scale`),
      min: q.min === undefined ? 0 : asNumber(q.min, `${where}.quantization.min`),
    },
  };
}

/** IEEE 754 half precision to number (exact). */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const STORED_BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function storedBytesPerElement(spec: WeightSpec): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const bytes = STORED_BYTES[stored];
  if (bytes === undefined)
    throw new TfjsModelError(`weight '${spec.name}': unsupported storage dtype '${stored}'`);
  return bytes;
}

function decodeWeight(spec: WeightSpec, bytes: DataView): TfTensor {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  const read = (i: number): number => {
    switch (q?.dtype ?? spec.dtype) {
      case 'float32':
        return bytes.getFloat32(i * 4, true);
      case 'int32':
        return bytes.getInt32(i * 4, true);
      case 'float16':
        return float16ToNumber(bytes.getUint16(i * 2, true));
      case 'uint16':
        return bytes.getUint16(i * 2, true) * q!.scale + q!.min;
      default:
        return q ? bytes.getUint8(i) * q.scale + q.min : bytes.getUint8(i);
    }
  };
  const shape = [...spec.shape];
  switch (spec.dtype) {
    case 'float32':
      return { dtype: 'float32', shape, data: Float32Array.from({ length: count }, (_, i) => read(i)) };
    case 'int32':
      // tfjs rounds dequantized integers the same way.
      return {
        dtype: 'int32',
        shape,
        data: Int32Array.from({ length: count }, (_, i) => Math.round(read(i))),
      };
    case 'bool':
      return {
        dtype: 'bool',
        shape,
        data: Uint8Array.from({ length: count }, (_, i) => (read(i) !== 0 ? 1 : 0)),
      };
    default:
      throw new TfjsModelError(`weight '${spec.name}': unsupported dtype '${spec.dtype}'`);
  }
}

/** The tfjs `model.json` fields this reader uses, plus the weight shards of each manifest group in order. */
export interface TfjsArtifacts {
  readonly modelJson: unknown;
  /** `shards[g][k]` holds the bytes of `weightsManifest[g].paths[k]`. */
  readonly shards: readonly (readonly Uint8Array[])[];
}

/** Decodes the weights of a tfjs weights manifest (`weightsManifest` groups) from their shard bytes. */
export function decodeWeightsManifest(
  manifest: readonly unknown[],
  shards: readonly (readonly Uint8Array[])[],
): Map<string, TfTensor> {
  const constants = new Map<string, TfTensor>();
  manifest.forEach((group, g) => {
    const where = `weightsManifest[${g}]`;
    const groupShards = shards[g];
    if (groupShards === undefined) throw new TfjsModelError(`${where}: no shard data`);
    const total = groupShards.reduce((a, s) => a + s.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const s of groupShards) {
      data.set(s, at);
      at += s.length;
    }
    let offset = 0;
    asArray(field(asRecord(group, where), 'weights', where), `${where}.weights`).forEach((w, k) => {
      const spec = parseWeightSpec(w, `${where}.weights[${k}]`);
      const size = spec.shape.reduce((a, b) => a * b, 1) * storedBytesPerElement(spec);
      if (offset + size > total) {
        throw new TfjsModelError(`weight '${spec.name}' needs bytes ${offset}..${offset + size} of ${total}`);
      }
      constants.set(spec.name, decodeWeight(spec, new DataView(data.buffer, data.byteOffset + offset, size)));
      offset += size;
    });
    if (offset !== total)
      throw new TfjsModelError(`${where}: ${total - offset} trailing bytes in the shards`);
  });
  return constants;
}

function signatureEntries(signature: JsonRecord | undefined, key: 'inputs' | 'outputs'): TfEndpoint[] {
  const entries = signature?.[key];
  if (entries === undefined) return [];
  const obj = asRecord(entries, `signature.${key}`);
  return Object.keys(obj).map((visible) => {
    const tensorName = asString(asRecord(obj[visible], `signature.${key}.${visible}`).name, 'name');
    const tensor = parseTensorRef(tensorName);
    if (tensor === null) throw new TfjsModelError(`signature.${key}.${visible}: bad tensor '${tensorName}'`);
    return { name: visible, tensor };
  });
}

/**
 * Decode a tfjs graph model from its parsed model.json and shard bytes. Inputs and outputs follow
 * tfjs-converter: the signature's entries (keyed by signature key, in key order) when it has them, else
 * the Placeholders and the nodes nobody consumes (Consts excluded).
 */
export function parseTfjsGraphModel(artifacts: TfjsArtifacts): TfGraph {
  const json = asRecord(artifacts.modelJson, 'model.json');
  const format = json.format;
  if (format !== undefined && format !== 'graph-model') {
    throw new TfjsModelError(`model.json: format '${String(format)}' is not a graph model`);
  }
  const topology = asRecord(field(json, 'modelTopology', 'model.json'), 'modelTopology');
  const nodes = asArray(field(topology, 'node', 'modelTopology'), 'modelTopology.node').map(parseNode);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes) {
    for (const ref of n.inputs) {
      if (!byName.has(ref.node))
        throw new TfjsModelError(`node '${n.name}': input '${ref.node}' does not exist`);
    }
  }
  const manifest = asArray(field(json, 'weightsManifest', 'model.json'), 'weightsManifest');
  const constants = decodeWeightsManifest(manifest, artifacts.shards);
  for (const n of nodes) {
    if (n.op === 'Const' && !constants.has(n.name)) {
      throw new TfjsModelError(`Const '${n.name}' has no entry in weightsManifest`);
    }
  }

  // Like tfjs-converter, a signature in userDefinedMetadata takes precedence over the top-level one.
  const metadata =
    json.userDefinedMetadata === undefined ? {} : asRecord(json.userDefinedMetadata, 'metadata');
  const rawSignature = metadata.signature ?? json.signature;
  const signature = rawSignature === undefined ? undefined : asRecord(rawSignature, 'signature');
  let inputs = signatureEntries(signature, 'inputs');
  if (inputs.length === 0) {
    inputs = nodes
      .filter((n) => n.op === 'Placeholder')
      .map((n) => ({ name: n.name, tensor: { node: n.name, index: 0 } }));
  }
  let outputs = signatureEntries(signature, 'outputs');
  if (outputs.length === 0) {
    const consumed = new Set(nodes.flatMap((n) => n.inputs.map((r) => r.node)));
    outputs = nodes
      .filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder')
      .map((n) => ({ name: n.name, tensor: { node: n.name, index: 0 } }));
  }
  for (const e of [...inputs, ...outputs]) {
    if (!byName.has(e.tensor.node))
      throw new TfjsModelError(`signature names missing node '${e.tensor.node}'`);
  }
  return { nodes, constants, inputs, outputs };
}

/** Read model.json and the .bin shards it lists (paths relative to model.json). */
export async function readTfjsArtifacts(modelJsonPath: string): Promise<TfjsArtifacts> {
  const modelJson: unknown = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  const manifest = asArray(
    field(asRecord(modelJson, 'model.json'), 'weightsManifest', 'model.json'),
    'weightsManifest',
  );
  const dir = dirname(modelJsonPath);
  const shards = await Promise.all(
    manifest.map((group, g) =>
      Promise.all(
        asArray(field(asRecord(group, `weightsManifest[${g}]`), 'paths', 'group'), 'paths').map(
          async (p) => new Uint8Array(await readFile(resolve(dir, asString(p, 'path')))),
        ),
      ),
    ),
  );
  return { modelJson, shards };
}

/** Read and decode a tfjs graph model from the path of its model.json. */
export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfGraph> {
  return parseTfjsGraphModel(await readTfjsArtifacts(modelJsonPath));
}
