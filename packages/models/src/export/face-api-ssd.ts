/**
 * Builds face-api's SSD MobileNet v1 face detector (WIDER FACE-trained) as a tfjs graph.
 *
 * `@vladmandic/face-api` ships only the weights of this network: its graph lives in face-api's code
 * (ssdMobilenetv1/mobileNetV1.ts, predictionLayer.ts, outputLayer.ts). This module writes that
 * graph out node by node over the packaged weights, so the ordinary tfjs-to-ONNX converter can
 * export it. Batch norms are folded into the depthwise convolutions; the anchor decoding of
 * face-api's output layer is part of the graph, so the ONNX model answers boxes and scores.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  decodeWeightsManifest,
  type TfAttr,
  type TfGraph,
  type TfNode,
  type TfTensor,
} from './tfjs-graph.ts';

/** The network's input side (face-api letterboxes every image to this square). */
export const SSD_INPUT_SIZE = 512;
/** Scales of TF Object Detection's box coder: y, x, height, width. */
const BOX_CODER_SCALES = [10, 10, 5, 5] as const;
const BN_EPSILON = 0.0010000000474974513;
/** MobileNet v1 blocks whose depthwise convolution halves the resolution. */
const STRIDE_2_BLOCKS = new Set([2, 4, 6, 12]);

export class FaceApiSsdError extends Error {
  override readonly name = 'FaceApiSsdError';
}

const ints = (values: readonly number[]): TfAttr => ({ kind: 'list', ints: values, strings: [], floats: [] });
const strings = (values: readonly string[]): TfAttr => ({
  kind: 'list',
  ints: [],
  strings: values,
  floats: [],
});
const int = (value: number): TfAttr => ({ kind: 'int', value });
const str = (value: string): TfAttr => ({ kind: 'string', value });
const float32 = (shape: readonly number[], data: Float32Array): TfTensor => ({
  dtype: 'float32',
  shape,
  data,
});
const int32 = (values: readonly number[]): TfTensor => ({
  dtype: 'int32',
  shape: [values.length],
  data: Int32Array.from(values),
});

/** Collects nodes and constants; every helper returns the name of the node it added. */
class GraphBuilder {
  readonly nodes: TfNode[] = [];
  readonly constants = new Map<string, TfTensor>();

  add(name: string, op: string, inputs: readonly string[], attrs: Record<string, TfAttr> = {}): string {
    this.nodes.push({ name, op, inputs: inputs.map((node) => ({ node, index: 0 })), attrs });
    return name;
  }

  constant(name: string, tensor: TfTensor): string {
    this.constants.set(name, tensor);
    return this.add(name, 'Const', [], { dtype: { kind: 'type', value: tensorType(tensor) } });
  }

  /** Convolution + bias (+ ReLU6), SAME padding, as face-api's pointwise and prediction layers run it. */
  conv(
    name: string,
    x: string,
    filter: TfTensor,
    bias: TfTensor,
    stride: number,
    options: { depthwise?: boolean; relu6?: boolean } = {},
  ): string {
    const filterNode = this.constant(`${name}/filter`, filter);
    const biasNode = this.constant(`${name}/bias`, bias);
    return this.add(
      name,
      options.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D',
      [x, filterNode, biasNode],
      {
        strides: ints([1, stride, stride, 1]),
        padding: str('SAME'),
        data_format: str('NHWC'),
        dilations: ints([1, 1, 1, 1]),
        fused_ops: strings(options.relu6 === false ? ['BiasAdd'] : ['BiasAdd', 'Relu6']),
        num_args: int(1),
      },
    );
  }

  /** `x[:, :, from:to]` of a rank-3 tensor; `shrink` drops the last axis (to must be from + 1). */
  lastAxisSlice(name: string, x: string, from: number, to: number, shrink = false): string {
    return this.add(
      name,
      'StridedSlice',
      [
        x,
        this.constant(`${name}/begin`, int32([0, 0, from])),
        this.constant(`${name}/end`, int32([0, 0, to])),
        this.constant(`${name}/strides`, int32([1, 1, 1])),
      ],
      {
        begin_mask: int(3),
        end_mask: int(3),
        ellipsis_mask: int(0),
        new_axis_mask: int(0),
        shrink_axis_mask: int(shrink ? 4 : 0),
      },
    );
  }
}

function tensorType(t: TfTensor): string {
  return t.dtype === 'int32' ? 'DT_INT32' : t.dtype === 'bool' ? 'DT_BOOL' : 'DT_FLOAT';
}

/** Folds an inference batch norm into a depthwise filter [kh, kw, channels, 1] and a bias. */
export function foldBatchNorm(
  filter: TfTensor,
  bn: { gamma: TfTensor; beta: TfTensor; mean: TfTensor; variance: TfTensor },
  epsilon = BN_EPSILON,
): { filter: TfTensor; bias: TfTensor } {
  const channels = filter.shape[2]!;
  if (filter.shape[3] !== 1) throw new FaceApiSsdError('expected a depthwise filter with multiplier 1');
  const factor = new Float64Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    factor[c] = bn.gamma.data[c]! / Math.sqrt(bn.variance.data[c]! + epsilon);
    bias[c] = bn.beta.data[c]! - bn.mean.data[c]! * factor[c]!;
  }
  const data = Float32Array.from(filter.data, (v, i) => v * factor[i % channels]!);
  return { filter: float32(filter.shape, data), bias: float32([channels], bias) };
}

/**
 * The graph of face-api's `SsdMobilenetv1.forwardInput` from normalised input ([-1, 1], NHWC,
 * 512x512) to `boxes` [1, anchors, 4] (ymin, xmin, ymax, xmax as shares of the input) and
 * `scores` [1, anchors] (the face class' sigmoid).
 */
export function buildFaceApiSsdGraph(weights: ReadonlyMap<string, TfTensor>): TfGraph {
  const weight = (name: string): TfTensor => {
    const t = weights.get(name);
    if (t === undefined) throw new FaceApiSsdError(`the weights have no '${name}'`);
    if (t.dtype !== 'float32') throw new FaceApiSsdError(`weight '${name}' is ${t.dtype}, not float32`);
    return t;
  };
  const g = new GraphBuilder();
  const input = g.add('image', 'Placeholder', [], {
    dtype: { kind: 'type', value: 'DT_FLOAT' },
    shape: { kind: 'shape', dims: [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3] },
  });

  const pointwise = (name: string, x: string, prefix: string, stride: number) =>
    g.conv(name, x, weight(`${prefix}/weights`), weight(`${prefix}/convolution_bn_offset`), stride);

  let x = pointwise('mobilenet/conv_0', input, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11 = x;
  for (let block = 1; block <= 13; block++) {
    const dw = `MobilenetV1/Conv2d_${block}_depthwise`;
    const folded = foldBatchNorm(weight(`${dw}/depthwise_weights`), {
      gamma: weight(`${dw}/BatchNorm/gamma`),
      beta: weight(`${dw}/BatchNorm/beta`),
      mean: weight(`${dw}/BatchNorm/moving_mean`),
      variance: weight(`${dw}/BatchNorm/moving_variance`),
    });
    const stride = STRIDE_2_BLOCKS.has(block) ? 2 : 1;
    x = g.conv(`mobilenet/conv_${block}/depthwise`, x, folded.filter, folded.bias, stride, {
      depthwise: true,
    });
    x = pointwise(`mobilenet/conv_${block}/pointwise`, x, `MobilenetV1/Conv2d_${block}_pointwise`, 1);
    if (block === 11) conv11 = x;
  }

  // SSD's extra feature maps: pairs of a 1x1 convolution and a strided one.
  const extra: string[] = [];
  let y = x;
  for (let i = 0; i < 8; i++) {
    y = pointwise(`prediction/conv_${i}`, y, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    extra.push(y);
  }
  const featureMaps = [conv11, x, extra[1]!, extra[3]!, extra[5]!, extra[7]!];

  const boxParts: string[] = [];
  const classParts: string[] = [];
  featureMaps.forEach((map, i) => {
    const p = `Prediction/BoxPredictor_${i}`;
    const box = g.conv(
      `predictor_${i}/box`,
      map,
      weight(`${p}/BoxEncodingPredictor/weights`),
      weight(`${p}/BoxEncodingPredictor/biases`),
      1,
      { relu6: false },
    );
    const cls = g.conv(
      `predictor_${i}/class`,
      map,
      weight(`${p}/ClassPredictor/weights`),
      weight(`${p}/ClassPredictor/biases`),
      1,
      { relu6: false },
    );
    boxParts.push(
      g.add(`predictor_${i}/box/anchors`, 'Reshape', [
        box,
        g.constant(`predictor_${i}/box/shape`, int32([1, -1, 4])),
      ]),
    );
    classParts.push(
      g.add(`predictor_${i}/class/anchors`, 'Reshape', [
        cls,
        g.constant(`predictor_${i}/class/shape`, int32([1, -1, 3])),
      ]),
    );
  });
  const axis1 = g.constant('concat/axis', { dtype: 'int32', shape: [], data: Int32Array.of(1) });
  const encodings = g.add('box_encodings', 'ConcatV2', [...boxParts, axis1], { N: int(boxParts.length) });
  const logits = g.add('class_logits', 'ConcatV2', [...classParts, axis1], { N: int(classParts.length) });

  // Box decoding against the anchors face-api ships in `Output/extra_dim`.
  const anchors = weight('Output/extra_dim');
  const count = anchors.shape[1]!;
  const centre = new Float32Array(count * 2);
  const offsetScale = new Float32Array(count * 2);
  const halfSize = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const [ymin, xmin, ymax, xmax] = anchors.data.subarray(i * 4, i * 4 + 4) as unknown as number[];
    const h = ymax! - ymin!;
    const w = xmax! - xmin!;
    centre.set([ymin! + h / 2, xmin! + w / 2], i * 2);
    offsetScale.set([h / BOX_CODER_SCALES[0], w / BOX_CODER_SCALES[1]], i * 2);
    halfSize.set([h / 2, w / 2], i * 2);
  }
  const pairs = [1, count, 2];
  const offsets = g.lastAxisSlice('decode/offsets', encodings, 0, 2);
  const logSizes = g.lastAxisSlice('decode/log_sizes', encodings, 2, 4);
  const centres = g.add('decode/centres', 'AddV2', [
    g.add('decode/scaled_offsets', 'Mul', [
      offsets,
      g.constant('decode/offset_scale', float32(pairs, offsetScale)),
    ]),
    g.constant('decode/anchor_centres', float32(pairs, centre)),
  ]);
  const inverseScale = g.constant('decode/size_scale', float32([], Float32Array.of(1 / BOX_CODER_SCALES[2])));
  const halves = g.add('decode/halves', 'Mul', [
    g.add('decode/size_factors', 'Exp', [g.add('decode/scaled_sizes', 'Mul', [logSizes, inverseScale])]),
    g.constant('decode/anchor_halves', float32(pairs, halfSize)),
  ]);
  const axis2 = g.constant('decode/axis', { dtype: 'int32', shape: [], data: Int32Array.of(2) });
  g.add(
    'boxes',
    'ConcatV2',
    [g.add('decode/min', 'Sub', [centres, halves]), g.add('decode/max', 'AddV2', [centres, halves]), axis2],
    { N: int(2) },
  );
  // Class 0 is the background; class 1 is a face.
  g.add('scores', 'Sigmoid', [g.lastAxisSlice('face_logits', logits, 1, 2, true)]);

  return {
    nodes: g.nodes,
    constants: g.constants,
    inputs: [{ name: 'image', tensor: { node: 'image', index: 0 } }],
    outputs: [
      { name: 'boxes', tensor: { node: 'boxes', index: 0 } },
      { name: 'scores', tensor: { node: 'scores', index: 0 } },
    ],
  };
}

/** Reads face-api's weights manifest (a JSON array of groups) and the shards it names. */
export async function readFaceApiWeights(manifestPath: string): Promise<Map<string, TfTensor>> {
  const manifest: unknown = JSON.parse(await readFile(manifestPath, 'utf8'));
  if (!Array.isArray(manifest))
    throw new FaceApiSsdError(`${manifestPath}: expected an array of weight groups`);
  const shards = await Promise.all(
    manifest.map((group: { paths?: unknown }) => {
      if (!Array.isArray(group.paths)) throw new FaceApiSsdError(`${manifestPath}: a group has no paths`);
      return Promise.all(
        group.paths.map(async (p: unknown) => {
          if (typeof p !== 'string') throw new FaceApiSsdError(`${manifestPath}: a path is not a string`);
          return new Uint8Array(await readFile(resolve(dirname(manifestPath), p)));
        }),
      );
    }),
  );
  return decodeWeightsManifest(manifest, shards);
}
