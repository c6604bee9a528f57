/**
 * TensorFlow.js graph model -> ONNX (opset 13) converter.
 *
 * Shapes are static: every graph input gets a fixed shape (an unknown batch dimension becomes 1), which lets
 * shape arithmetic (Shape/StridedSlice/Pack...) fold into constants. Inputs and outputs keep TensorFlow's NHWC
 * layout and tfjs names; internally 4-D activations are moved to NCHW once, at the first layout-sensitive op,
 * and every value carries its layout so that transposes back to NHWC are only emitted where an op needs the
 * TensorFlow element order (Reshape, Slice, graph outputs...).
 */
import {
  encodeOnnxModel,
  type OnnxAttribute,
  OnnxDataType,
  type OnnxDataTypeName,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-writer.ts';
import {
  parseTensorRef,
  readTfjsGraphModel,
  type TfAttr,
  type TfDtype,
  type TfEndpoint,
  type TfGraph,
  type TfNode,
  type TfTensor,
  type TfTensorRef,
  type TfTypedArray,
} from './tfjs-graph.ts';

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 8;
const PRODUCER_NAME = 'nestor-tfjs-to-onnx';
const PRODUCER_VERSION = '1';

export interface ConvertOptions {
  /** Fixed shapes for graph inputs, by tfjs input name. Unset: the model's shape with an unknown batch of 1. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Tensors ("node" or "node:1") to export as outputs instead of the model's own, e.g. to cut before NMS. */
  readonly outputs?: readonly string[];
}

export class ConversionError extends Error {
  override readonly name: string = 'ConversionError';
}

export class UnsupportedOpError extends ConversionError {
  override readonly name = 'UnsupportedOpError';
  constructor(
    readonly op: string,
    readonly node: string,
    detail?: string,
  ) {
    super(`unsupported TensorFlow op '${op}' (node '${node}')${detail === undefined ? '' : `: ${detail}`}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tensor helpers (pure)

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}

function allocate(dtype: TfDtype, length: number): TfTypedArray {
  if (dtype === 'float32') return new Float32Array(length);
  if (dtype === 'int32') return new Int32Array(length);
  return new Uint8Array(length);
}

/** Round a real number to what a `dtype` element stores, as TensorFlow's casts do. */
function toDtype(value: number, dtype: TfDtype): number {
  if (dtype === 'float32') return Math.fround(value);
  if (dtype === 'bool') return value !== 0 ? 1 : 0;
  const truncated = Number.isFinite(value) ? Math.trunc(value) : 0;
  return dtype === 'int32' ? truncated | 0 : truncated & 0xff;
}

function makeTensor(dtype: TfDtype, shape: readonly number[], values: ArrayLike<number>): TfTensor {
  const data = allocate(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = toDtype(values[i]!, dtype);
  return { dtype, shape: [...shape], data };
}

/** Gather elements of `t` into `shape`, where `source(i)` gives the flat input index of output element i. */
function remap(t: TfTensor, shape: readonly number[], source: (outIndex: number[]) => number): TfTensor {
  const count = sizeOf(shape);
  const data = allocate(t.dtype, count);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    data[i] = t.data[source(index)]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return { dtype: t.dtype, shape: [...shape], data };
}

function transposeTensor(t: TfTensor, perm: readonly number[]): TfTensor {
  const inStrides = stridesOf(t.shape);
  const outShape = perm.map((p) => t.shape[p]!);
  return remap(t, outShape, (idx) => idx.reduce((acc, v, d) => acc + v * inStrides[perm[d]!]!, 0));
}

function reshapeTensor(t: TfTensor, shape: readonly number[]): TfTensor {
  return { dtype: t.dtype, shape: [...shape], data: t.data };
}

function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ConversionError(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastTensor(t: TfTensor, shape: readonly number[]): TfTensor {
  const offset = shape.length - t.shape.length;
  const strides = stridesOf(t.shape);
  return remap(t, shape, (idx) =>
    t.shape.reduce((acc, size, d) => acc + (size === 1 ? 0 : idx[d + offset]! * strides[d]!), 0),
  );
}

function concatTensors(parts: readonly TfTensor[], axis: number): TfTensor {
  const first = parts[0]!;
  const shape = [...first.shape];
  shape[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
  const outer = sizeOf(first.shape.slice(0, axis));
  const data = allocate(first.dtype, sizeOf(shape));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = sizeOf(p.shape.slice(axis));
      data.set(p.data.subarray(o * block, (o + 1) * block), at);
      at += block;
    }
  }
  return { dtype: first.dtype, shape, data };
}

/** Insert size-1 axes in front so that `t` has rank `rank` (numpy broadcasting alignment). */
function expandRank(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(Math.max(rank - shape.length, 0)).fill(1), ...shape];
}

const normalizeAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function scalarOf(t: TfTensor, what: string): number {
  if (t.data.length !== 1)
    throw new ConversionError(`${what} must be a scalar, got shape [${t.shape.join(',')}]`);
  return t.data[0]!;
}

const intsOf = (t: TfTensor): number[] => Array.from(t.data);

// ---------------------------------------------------------------------------------------------------------
// Padding arithmetic

/** TensorFlow 'SAME' padding for one spatial dimension: [before, after]; the odd pixel goes after. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Output size of a convolution/pool window over an explicitly padded dimension. */
function windowOutputSize(inSize: number, kernel: number, stride: number, dilation: number, pads: number) {
  return Math.floor((inSize + pads - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

// ---------------------------------------------------------------------------------------------------------
// Attributes

function attr(node: TfNode, key: string): TfAttr | undefined {
  return node.attrs[key];
}

function attrString(node: TfNode, key: string, fallback?: string): string {
  const a = attr(node, key);
  if (a?.kind === 'string') return a.value;
  if (a === undefined && fallback !== undefined) return fallback;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is missing or not a string`);
}

function attrInt(node: TfNode, key: string, fallback: number): number {
  const a = attr(node, key);
  if (a === undefined) return fallback;
  if (a.kind === 'int') return a.value;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is not an int`);
}

function attrFloat(node: TfNode, key: string, fallback: number): number {
  const a = attr(node, key);
  if (a === undefined) return fallback;
  if (a.kind === 'float' || a.kind === 'int') return a.value;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is not a float`);
}

function attrBool(node: TfNode, key: string, fallback: boolean): boolean {
  const a = attr(node, key);
  if (a === undefined) return fallback;
  if (a.kind === 'bool') return a.value;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is not a bool`);
}

function attrInts(node: TfNode, key: string, fallback: readonly number[]): readonly number[] {
  const a = attr(node, key);
  if (a === undefined) return fallback;
  if (a.kind === 'list') return a.ints;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is not a list`);
}

function attrStrings(node: TfNode, key: string): readonly string[] {
  const a = attr(node, key);
  if (a === undefined) return [];
  if (a.kind === 'list') return a.strings;
  throw new ConversionError(`node '${node.name}': attribute '${key}' is not a list`);
}

/** TensorFlow DataType name -> element type as tfjs computes it. */
function tfDtypeOf(type: string, where: string): TfDtype {
  switch (type) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE':
    case 'DT_HALF':
      return 'float32';
    case 'DT_INT32':
    case 'DT_INT64':
    case 'DT_INT16':
    case 'DT_INT8':
      return 'int32';
    case 'DT_UINT8':
      return 'uint8';
    case 'DT_BOOL':
      return 'bool';
    default:
      throw new ConversionError(`${where}: unsupported data type ${type}`);
  }
}

function attrDtype(node: TfNode, key: string): TfDtype {
  const a = attr(node, key);
  if (a?.kind !== 'type') throw new ConversionError(`node '${node.name}': attribute '${key}' is not a type`);
  return tfDtypeOf(a.value, `node '${node.name}'`);
}

const ONNX_TYPE: Readonly<Record<TfDtype, OnnxDataTypeName>> = {
  float32: 'float',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
};

// ---------------------------------------------------------------------------------------------------------
// Graph preparation (pure)

const CONV_OPS = new Set(['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);

/**
 * Fold zero-valued spatial Pad nodes into the following VALID/EXPLICIT convolutions as explicit padding
 * (Keras' ZeroPadding2D + VALID conv, as MediaPipe models are built). The Pad node is left in the graph for
 * any other consumer and pruned when nobody needs it.
 */
function foldPadsIntoConvolutions(graph: TfGraph): TfGraph {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const zeroSpatialPads = (ref: TfTensorRef): { source: TfTensorRef; pads: number[] } | null => {
    const pad = byName.get(ref.node);
    if (ref.index !== 0 || (pad?.op !== 'Pad' && pad?.op !== 'PadV2')) return null;
    const paddings = graph.constants.get(pad.inputs[1]?.node ?? '');
    if (paddings === undefined || paddings.shape.join() !== '4,2') return null;
    if (pad.op === 'PadV2') {
      const value = graph.constants.get(pad.inputs[2]?.node ?? '');
      if (value === undefined || value.data.length !== 1 || value.data[0] !== 0) return null;
    }
    const p = intsOf(paddings);
    if (p[0] !== 0 || p[1] !== 0 || p[6] !== 0 || p[7] !== 0 || p.some((v) => v < 0)) return null;
    return { source: pad.inputs[0]!, pads: p };
  };
  const nodes = graph.nodes.map((node): TfNode => {
    if (!CONV_OPS.has(node.op)) return node;
    const padding = attrString(node, 'padding');
    if (padding !== 'VALID' && padding !== 'EXPLICIT') return node;
    const folded = zeroSpatialPads(node.inputs[0]!);
    if (folded === null) return node;
    const explicit =
      padding === 'EXPLICIT' ? attrInts(node, 'explicit_paddings', []) : [0, 0, 0, 0, 0, 0, 0, 0];
    return {
      ...node,
      inputs: [folded.source, ...node.inputs.slice(1)],
      attrs: {
        ...node.attrs,
        padding: { kind: 'string', value: 'EXPLICIT' },
        explicit_paddings: {
          kind: 'list',
          strings: [],
          ints: explicit.map((v, i) => v + folded.pads[i]!),
          floats: [],
        },
      },
    };
  });
  return { ...graph, nodes };
}

/** Names of the nodes `targets` depend on (cycles allowed). */
function reachableFrom(byName: ReadonlyMap<string, TfNode>, targets: readonly string[]): TfNode[] {
  const seen = new Set<string>();
  const found: TfNode[] = [];
  const pending = [...targets];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const node = byName.get(name);
    if (node === undefined) throw new ConversionError(`no node named '${name}'`);
    found.push(node);
    for (const ref of node.inputs) pending.push(ref.node);
  }
  return found;
}

/** Nodes needed for `targets`, dependencies first, in a deterministic order. */
function executionOrder(byName: ReadonlyMap<string, TfNode>, targets: readonly string[]): TfNode[] {
  const order: TfNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const target of targets) {
    const stack: { node: TfNode; next: number }[] = [];
    const enter = (name: string): void => {
      const s = state.get(name);
      if (s === 'done') return;
      if (s === 'visiting') throw new ConversionError(`graph has a cycle through '${name}'`);
      state.set(name, 'visiting');
      stack.push({ node: byName.get(name)!, next: 0 });
    };
    enter(target);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const input = top.node.inputs[top.next++];
      if (input !== undefined) {
        enter(input.node);
      } else {
        stack.pop();
        state.set(top.node.name, 'done');
        order.push(top.node);
      }
    }
  }
  return order;
}

// ---------------------------------------------------------------------------------------------------------
// Values and the ONNX graph under construction

/** 'tf': TensorFlow's own element order. 'nchw': a 4-D NHWC tensor stored transposed by [0, 3, 1, 2]. */
type Layout = 'tf' | 'nchw';
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
/** Where logical NHWC axis `a` lives in an 'nchw' tensor. */
const NCHW_POSITION = [0, 2, 3, 1];

interface RuntimeValue {
  readonly kind: 'runtime';
  readonly name: string;
  readonly dtype: TfDtype;
  /** Logical (TensorFlow) shape, whatever the layout. */
  readonly shape: readonly number[];
  readonly layout: Layout;
}

interface ConstValue {
  readonly kind: 'const';
  readonly tensor: TfTensor;
  /** Name used for its initializer. */
  readonly label: string;
}

type Value = RuntimeValue | ConstValue;

const shapeOf = (v: Value): readonly number[] => (v.kind === 'const' ? v.tensor.shape : v.shape);
const dtypeOf = (v: Value): TfDtype => (v.kind === 'const' ? v.tensor.dtype : v.dtype);

/** Physical shape of a logical shape stored in `layout`. */
function physicalShape(shape: readonly number[], layout: Layout): number[] {
  return layout === 'nchw' ? TO_NCHW.map((p) => shape[p]!) : [...shape];
}

/** A constant rearranged to broadcast against 'nchw' tensors the way it broadcast against NHWC ones. */
function constForLayout(t: TfTensor, layout: Layout): TfTensor {
  if (layout === 'tf' || t.shape.length === 0) return t;
  if (t.shape.length > 4) throw new ConversionError(`a rank-${t.shape.length} constant cannot join a 4-D op`);
  return transposeTensor(reshapeTensor(t, expandRank(t.shape, 4)), TO_NCHW);
}

class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();
  private readonly constNames = new WeakMap<TfTensor, Map<Layout, string>>();
  private readonly transposed = new Map<string, RuntimeValue>();

  constructor(reserved: Iterable<string>) {
    for (const name of reserved) this.used.add(name);
  }

  /** A tensor name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  add(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: OnnxAttribute[] = [],
  ) {
    const names = outputs.map((o) => this.fresh(o));
    this.nodes.push({ opType, name: names[0]!, inputs, outputs: names, attributes });
    return names;
  }

  add1(opType: string, inputs: readonly string[], output: string, attributes: OnnxAttribute[] = []): string {
    return this.add(opType, inputs, [output], attributes)[0]!;
  }

  initializer(
    base: string,
    dataType: OnnxDataTypeName,
    dims: readonly number[],
    data: OnnxTensor['data'],
  ): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dataType, dims: [...dims], data });
    return name;
  }

  int64s(base: string, values: readonly number[]): string {
    return this.initializer(
      base,
      'int64',
      [values.length],
      BigInt64Array.from(values, (v) => BigInt(v)),
    );
  }

  scalar(base: string, dtype: TfDtype, value: number): string {
    return this.initializer(base, ONNX_TYPE[dtype], [], makeTensor(dtype, [], [value]).data);
  }

  /** Initializer for a constant, in `layout`, created once per constant and layout. */
  constant(v: ConstValue, layout: Layout): string {
    let byLayout = this.constNames.get(v.tensor);
    if (byLayout === undefined) {
      byLayout = new Map();
      this.constNames.set(v.tensor, byLayout);
    }
    const cached = byLayout.get(layout);
    if (cached !== undefined) return cached;
    const t = constForLayout(v.tensor, layout);
    const name = this.initializer(
      layout === 'tf' ? v.label : `${v.label}/nchw`,
      ONNX_TYPE[t.dtype],
      t.shape,
      t.data,
    );
    byLayout.set(layout, name);
    return name;
  }

  /** The runtime value in `layout` (a no-op unless it is 4-D and stored differently). */
  toLayout(v: RuntimeValue, layout: Layout): RuntimeValue {
    if (v.layout === layout || v.shape.length !== 4) return v;
    const key = `${v.name}\n${layout}`;
    const cached = this.transposed.get(key);
    if (cached !== undefined) return cached;
    const perm = layout === 'nchw' ? TO_NCHW : TO_NHWC;
    const name = this.add1('Transpose', [v.name], `${v.name}/${layout === 'nchw' ? 'nchw' : 'nhwc'}`, [
      { name: 'perm', kind: 'ints', value: perm },
    ]);
    const out: RuntimeValue = { ...v, name, layout };
    this.transposed.set(key, out);
    return out;
  }

  /** Name of `v` stored in `layout`: constants become initializers, 4-D runtime values get transposed. */
  input(v: Value, layout: Layout): string {
    return v.kind === 'const' ? this.constant(v, layout) : this.toLayout(v, layout).name;
  }

  /** Copy `from` into a tensor with the exact name `to` (a reserved graph output name). */
  identity(from: string, to: string): void {
    this.nodes.push({ opType: 'Identity', name: to, inputs: [from], outputs: [to], attributes: [] });
  }

  /** Rename tensor `from` to `to` everywhere (used to give graph outputs their tfjs names). */
  rename(from: string, to: string): void {
    this.nodes.forEach((n, i) => {
      if (!n.inputs.includes(from) && !n.outputs.includes(from)) return;
      const swap = (names: readonly string[]) => names.map((x) => (x === from ? to : x));
      this.nodes[i] = {
        ...n,
        name: n.name === from ? to : n.name,
        inputs: swap(n.inputs),
        outputs: swap(n.outputs),
      };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Op conversion

interface OpContext {
  readonly node: TfNode;
  readonly inputs: readonly Value[];
  readonly g: OnnxGraphBuilder;
}

type Emit = (ctx: OpContext) => Value[];
type Fold = (node: TfNode, inputs: readonly TfTensor[]) => TfTensor[];

interface OpDef {
  /** Evaluate at conversion time when every input is constant. */
  readonly fold?: Fold;
  /** Emit ONNX nodes; absent for ops that only exist as constant computations. */
  readonly emit?: Emit;
}

function input(ctx: OpContext, i: number): Value {
  const v = ctx.inputs[i];
  if (v === undefined) throw new ConversionError(`node '${ctx.node.name}' has no input ${i}`);
  return v;
}

function constInput(ctx: OpContext, i: number, what: string): TfTensor {
  const v = input(ctx, i);
  if (v.kind !== 'const') {
    throw new ConversionError(`node '${ctx.node.name}' (${ctx.node.op}): ${what} must be a constant`);
  }
  return v.tensor;
}

function runtime(
  name: string,
  dtype: TfDtype,
  shape: readonly number[],
  layout: Layout = 'tf',
): RuntimeValue {
  return { kind: 'runtime', name, dtype, shape: [...shape], layout: shape.length === 4 ? layout : 'tf' };
}

// --- element-wise ops

interface ElementwiseOp {
  readonly onnx: string;
  /** Exact result; rounded to the output dtype afterwards. */
  readonly fold: (a: number, b: number) => number;
  /** int32 variant where the double result would lose the wrap-around (Mul). */
  readonly foldInt?: (a: number, b: number) => number;
  readonly bool?: true;
}

const BINARY_OPS: Readonly<Record<string, ElementwiseOp>> = {
  Add: { onnx: 'Add', fold: (a, b) => a + b },
  AddV2: { onnx: 'Add', fold: (a, b) => a + b },
  BiasAdd: { onnx: 'Add', fold: (a, b) => a + b },
  Sub: { onnx: 'Sub', fold: (a, b) => a - b },
  Mul: { onnx: 'Mul', fold: (a, b) => a * b, foldInt: (a, b) => Math.imul(a, b) },
  RealDiv: { onnx: 'Div', fold: (a, b) => a / b },
  Maximum: { onnx: 'Max', fold: (a, b) => Math.max(a, b) },
  Minimum: { onnx: 'Min', fold: (a, b) => Math.min(a, b) },
  Pow: { onnx: 'Pow', fold: (a, b) => a ** b },
  FloorDiv: { onnx: 'FloorDiv', fold: (a, b) => Math.floor(a / b) },
  FloorMod: { onnx: 'FloorMod', fold: (a, b) => a - Math.floor(a / b) * b },
  SquaredDifference: { onnx: 'SquaredDifference', fold: (a, b) => (a - b) * (a - b) },
  Equal: { onnx: 'Equal', fold: (a, b) => Number(a === b), bool: true },
  NotEqual: { onnx: 'NotEqual', fold: (a, b) => Number(a !== b), bool: true },
  Less: { onnx: 'Less', fold: (a, b) => Number(a < b), bool: true },
  LessEqual: { onnx: 'LessOrEqual', fold: (a, b) => Number(a <= b), bool: true },
  Greater: { onnx: 'Greater', fold: (a, b) => Number(a > b), bool: true },
  GreaterEqual: { onnx: 'GreaterOrEqual', fold: (a, b) => Number(a >= b), bool: true },
  LogicalAnd: { onnx: 'And', fold: (a, b) => Number(a !== 0 && b !== 0), bool: true },
  LogicalOr: { onnx: 'Or', fold: (a, b) => Number(a !== 0 || b !== 0), bool: true },
};

function foldBinary(op: ElementwiseOp, a: TfTensor, b: TfTensor): TfTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const x = broadcastTensor(a, shape);
  const y = broadcastTensor(b, shape);
  const dtype = op.bool ? 'bool' : a.dtype;
  const fn = a.dtype === 'int32' && op.foldInt ? op.foldInt : op.fold;
  return makeTensor(
    dtype,
    shape,
    Array.from(x.data, (v, i) => fn(v, y.data[i]!)),
  );
}

/**
 * Pick one layout for the operands of an element-wise op: NCHW when a 4-D operand already is, and every
 * other operand can follow (runtime operands 4-D, constants of rank <= 4); TensorFlow's layout otherwise.
 */
function commonLayout(values: readonly Value[], outRank: number): Layout {
  if (outRank !== 4) return 'tf';
  const runtimes = values.filter((v): v is RuntimeValue => v.kind === 'runtime');
  const nchw = runtimes.some((v) => v.layout === 'nchw');
  const fits = values.every((v) =>
    v.kind === 'runtime' ? v.shape.length === 4 : v.tensor.shape.length <= 4,
  );
  return nchw && fits ? 'nchw' : 'tf';
}

function emitBinary(ctx: OpContext, op: ElementwiseOp): Value[] {
  const { g, node } = ctx;
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const shape = broadcastShapes(shapeOf(a), shapeOf(b));
  const layout = commonLayout([a, b], shape.length);
  const x = g.input(a, layout);
  const y = g.input(b, layout);
  const dtype = dtypeOf(a);
  const outDtype: TfDtype = op.bool ? 'bool' : dtype;
  const isFloat = dtype === 'float32';
  let name: string;
  switch (op.onnx) {
    case 'FloorDiv':
      if (isFloat) {
        name = g.add1('Floor', [g.add1('Div', [x, y], `${node.name}/div`)], node.name);
      } else {
        // Integer floor division: (a - floormod(a, b)) / b is exact, so Div's truncation cannot bite.
        const mod = g.add1('Mod', [x, y], `${node.name}/mod`, [{ name: 'fmod', kind: 'int', value: 0 }]);
        name = g.add1('Div', [g.add1('Sub', [x, mod], `${node.name}/sub`), y], node.name);
      }
      break;
    case 'FloorMod':
      if (isFloat) {
        const q = g.add1('Floor', [g.add1('Div', [x, y], `${node.name}/div`)], `${node.name}/floor`);
        name = g.add1('Sub', [x, g.add1('Mul', [q, y], `${node.name}/mul`)], node.name);
      } else {
        name = g.add1('Mod', [x, y], node.name, [{ name: 'fmod', kind: 'int', value: 0 }]);
      }
      break;
    case 'SquaredDifference': {
      const d = g.add1('Sub', [x, y], `${node.name}/sub`);
      name = g.add1('Mul', [d, d], node.name);
      break;
    }
    case 'NotEqual':
      name = g.add1('Not', [g.add1('Equal', [x, y], `${node.name}/equal`)], node.name);
      break;
    default:
      name = g.add1(op.onnx, [x, y], node.name);
  }
  return [runtime(name, outDtype, shape, layout)];
}

function emitVariadic(onnx: string): Emit {
  return (ctx) => {
    const shape = ctx.inputs.map(shapeOf).reduce((a, b) => broadcastShapes(a, b));
    const layout = commonLayout(ctx.inputs, shape.length);
    const names = ctx.inputs.map((v) => ctx.g.input(v, layout));
    return [runtime(ctx.g.add1(onnx, names, ctx.node.name), dtypeOf(input(ctx, 0)), shape, layout)];
  };
}

interface UnaryOp {
  readonly fold?: (x: number) => number;
  /** Emit given the input name; returns the output name. */
  readonly emit: (g: OnnxGraphBuilder, node: TfNode, x: string, dtype: TfDtype) => string;
}

const simpleUnary =
  (onnx: string, attributes: (node: TfNode) => OnnxAttribute[] = () => []): UnaryOp['emit'] =>
  (g, node, x) =>
    g.add1(onnx, [x], node.name, attributes(node));

const clip = (g: OnnxGraphBuilder, node: TfNode, x: string, low: number, high: number): string =>
  g.add1(
    'Clip',
    [x, g.scalar(`${node.name}/min`, 'float32', low), g.scalar(`${node.name}/max`, 'float32', high)],
    node.name,
  );

const UNARY_OPS: Readonly<Record<string, UnaryOp>> = {
  Relu: { fold: (x) => Math.max(x, 0), emit: simpleUnary('Relu') },
  Relu6: { fold: (x) => Math.min(Math.max(x, 0), 6), emit: (g, node, x) => clip(g, node, x, 0, 6) },
  Sigmoid: { fold: (x) => 1 / (1 + Math.exp(-x)), emit: simpleUnary('Sigmoid') },
  Tanh: { fold: Math.tanh, emit: simpleUnary('Tanh') },
  Exp: { fold: Math.exp, emit: simpleUnary('Exp') },
  Log: { fold: Math.log, emit: simpleUnary('Log') },
  Neg: { fold: (x) => -x, emit: simpleUnary('Neg') },
  Abs: { fold: Math.abs, emit: simpleUnary('Abs') },
  Sqrt: { fold: Math.sqrt, emit: simpleUnary('Sqrt') },
  Reciprocal: { fold: (x) => 1 / x, emit: simpleUnary('Reciprocal') },
  Floor: { fold: Math.floor, emit: simpleUnary('Floor') },
  Ceil: { fold: Math.ceil, emit: simpleUnary('Ceil') },
  Elu: { emit: simpleUnary('Elu') },
  Softplus: { emit: simpleUnary('Softplus') },
  LogicalNot: { fold: (x) => Number(x === 0), emit: simpleUnary('Not') },
  Rsqrt: {
    fold: (x) => 1 / Math.sqrt(x),
    emit: (g, node, x) => g.add1('Reciprocal', [g.add1('Sqrt', [x], `${node.name}/sqrt`)], node.name),
  },
  Square: { fold: (x) => x * x, emit: (g, node, x) => g.add1('Mul', [x, x], node.name) },
  LeakyRelu: {
    emit: simpleUnary('LeakyRelu', (node) => [
      { name: 'alpha', kind: 'float', value: attrFloat(node, 'alpha', 0.2) },
    ]),
  },
};

function emitUnary(op: UnaryOp): Emit {
  return (ctx) => {
    const x = input(ctx, 0);
    const layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
    const name = op.emit(ctx.g, ctx.node, ctx.g.input(x, layout), dtypeOf(x));
    const dtype: TfDtype = ctx.node.op === 'LogicalNot' ? 'bool' : dtypeOf(x);
    return [runtime(name, dtype, shapeOf(x), layout)];
  };
}

function foldUnary(op: UnaryOp): Fold | undefined {
  const fn = op.fold;
  if (fn === undefined) return undefined;
  return (_node, [x]) => [makeTensor(x!.dtype, x!.shape, Array.from(x!.data, fn))];
}

// --- convolutions and pooling

/** Window geometry of a 2-D conv/pool over an NHWC input: ONNX pads [top, left, bottom, right]. */
interface Window {
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pads: [number, number, number, number];
  readonly outHW: [number, number];
}

function nhwcPair(values: readonly number[], what: string, node: TfNode): [number, number] {
  if (values.length !== 4 || values[0] !== 1 || values[3] !== 1) {
    throw new ConversionError(`node '${node.name}': ${what} [${values.join(',')}] must be [1, h, w, 1]`);
  }
  return [values[1]!, values[2]!];
}

function windowOf(node: TfNode, inShape: readonly number[], kernel: [number, number]): Window {
  if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') {
    throw new UnsupportedOpError(node.op, node.name, 'only data_format NHWC is supported');
  }
  const strides = nhwcPair(attrInts(node, 'strides', [1, 1, 1, 1]), 'strides', node);
  const dilations = nhwcPair(attrInts(node, 'dilations', [1, 1, 1, 1]), 'dilations', node);
  const [h, w] = [inShape[1]!, inShape[2]!];
  const padding = attrString(node, 'padding');
  let pads: [number, number, number, number];
  if (padding === 'SAME') {
    const [top, bottom] = samePadding(h, kernel[0], strides[0], dilations[0]);
    const [left, right] = samePadding(w, kernel[1], strides[1], dilations[1]);
    pads = [top, left, bottom, right];
  } else if (padding === 'VALID') {
    pads = [0, 0, 0, 0];
  } else if (padding === 'EXPLICIT') {
    const e = attrInts(node, 'explicit_paddings', []);
    if (e.length !== 8) throw new ConversionError(`node '${node.name}': explicit_paddings needs 8 values`);
    pads = [e[2]!, e[4]!, e[3]!, e[5]!];
  } else {
    throw new UnsupportedOpError(node.op, node.name, `padding '${padding}'`);
  }
  const outHW: [number, number] = [
    windowOutputSize(h, kernel[0], strides[0], dilations[0], pads[0] + pads[2]),
    windowOutputSize(w, kernel[1], strides[1], dilations[1], pads[1] + pads[3]),
  ];
  return { kernel, strides, dilations, pads, outHW };
}

const windowAttributes = (w: Window, withDilations: boolean): OnnxAttribute[] => [
  { name: 'kernel_shape', kind: 'ints', value: w.kernel },
  { name: 'strides', kind: 'ints', value: w.strides },
  { name: 'pads', kind: 'ints', value: w.pads },
  ...(withDilations ? [{ name: 'dilations', kind: 'ints', value: w.dilations } as const] : []),
];

/** TF filter -> ONNX OIHW weights. Conv2D: [kh, kw, in, out]. Depthwise: [kh, kw, in, multiplier]. */
function onnxConvWeights(filter: TfTensor, depthwise: boolean): TfTensor {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  if (!depthwise) return transposeTensor(filter, [3, 2, 0, 1]);
  // Depthwise output channel c * multiplier + m is ONNX group c's output m, with one input channel per group.
  return reshapeTensor(transposeTensor(filter, [2, 3, 0, 1]), [cin * cout, 1, kh, kw]);
}

/** Activation fused into _FusedConv2D / FusedDepthwiseConv2dNative, applied to an NCHW tensor. */
function emitFusedActivation(
  ctx: OpContext,
  activation: string | undefined,
  x: string,
  alpha: Value | undefined,
): string {
  const { g, node } = ctx;
  switch (activation) {
    case undefined:
      return x;
    case 'Relu':
      return g.add1('Relu', [x], node.name);
    case 'Relu6':
      return clip(g, node, x, 0, 6);
    case 'Elu':
      return g.add1('Elu', [x], node.name);
    case 'Sigmoid':
      return g.add1('Sigmoid', [x], node.name);
    case 'LeakyRelu':
      return g.add1('LeakyRelu', [x], node.name, [
        { name: 'alpha', kind: 'float', value: attrFloat(node, 'leakyrelu_alpha', 0.2) },
      ]);
    case 'Prelu':
      if (alpha === undefined)
        throw new ConversionError(`node '${node.name}': Prelu needs an alpha argument`);
      return g.add1('PRelu', [x, g.input(alpha, 'nchw')], node.name);
    default:
      throw new UnsupportedOpError(node.op, node.name, `fused activation '${activation}'`);
  }
}

function emitConvolution(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const depthwise = node.op.includes('Depthwise');
  const x = input(ctx, 0);
  const filter = constInput(ctx, 1, 'the filter');
  const inShape = shapeOf(x);
  if (inShape.length !== 4 || filter.shape.length !== 4) {
    throw new ConversionError(`node '${node.name}': expected a 4-D input and filter`);
  }
  const [kh, kw, cinFilter, coutOrMultiplier] = filter.shape as [number, number, number, number];
  const cin = inShape[3]!;
  const group = depthwise ? cin : cin / cinFilter;
  if (!Number.isInteger(group) || (depthwise && cinFilter !== cin)) {
    throw new ConversionError(`node '${node.name}': filter channels ${cinFilter} do not divide input ${cin}`);
  }
  const cout = depthwise ? cin * coutOrMultiplier : coutOrMultiplier;
  const window = windowOf(node, inShape, [kh, kw]);

  // tfjs semantics: fused_ops = [BiasAdd?, activation?]; args = [bias?, prelu alpha?].
  const fused = attrStrings(node, 'fused_ops');
  const args = ctx.inputs.slice(2);
  const hasBias = fused[0] === 'BiasAdd';
  const activation = hasBias ? fused[1] : fused[0];
  if (fused.length > (hasBias ? 2 : 1)) {
    throw new UnsupportedOpError(node.op, node.name, `fused_ops [${fused.join(', ')}]`);
  }
  const bias = hasBias ? args[0] : undefined;
  const alpha = hasBias ? args[1] : args[0];

  const weights: ConstValue = {
    kind: 'const',
    tensor: onnxConvWeights(filter, depthwise),
    label: `${node.inputs[1]!.node}/oihw`,
  };
  const convInputs = [g.input(x, 'nchw'), g.constant(weights, 'tf')];
  if (bias !== undefined) {
    if (bias.kind !== 'const') throw new ConversionError(`node '${node.name}': the bias must be a constant`);
    convInputs.push(g.constant(bias, 'tf'));
  }
  const conv = g.add1('Conv', convInputs, activation === undefined ? node.name : `${node.name}/conv`, [
    ...windowAttributes(window, true),
    { name: 'group', kind: 'int', value: group },
  ]);
  const out = emitFusedActivation(ctx, activation, conv, alpha);
  return [runtime(out, 'float32', [inShape[0]!, ...window.outHW, cout], 'nchw')];
}

function emitPool(onnx: 'MaxPool' | 'AveragePool'): Emit {
  return (ctx) => {
    const { g, node } = ctx;
    const x = input(ctx, 0);
    const inShape = shapeOf(x);
    const window = windowOf(node, inShape, nhwcPair(attrInts(node, 'ksize', []), 'ksize', node));
    // TF averages over valid pixels only, which is ONNX's count_include_pad = 0 (the default).
    const name = g.add1(onnx, [g.input(x, 'nchw')], node.name, windowAttributes(window, false));
    return [runtime(name, dtypeOf(x), [inShape[0]!, ...window.outHW, inShape[3]!], 'nchw')];
  };
}

// --- layout-sensitive tensor ops

function outputShapeOfReshape(
  node: TfNode,
  inShape: readonly number[],
  requested: readonly number[],
): number[] {
  const known = requested.filter((d) => d !== -1);
  const total = sizeOf(inShape);
  const shape = requested.map((d) => (d === -1 ? total / sizeOf(known) : d));
  if (
    requested.filter((d) => d === -1).length > 1 ||
    sizeOf(shape) !== total ||
    !shape.every(Number.isInteger)
  ) {
    throw new ConversionError(
      `node '${node.name}': cannot reshape [${inShape.join(',')}] to [${requested.join(',')}]`,
    );
  }
  return shape;
}

/** Reshape a runtime value (in TF element order) to a static shape. */
function emitReshapeTo(
  ctx: OpContext,
  x: Value,
  shape: readonly number[],
  name = ctx.node.name,
): RuntimeValue {
  const { g } = ctx;
  const source = g.input(x, 'tf');
  if (shapeOf(x).join() === shape.join() && x.kind === 'runtime') return runtime(source, x.dtype, shape);
  const out = g.add1('Reshape', [source, g.int64s(`${name}/shape`, shape)], name);
  return runtime(out, dtypeOf(x), shape);
}

function squeezedShape(node: TfNode, shape: readonly number[]): number[] {
  const dims = attrInts(node, 'squeeze_dims', attrInts(node, 'axis', [])).map((d) =>
    normalizeAxis(d, shape.length),
  );
  return shape.filter((size, i) => (dims.length === 0 ? size !== 1 : !dims.includes(i)));
}

function expandedShape(shape: readonly number[], axisTensor: TfTensor): number[] {
  const axis = normalizeAxis(scalarOf(axisTensor, 'ExpandDims axis'), shape.length + 1);
  return [...shape.slice(0, axis), 1, ...shape.slice(axis)];
}

interface SliceDim {
  readonly start: number;
  readonly stop: number;
  readonly step: number;
  readonly length: number;
}

/** Resolve TF StridedSlice (with all its masks) into one slice per input dim plus the final output shape. */
export function resolveStridedSlice(
  shape: readonly number[],
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: { begin: number; end: number; ellipsis: number; newAxis: number; shrinkAxis: number },
): { dims: SliceDim[]; outShape: number[] } {
  const bit = (mask: number, i: number): boolean => ((mask >> i) & 1) === 1;
  const dims: SliceDim[] = [];
  const outShape: number[] = [];
  const full = (size: number) => ({ start: 0, stop: size, step: 1, length: size });
  let d = 0;
  for (let i = 0; i < begin.length; i++) {
    if (bit(masks.ellipsis, i)) {
      let after = 0;
      for (let j = i + 1; j < begin.length; j++) if (!bit(masks.newAxis, j)) after++;
      while (d < shape.length - after) {
        dims.push(full(shape[d]!));
        outShape.push(shape[d++]!);
      }
      continue;
    }
    if (bit(masks.newAxis, i)) {
      outShape.push(1);
      continue;
    }
    const size = shape[d++];
    const step = strides[i] ?? 1;
    if (size === undefined)
      throw new ConversionError(`strided slice has more dims than the input's ${shape.length}`);
    if (step === 0) throw new ConversionError('strided slice with stride 0');
    if (bit(masks.shrinkAxis, i)) {
      const index = normalizeAxis(begin[i]!, size);
      if (index < 0 || index >= size)
        throw new ConversionError(`strided slice index ${begin[i]} out of [0, ${size})`);
      dims.push({ start: index, stop: index + 1, step: 1, length: 1 });
      continue;
    }
    const [low, high] = step > 0 ? [0, size] : [-1, size - 1];
    const clampTo = (v: number) => Math.min(Math.max(normalizeAxis(v, size), low), high);
    const start = bit(masks.begin, i) ? (step > 0 ? 0 : size - 1) : clampTo(begin[i]!);
    const stop = bit(masks.end, i) ? (step > 0 ? size : -1) : clampTo(end[i]!);
    const length = Math.max(0, Math.ceil((stop - start) / step));
    dims.push({ start, stop, step, length });
    outShape.push(length);
  }
  while (d < shape.length) {
    dims.push(full(shape[d]!));
    outShape.push(shape[d++]!);
  }
  return { dims, outShape };
}

function stridedSliceOf(node: TfNode, shape: readonly number[], params: readonly TfTensor[]) {
  const [begin, end, strides] = params.map(intsOf) as [number[], number[], number[]];
  return resolveStridedSlice(shape, begin, end, strides, {
    begin: attrInt(node, 'begin_mask', 0),
    end: attrInt(node, 'end_mask', 0),
    ellipsis: attrInt(node, 'ellipsis_mask', 0),
    newAxis: attrInt(node, 'new_axis_mask', 0),
    shrinkAxis: attrInt(node, 'shrink_axis_mask', 0),
  });
}

function sliceTensor(t: TfTensor, dims: readonly SliceDim[]): TfTensor {
  const strides = stridesOf(t.shape);
  return remap(
    t,
    dims.map((s) => s.length),
    (idx) => idx.reduce((acc, v, k) => acc + (dims[k]!.start + v * dims[k]!.step) * strides[k]!, 0),
  );
}

function emitStridedSlice(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const x = input(ctx, 0);
  const params = [1, 2, 3].map((i) => constInput(ctx, i, 'begin/end/strides'));
  const { dims, outShape } = stridedSliceOf(node, shapeOf(x), params);
  if (dims.some((s) => s.length === 0))
    throw new ConversionError(`node '${node.name}': empty slices are not supported`);
  const sliced = dims
    .map((s, axis) => ({ ...s, axis }))
    .filter((s) => !(s.start === 0 && s.step === 1 && s.length === shapeOf(x)[s.axis]));
  let current: Value = x;
  if (sliced.length > 0) {
    const base = `${node.name}/slice`;
    const name = g.add1(
      'Slice',
      [
        g.input(x, 'tf'),
        g.int64s(
          `${base}/starts`,
          sliced.map((s) => s.start),
        ),
        // A negative stop means "before index 0", which ONNX spells as -(size + 1).
        g.int64s(
          `${base}/ends`,
          sliced.map((s) => (s.stop < 0 ? -(shapeOf(x)[s.axis]! + 1) : s.stop)),
        ),
        g.int64s(
          `${base}/axes`,
          sliced.map((s) => s.axis),
        ),
        g.int64s(
          `${base}/steps`,
          sliced.map((s) => s.step),
        ),
      ],
      outShape.join() === dims.map((s) => s.length).join() ? node.name : base,
    );
    current = runtime(
      name,
      dtypeOf(x),
      dims.map((s) => s.length),
    );
  }
  return [emitReshapeTo(ctx, current, outShape)];
}

function emitConcat(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const parts = ctx.inputs.slice(0, -1);
  const rank = shapeOf(parts[0]!).length;
  const axis = normalizeAxis(scalarOf(constInput(ctx, ctx.inputs.length - 1, 'the axis'), 'axis'), rank);
  const layout = commonLayout(parts, rank);
  const shape = [...shapeOf(parts[0]!)];
  shape[axis] = parts.reduce((a, p) => a + shapeOf(p)[axis]!, 0);
  const onnxAxis = layout === 'nchw' ? NCHW_POSITION[axis]! : axis;
  const name = g.add1(
    'Concat',
    parts.map((p) => g.input(p, layout)),
    node.name,
    [{ name: 'axis', kind: 'int', value: onnxAxis }],
  );
  return [runtime(name, dtypeOf(parts[0]!), shape, layout)];
}

function emitPack(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const shape = shapeOf(input(ctx, 0));
  const axis = normalizeAxis(attrInt(node, 'axis', 0), shape.length + 1);
  const axes = g.int64s(`${node.name}/axes`, [axis]);
  const parts = ctx.inputs.map((v, i) =>
    g.add1('Unsqueeze', [g.input(v, 'tf'), axes], `${node.name}/unsqueeze_${i}`),
  );
  const name = g.add1('Concat', parts, node.name, [{ name: 'axis', kind: 'int', value: axis }]);
  const outShape = [...shape.slice(0, axis), ctx.inputs.length, ...shape.slice(axis)];
  return [runtime(name, dtypeOf(input(ctx, 0)), outShape)];
}

function emitUnpack(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const x = input(ctx, 0);
  const shape = shapeOf(x);
  const axis = normalizeAxis(attrInt(node, 'axis', 0), shape.length);
  const count = shape[axis]!;
  const outShape = shape.filter((_, i) => i !== axis);
  const pieces = g.add(
    'Split',
    [g.input(x, 'tf'), g.int64s(`${node.name}/split`, new Array<number>(count).fill(1))],
    Array.from({ length: count }, (_, i) => `${node.name}/split_${i}`),
    [{ name: 'axis', kind: 'int', value: axis }],
  );
  return pieces.map((p, i) =>
    emitReshapeTo(
      ctx,
      runtime(p, dtypeOf(x), [...shape.slice(0, axis), 1, ...shape.slice(axis + 1)]),
      outShape,
      i === 0 ? node.name : `${node.name}:${i}`,
    ),
  );
}

function emitTranspose(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const x = input(ctx, 0);
  const perm = intsOf(constInput(ctx, 1, 'the permutation'));
  const shape = shapeOf(x);
  const outShape = perm.map((p) => shape[p]!);
  if (x.kind === 'runtime' && x.layout === 'nchw') {
    // Compose with the storage permutation instead of transposing back first.
    const physical = perm.map((p) => NCHW_POSITION[p]!);
    const name = g.add1('Transpose', [x.name], node.name, [{ name: 'perm', kind: 'ints', value: physical }]);
    return [runtime(name, x.dtype, outShape)];
  }
  const name = g.add1('Transpose', [g.input(x, 'tf')], node.name, [
    { name: 'perm', kind: 'ints', value: perm },
  ]);
  return [runtime(name, dtypeOf(x), outShape)];
}

function emitPad(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const x = input(ctx, 0);
  const shape = shapeOf(x);
  const paddings = intsOf(constInput(ctx, 1, 'the paddings'));
  const layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
  const order = layout === 'nchw' ? TO_NCHW : shape.map((_, i) => i);
  const pads = [...order.map((a) => paddings[2 * a]!), ...order.map((a) => paddings[2 * a + 1]!)];
  const inputs = [g.input(x, layout), g.int64s(`${node.name}/pads`, pads)];
  const attributes: OnnxAttribute[] = [];
  if (node.op === 'PadV2') inputs.push(g.input(input(ctx, 2), 'tf'));
  if (node.op === 'MirrorPad') {
    const mode = attrString(node, 'mode');
    if (mode !== 'REFLECT')
      throw new UnsupportedOpError(node.op, node.name, `mode ${mode} has no ONNX equivalent`);
    attributes.push({ name: 'mode', kind: 'string', value: 'reflect' });
  }
  const name = g.add1('Pad', inputs, node.name, attributes);
  const outShape = shape.map((s, a) => s + paddings[2 * a]! + paddings[2 * a + 1]!);
  return [runtime(name, dtypeOf(x), outShape, layout)];
}

function foldPad(node: TfNode, [x, paddings, value]: readonly TfTensor[]): TfTensor[] {
  if (node.op === 'MirrorPad') throw new UnsupportedOpError(node.op, node.name, 'on constants');
  const p = intsOf(paddings!);
  const outShape = x!.shape.map((s, a) => s + p[2 * a]! + p[2 * a + 1]!);
  const fill = value === undefined ? 0 : scalarOf(value, 'pad value');
  const inStrides = stridesOf(x!.shape);
  const inside = (idx: number[]): boolean =>
    idx.every((v, d) => v >= p[2 * d]! && v < p[2 * d]! + x!.shape[d]!);
  // Index -1 of an extended copy holds the fill value for every position outside the input.
  const source: TfTensor = {
    ...x!,
    data: makeTensor(x!.dtype, [x!.data.length + 1], [...x!.data, fill]).data,
  };
  return [
    remap(source, outShape, (idx) =>
      inside(idx) ? idx.reduce((acc, v, d) => acc + (v - p[2 * d]!) * inStrides[d]!, 0) : x!.data.length,
    ),
  ];
}

function emitReduce(onnx: string): Emit {
  return (ctx) => {
    const { g, node } = ctx;
    const x = input(ctx, 0);
    const shape = shapeOf(x);
    const axes = [
      ...new Set(intsOf(constInput(ctx, 1, 'the axes')).map((a) => normalizeAxis(a, shape.length))),
    ].sort((a, b) => a - b);
    const keep = attrBool(node, 'keep_dims', false);
    let layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
    if (layout === 'nchw' && !keep) {
      // Without keep_dims the result is only in TF order if the surviving axes keep their relative order.
      const kept = shape.map((_, a) => a).filter((a) => !axes.includes(a));
      const positions = kept.map((a) => NCHW_POSITION[a]!);
      if (!positions.every((p, i) => i === 0 || p > positions[i - 1]!)) layout = 'tf';
    }
    const physicalAxes = layout === 'nchw' ? axes.map((a) => NCHW_POSITION[a]!).sort((a, b) => a - b) : axes;
    const keepdims: OnnxAttribute = { name: 'keepdims', kind: 'int', value: keep ? 1 : 0 };
    const source = g.input(x, layout);
    const name =
      onnx === 'ReduceSum'
        ? g.add1(onnx, [source, g.int64s(`${node.name}/axes`, physicalAxes)], node.name, [keepdims])
        : g.add1(onnx, [source], node.name, [{ name: 'axes', kind: 'ints', value: physicalAxes }, keepdims]);
    const outShape = keep
      ? shape.map((s, a) => (axes.includes(a) ? 1 : s))
      : shape.filter((_, a) => !axes.includes(a));
    return [runtime(name, dtypeOf(x), outShape, keep ? layout : 'tf')];
  };
}

function emitResize(mode: 'linear' | 'nearest'): Emit {
  return (ctx) => {
    const { g, node } = ctx;
    const x = input(ctx, 0);
    const shape = shapeOf(x);
    const [h, w] = intsOf(constInput(ctx, 1, 'the size')) as [number, number];
    const alignCorners = attrBool(node, 'align_corners', false);
    const halfPixel = attrBool(node, 'half_pixel_centers', false);
    const transform = alignCorners
      ? 'align_corners'
      : halfPixel
        ? mode === 'linear'
          ? 'half_pixel'
          : 'tf_half_pixel_for_nn'
        : 'asymmetric';
    const outShape = [shape[0]!, h, w, shape[3]!];
    const attributes: OnnxAttribute[] = [
      { name: 'mode', kind: 'string', value: mode },
      { name: 'coordinate_transformation_mode', kind: 'string', value: transform },
    ];
    if (mode === 'nearest') {
      // TF rounds half up with align_corners and floors otherwise.
      attributes.push({
        name: 'nearest_mode',
        kind: 'string',
        value: alignCorners ? 'round_prefer_ceil' : 'floor',
      });
    }
    const sizes = g.int64s(`${node.name}/sizes`, physicalShape(outShape, 'nchw'));
    const name = g.add1('Resize', [g.input(x, 'nchw'), '', '', sizes], node.name, attributes);
    return [runtime(name, dtypeOf(x), outShape, 'nchw')];
  };
}

function emitSpaceDepth(onnx: 'DepthToSpace' | 'SpaceToDepth'): Emit {
  return (ctx) => {
    const { g, node } = ctx;
    const x = input(ctx, 0);
    const [n, h, w, c] = shapeOf(x) as [number, number, number, number];
    const block = attrInt(node, 'block_size', 0);
    if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') {
      throw new UnsupportedOpError(node.op, node.name, 'only data_format NHWC is supported');
    }
    // TF's channel order (block row, block column, channel) is ONNX DepthToSpace's DCR mode.
    const attributes: OnnxAttribute[] = [{ name: 'blocksize', kind: 'int', value: block }];
    if (onnx === 'DepthToSpace') attributes.push({ name: 'mode', kind: 'string', value: 'DCR' });
    const name = g.add1(onnx, [g.input(x, 'nchw')], node.name, attributes);
    const outShape =
      onnx === 'DepthToSpace'
        ? [n, h * block, w * block, c / (block * block)]
        : [n, h / block, w / block, c * block * block];
    return [runtime(name, dtypeOf(x), outShape, 'nchw')];
  };
}

function emitSoftmax(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
  const axis = layout === 'nchw' ? 1 : shapeOf(x).length - 1;
  const name = ctx.g.add1('Softmax', [ctx.g.input(x, layout)], ctx.node.name, [
    { name: 'axis', kind: 'int', value: axis },
  ]);
  return [runtime(name, dtypeOf(x), shapeOf(x), layout)];
}

function emitCast(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const to = attrDtype(ctx.node, 'DstT');
  const layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
  const name = ctx.g.add1('Cast', [ctx.g.input(x, layout)], ctx.node.name, [
    { name: 'to', kind: 'int', value: OnnxDataType[ONNX_TYPE[to]] },
  ]);
  return [runtime(name, to, shapeOf(x), layout)];
}

function emitPrelu(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const layout: Layout = x.kind === 'runtime' ? x.layout : 'tf';
  const name = ctx.g.add1(
    'PRelu',
    [ctx.g.input(x, layout), ctx.g.input(input(ctx, 1), layout)],
    ctx.node.name,
  );
  return [runtime(name, dtypeOf(x), shapeOf(x), layout)];
}

function emitGather(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const params = input(ctx, 0);
  const indices = input(ctx, 1);
  const shape = shapeOf(params);
  const axis = normalizeAxis(scalarOf(constInput(ctx, 2, 'the axis'), 'axis'), shape.length);
  if (attrInt(node, 'batch_dims', 0) !== 0)
    throw new UnsupportedOpError(node.op, node.name, 'batch_dims != 0');
  const name = g.add1('Gather', [g.input(params, 'tf'), g.input(indices, 'tf')], node.name, [
    { name: 'axis', kind: 'int', value: axis },
  ]);
  const outShape = [...shape.slice(0, axis), ...shapeOf(indices), ...shape.slice(axis + 1)];
  return [runtime(name, dtypeOf(params), outShape)];
}

function emitTopK(ctx: OpContext): Value[] {
  const { g, node } = ctx;
  const x = input(ctx, 0);
  const k = scalarOf(constInput(ctx, 1, 'k'), 'k');
  const shape = shapeOf(x);
  const [values, indices] = g.add(
    'TopK',
    [g.input(x, 'tf'), g.int64s(`${node.name}/k`, [k])],
    [node.name, `${node.name}/indices_int64`],
    [
      { name: 'axis', kind: 'int', value: -1 },
      { name: 'largest', kind: 'int', value: 1 },
      { name: 'sorted', kind: 'int', value: 1 },
    ],
  );
  const indices32 = g.add1('Cast', [indices!], `${node.name}:1`, [
    { name: 'to', kind: 'int', value: OnnxDataType.int32 },
  ]);
  const outShape = [...shape.slice(0, -1), k];
  return [runtime(values!, dtypeOf(x), outShape), runtime(indices32, 'int32', outShape)];
}

function emitTile(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const multiples = intsOf(constInput(ctx, 1, 'the multiples'));
  const name = ctx.g.add1(
    'Tile',
    [ctx.g.input(x, 'tf'), ctx.g.int64s(`${ctx.node.name}/repeats`, multiples)],
    ctx.node.name,
  );
  return [
    runtime(
      name,
      dtypeOf(x),
      shapeOf(x).map((s, i) => s * multiples[i]!),
    ),
  ];
}

function emitBroadcastTo(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const shape = intsOf(constInput(ctx, 1, 'the shape'));
  const name = ctx.g.add1(
    'Expand',
    [ctx.g.input(x, 'tf'), ctx.g.int64s(`${ctx.node.name}/shape`, shape)],
    ctx.node.name,
  );
  return [runtime(name, dtypeOf(x), broadcastShapes(shapeOf(x), shape))];
}

function tileTensor(t: TfTensor, multiples: readonly number[]): TfTensor {
  const strides = stridesOf(t.shape);
  const outShape = t.shape.map((s, i) => s * multiples[i]!);
  return remap(t, outShape, (idx) => idx.reduce((acc, v, d) => acc + (v % t.shape[d]!) * strides[d]!, 0));
}

function rangeTensor(start: TfTensor, limit: TfTensor, delta: TfTensor): TfTensor {
  const [s, l, d] = [scalarOf(start, 'start'), scalarOf(limit, 'limit'), scalarOf(delta, 'delta')];
  const count = Math.max(0, Math.ceil((l - s) / d));
  return makeTensor(
    start.dtype,
    [count],
    Array.from({ length: count }, (_, i) => s + i * d),
  );
}

const passThrough: OpDef = { fold: (_node, inputs) => [inputs[0]!], emit: (ctx) => [input(ctx, 0)] };

/** Ops whose result only depends on the input's static shape. */
const SHAPE_OPS: Readonly<Record<string, (shape: readonly number[]) => TfTensor>> = {
  Shape: (shape) => makeTensor('int32', [shape.length], shape),
  Size: (shape) => makeTensor('int32', [], [sizeOf(shape)]),
  Rank: (shape) => makeTensor('int32', [], [shape.length]),
};

const OPS: Readonly<Record<string, OpDef>> = {
  Identity: passThrough,
  StopGradient: passThrough,
  Snapshot: passThrough,
  ...Object.fromEntries(
    Object.entries(BINARY_OPS).map(([op, def]) => [
      op,
      {
        fold: (_node: TfNode, [a, b]: readonly TfTensor[]) => [foldBinary(def, a!, b!)],
        emit: (ctx: OpContext) => emitBinary(ctx, def),
      },
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(UNARY_OPS).map(([op, def]) => {
      const fold = foldUnary(def);
      return [op, fold === undefined ? { emit: emitUnary(def) } : { fold, emit: emitUnary(def) }];
    }),
  ),
  AddN: {
    fold: (_node, inputs) => [inputs.reduce((a, b) => foldBinary(BINARY_OPS.Add!, a, b))],
    emit: emitVariadic('Sum'),
  },
  Prelu: { emit: emitPrelu },
  Conv2D: { emit: emitConvolution },
  _FusedConv2D: { emit: emitConvolution },
  DepthwiseConv2dNative: { emit: emitConvolution },
  FusedDepthwiseConv2dNative: { emit: emitConvolution },
  MaxPool: { emit: emitPool('MaxPool') },
  AvgPool: { emit: emitPool('AveragePool') },
  Pad: { fold: foldPad, emit: emitPad },
  PadV2: { fold: foldPad, emit: emitPad },
  MirrorPad: { emit: emitPad },
  Mean: { emit: emitReduce('ReduceMean') },
  Sum: { emit: emitReduce('ReduceSum') },
  Max: { emit: emitReduce('ReduceMax') },
  Min: { emit: emitReduce('ReduceMin') },
  Prod: { emit: emitReduce('ReduceProd') },
  ResizeBilinear: { emit: emitResize('linear') },
  ResizeNearestNeighbor: { emit: emitResize('nearest') },
  DepthToSpace: { emit: emitSpaceDepth('DepthToSpace') },
  SpaceToDepth: { emit: emitSpaceDepth('SpaceToDepth') },
  Softmax: { emit: emitSoftmax },
  Cast: {
    fold: (node, [x]) => [makeTensor(attrDtype(node, 'DstT'), x!.shape, x!.data)],
    emit: emitCast,
  },
  Reshape: {
    fold: (node, [x, shape]) => [reshapeTensor(x!, outputShapeOfReshape(node, x!.shape, intsOf(shape!)))],
    emit: (ctx) => {
      const x = input(ctx, 0);
      const shape = outputShapeOfReshape(ctx.node, shapeOf(x), intsOf(constInput(ctx, 1, 'the shape')));
      return [emitReshapeTo(ctx, x, shape)];
    },
  },
  Squeeze: {
    fold: (node, [x]) => [reshapeTensor(x!, squeezedShape(node, x!.shape))],
    emit: (ctx) => [emitReshapeTo(ctx, input(ctx, 0), squeezedShape(ctx.node, shapeOf(input(ctx, 0))))],
  },
  ExpandDims: {
    fold: (_node, [x, axis]) => [reshapeTensor(x!, expandedShape(x!.shape, axis!))],
    emit: (ctx) => [
      emitReshapeTo(
        ctx,
        input(ctx, 0),
        expandedShape(shapeOf(input(ctx, 0)), constInput(ctx, 1, 'the axis')),
      ),
    ],
  },
  Transpose: { fold: (_node, [x, perm]) => [transposeTensor(x!, intsOf(perm!))], emit: emitTranspose },
  ConcatV2: {
    fold: (_node, inputs) => {
      const parts = inputs.slice(0, -1);
      return [
        concatTensors(
          parts,
          normalizeAxis(scalarOf(inputs[inputs.length - 1]!, 'axis'), parts[0]!.shape.length),
        ),
      ];
    },
    emit: emitConcat,
  },
  Pack: {
    fold: (node, inputs) => {
      const shape = inputs[0]!.shape;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), shape.length + 1);
      const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
      return [
        concatTensors(
          inputs.map((t) => reshapeTensor(t, expanded)),
          axis,
        ),
      ];
    },
    emit: emitPack,
  },
  Unpack: {
    fold: (node, [x]) => {
      const axis = normalizeAxis(attrInt(node, 'axis', 0), x!.shape.length);
      const outShape = x!.shape.filter((_, i) => i !== axis);
      return Array.from({ length: x!.shape[axis]! }, (_, k) =>
        reshapeTensor(
          sliceTensor(
            x!,
            x!.shape.map((s, d) =>
              d === axis
                ? { start: k, stop: k + 1, step: 1, length: 1 }
                : { start: 0, stop: s, step: 1, length: s },
            ),
          ),
          outShape,
        ),
      );
    },
    emit: emitUnpack,
  },
  StridedSlice: {
    fold: (node, [x, ...params]) => {
      const { dims, outShape } = stridedSliceOf(node, x!.shape, params);
      return [reshapeTensor(sliceTensor(x!, dims), outShape)];
    },
    emit: emitStridedSlice,
  },
  GatherV2: { emit: emitGather },
  TopKV2: { emit: emitTopK },
  Tile: { fold: (_node, [x, m]) => [tileTensor(x!, intsOf(m!))], emit: emitTile },
  BroadcastTo: {
    fold: (_node, [x, shape]) => [broadcastTensor(x!, broadcastShapes(x!.shape, intsOf(shape!)))],
    emit: emitBroadcastTo,
  },
  Fill: { fold: (_node, [dims, value]) => [broadcastTensor(reshapeTensor(value!, []), intsOf(dims!))] },
  Range: { fold: (_node, [start, limit, delta]) => [rangeTensor(start!, limit!, delta!)] },
};

/** TensorFlow ops this converter handles. */
export const SUPPORTED_OPS: readonly string[] = [
  'Placeholder',
  'Const',
  ...Object.keys(SHAPE_OPS),
  ...Object.keys(OPS),
].sort();

const isSupported = (op: string): boolean =>
  op === 'Placeholder' || op === 'Const' || op in SHAPE_OPS || op in OPS;

/** Fail before converting anything, naming every unsupported op the requested outputs depend on. */
function checkSupported(nodes: readonly TfNode[]): void {
  const unsupported = nodes.filter((n) => !isSupported(n.op));
  const first = unsupported[0];
  if (first === undefined) return;
  const others = [...new Set(unsupported.map((n) => n.op))].filter((op) => op !== first.op).sort();
  const also = others.length > 0 ? `; also ${others.join(', ')}` : '';
  throw new UnsupportedOpError(
    first.op,
    first.name,
    `${unsupported.length} unsupported node(s)${also}; options.outputs can stop the export before them`,
  );
}

function convertNode(node: TfNode, inputs: readonly Value[], g: OnnxGraphBuilder): Value[] {
  const shapeOp = SHAPE_OPS[node.op];
  if (shapeOp !== undefined)
    return [{ kind: 'const', tensor: shapeOp(shapeOf(inputs[0]!)), label: node.name }];
  const def = OPS[node.op];
  if (def === undefined) throw new UnsupportedOpError(node.op, node.name);
  if (def.fold !== undefined && inputs.every((v) => v.kind === 'const')) {
    const tensors = def.fold(
      node,
      inputs.map((v) => (v as ConstValue).tensor),
    );
    return tensors.map((tensor, i) => ({
      kind: 'const',
      tensor,
      label: i === 0 ? node.name : `${node.name}:${i}`,
    }));
  }
  if (def.emit === undefined) {
    throw new UnsupportedOpError(node.op, node.name, 'only supported with constant inputs');
  }
  return def.emit({ node, inputs, g });
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

function inputShape(graph: TfGraph, endpoint: TfEndpoint, options: ConvertOptions): number[] {
  const node = graph.nodes.find((n) => n.name === endpoint.tensor.node)!;
  const requested = options.inputShapes?.[endpoint.name];
  const declared = attr(node, 'shape');
  if (requested !== undefined) {
    if (declared?.kind === 'shape' && declared.dims !== null) {
      const dims = declared.dims;
      const compatible =
        dims.length === requested.length && dims.every((d, i) => d === -1 || d === requested[i]);
      if (!compatible) {
        throw new ConversionError(
          `input '${endpoint.name}': shape [${requested.join(',')}] does not fit [${dims.join(',')}]`,
        );
      }
    }
    return [...requested];
  }
  if (declared?.kind !== 'shape' || declared.dims === null) {
    throw new ConversionError(`input '${endpoint.name}' has no static shape; pass options.inputShapes`);
  }
  const shape = declared.dims.map((d, i) => (d === -1 && i === 0 ? 1 : d));
  if (shape.some((d) => d < 0)) {
    throw new ConversionError(
      `input '${endpoint.name}' has dynamic shape [${declared.dims.join(',')}]; pass options.inputShapes`,
    );
  }
  return shape;
}

function requestedOutputs(graph: TfGraph, options: ConvertOptions): TfEndpoint[] {
  if (options.outputs === undefined) return [...graph.outputs];
  return options.outputs.map((name) => {
    const tensor = parseTensorRef(name);
    if (tensor === null) throw new ConversionError(`bad output tensor name '${name}'`);
    return { name, tensor };
  });
}

/** Convert a parsed tfjs graph into an ONNX model structure (pure; see convertTfGraphToOnnx for bytes). */
export function tfGraphToOnnxModel(graph: TfGraph, options: ConvertOptions = {}): OnnxModel {
  const prepared = foldPadsIntoConvolutions(graph);
  const byName = new Map(prepared.nodes.map((n) => [n.name, n]));
  const outputs = requestedOutputs(prepared, options);
  const g = new OnnxGraphBuilder([...prepared.inputs, ...outputs].map((e) => e.name));
  const values = new Map<string, Value[]>();

  const graphInputs: OnnxValueInfo[] = prepared.inputs.map((endpoint) => {
    const node = byName.get(endpoint.tensor.node)!;
    if (node.op !== 'Placeholder')
      throw new ConversionError(`input '${endpoint.name}' is a ${node.op}, not a Placeholder`);
    const dtype = attrDtype(node, 'dtype');
    const shape = inputShape(prepared, endpoint, options);
    values.set(node.name, [runtime(endpoint.name, dtype, shape)]);
    return { name: endpoint.name, elemType: ONNX_TYPE[dtype], shape };
  });

  const lookup = (ref: TfTensorRef, user: string): Value => {
    const v = values.get(ref.node)?.[ref.index];
    if (v === undefined)
      throw new ConversionError(`node '${user}': input '${ref.node}:${ref.index}' has no value`);
    return v;
  };

  const targets = outputs.map((o) => o.tensor.node);
  checkSupported(reachableFrom(byName, targets));
  for (const node of executionOrder(byName, targets)) {
    if (values.has(node.name)) continue;
    if (node.op === 'Const') {
      values.set(node.name, [
        { kind: 'const', tensor: prepared.constants.get(node.name)!, label: node.name },
      ]);
      continue;
    }
    if (node.op === 'Placeholder')
      throw new ConversionError(`placeholder '${node.name}' is not a model input`);
    const inputs = node.inputs.map((ref) => lookup(ref, node.name));
    try {
      values.set(node.name, convertNode(node, inputs, g));
    } catch (error) {
      if (error instanceof ConversionError) throw error;
      throw new ConversionError(`node '${node.name}' (${node.op}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  // An output takes over the name of the tensor that computes it; inputs, constants and tensors already
  // renamed for another output are copied with Identity instead.
  const renamed = new Map<string, string>();
  const graphOutputs: OnnxValueInfo[] = outputs.map((endpoint) => {
    const value = lookup(endpoint.tensor, endpoint.name);
    const tensor = g.input(value, 'tf');
    const earlier = renamed.get(tensor);
    if (earlier === undefined && g.nodes.some((n) => n.outputs.includes(tensor))) {
      g.rename(tensor, endpoint.name);
      renamed.set(tensor, endpoint.name);
    } else {
      g.identity(earlier ?? tensor, endpoint.name);
    }
    return { name: endpoint.name, elemType: ONNX_TYPE[dtypeOf(value)], shape: [...shapeOf(value)] };
  });

  return {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    graph: {
      name: 'tfjs_graph',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: graphInputs,
      outputs: graphOutputs,
    },
  };
}

/** Convert a parsed tfjs graph to serialized ONNX bytes (deterministic). */
export function convertTfGraphToOnnx(graph: TfGraph, options: ConvertOptions = {}): Uint8Array {
  return encodeOnnxModel(tfGraphToOnnxModel(graph, options));
}

/** Read a tfjs graph model (model.json + shards) and convert it to serialized ONNX bytes. */
export async function convertTfjsGraphToOnnx(
  modelJsonPath: string,
  options: ConvertOptions = {},
): Promise<Uint8Array> {
  return convertTfGraphToOnnx(await readTfjsGraphModel(modelJsonPath), options);
}
