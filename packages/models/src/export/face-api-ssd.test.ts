import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildFaceApiSsdGraph,
  FaceApiSsdError,
  foldBatchNorm,
  readFaceApiWeights,
  SSD_INPUT_SIZE,
} from './face-api-ssd.ts';
import type { TfTensor } from './tfjs-graph.ts';
import { convertTfGraphToOnnx } from './tfjs-to-onnx.ts';

const MANIFEST = join(
  dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')),
  'model/ssd_mobilenetv1_model-weights_manifest.json',
);

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** face-api's own forward pass (ssdMobilenetv1/*.ts), op for op in tfjs, over tfjs-decoded weights. */
async function faceApiForward(image: tf.Tensor4D): Promise<{ boxes: Float32Array; scores: Float32Array }> {
  const manifest = JSON.parse(await readFile(MANIFEST, 'utf8')) as tf.io.WeightsManifestConfig;
  const bin = await readFile(join(dirname(MANIFEST), manifest[0]!.paths[0]!));
  const w = tf.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    manifest[0]!.weights,
  );
  const t4 = (name: string) => w[name] as tf.Tensor4D;
  const t1 = (name: string) => w[name] as tf.Tensor1D;
  const pointwise = (x: tf.Tensor4D, prefix: string, stride: number) =>
    tf.clipByValue(
      tf.add(tf.conv2d(x, t4(`${prefix}/weights`), stride, 'same'), t1(`${prefix}/convolution_bn_offset`)),
      0,
      6,
    ) as tf.Tensor4D;
  return tf.tidy(() => {
    let x = pointwise(image, 'MobilenetV1/Conv2d_0_pointwise', 2);
    let conv11 = x;
    for (let i = 1; i <= 13; i++) {
      const dw = `MobilenetV1/Conv2d_${i}_depthwise`;
      const stride = [2, 4, 6, 12].includes(i) ? 2 : 1;
      x = tf.depthwiseConv2d(x, t4(`${dw}/depthwise_weights`), stride, 'same');
      x = tf.batchNorm(
        x,
        t1(`${dw}/BatchNorm/moving_mean`),
        t1(`${dw}/BatchNorm/moving_variance`),
        t1(`${dw}/BatchNorm/beta`),
        t1(`${dw}/BatchNorm/gamma`),
        0.0010000000474974513,
      );
      x = tf.clipByValue(x, 0, 6);
      x = pointwise(x, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
      if (i === 11) conv11 = x;
    }
    const extra: tf.Tensor4D[] = [];
    let y = x;
    for (let i = 0; i < 8; i++) {
      y = pointwise(y, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
      extra.push(y);
    }
    const maps = [conv11, x, extra[1]!, extra[3]!, extra[5]!, extra[7]!];
    const conv = (m: tf.Tensor4D, p: string) =>
      tf.add(tf.conv2d(m, t4(`${p}/weights`), 1, 'same'), t1(`${p}/biases`));
    const enc = tf.concat(
      maps.map((m, i) => tf.reshape(conv(m, `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`), [-1, 4])),
      0,
    );
    const cls = tf.concat(
      maps.map((m, i) => tf.reshape(conv(m, `Prediction/BoxPredictor_${i}/ClassPredictor`), [-1, 3])),
      0,
    );
    // outputLayer.ts: decodeBoxesLayer over Output/extra_dim, then the sigmoid of class 1.
    const [ay0, ax0, ay1, ax1] = tf.unstack(tf.transpose(tf.reshape(w['Output/extra_dim']!, [-1, 4])));
    const sizes = [tf.sub(ay1!, ay0!), tf.sub(ax1!, ax0!)];
    const centres = [tf.add(ay0!, tf.div(sizes[0]!, 2)), tf.add(ax0!, tf.div(sizes[1]!, 2))];
    const [ty, tx, th, tw] = tf.unstack(tf.transpose(enc));
    const halfH = tf.div(tf.mul(tf.exp(tf.div(th!, 5)), sizes[0]!), 2);
    const cy = tf.add(tf.mul(tf.div(ty!, 10), sizes[0]!), centres[0]!);
    const halfW = tf.div(tf.mul(tf.exp(tf.div(tw!, 5)), sizes[1]!), 2);
    const cx = tf.add(tf.mul(tf.div(tx!, 10), sizes[1]!), centres[1]!);
    const boxes = tf.transpose(
      tf.stack([tf.sub(cy, halfH), tf.sub(cx, halfW), tf.add(cy, halfH), tf.add(cx, halfW)]),
    );
    const scores = tf.sigmoid(tf.slice(cls, [0, 1], [-1, 1]));
    return { boxes: boxes.dataSync() as Float32Array, scores: scores.dataSync() as Float32Array };
  });
}

/** A [-1, 1] NHWC image with soft blobs and edges, so that many anchors respond. */
function testImage(): Float32Array {
  const n = SSD_INPUT_SIZE;
  const out = new Float32Array(n * n * 3);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const blob = Math.exp(-((x - 200) ** 2 + (y - 180) ** 2) / 5000);
      for (let c = 0; c < 3; c++) {
        out[(y * n + x) * 3 + c] = Math.tanh(Math.sin(x / (17 + 5 * c)) * Math.cos(y / 23) + 2 * blob - 0.5);
      }
    }
  }
  return out;
}

describe('face-api SSD MobileNet v1 export', () => {
  it("gives the boxes and scores of face-api's own forward pass", async () => {
    const graph = buildFaceApiSsdGraph(await readFaceApiWeights(MANIFEST));
    const session = await ort.InferenceSession.create(convertTfGraphToOnnx(graph));
    const pixels = testImage();
    const dims = [1, SSD_INPUT_SIZE, SSD_INPUT_SIZE, 3];
    const onnx = await session.run({ image: new ort.Tensor('float32', pixels, dims) });
    const input = tf.tensor4d(pixels, dims as [number, number, number, number]);
    const reference = await faceApiForward(input);
    input.dispose();
    await session.release();

    expect(onnx.boxes!.dims).toEqual([1, 5118, 4]);
    expect(onnx.scores!.dims).toEqual([1, 5118]);
    const boxes = onnx.boxes!.data as Float32Array;
    const scores = onnx.scores!.data as Float32Array;
    let worstBox = 0;
    let worstScore = 0;
    for (let i = 0; i < boxes.length; i++)
      worstBox = Math.max(worstBox, Math.abs(boxes[i]! - reference.boxes[i]!));
    for (let i = 0; i < scores.length; i++)
      worstScore = Math.max(worstScore, Math.abs(scores[i]! - reference.scores[i]!));
    // Folded batch norms and a different summation order leave float32 rounding differences only.
    expect(worstBox).toBeLessThan(1e-3);
    expect(worstScore).toBeLessThan(1e-3);
  });

  it('refuses weights that lack a tensor of the network', async () => {
    const weights = await readFaceApiWeights(MANIFEST);
    weights.delete('Output/extra_dim');
    expect(() => buildFaceApiSsdGraph(weights)).toThrow(FaceApiSsdError);
    expect(() => buildFaceApiSsdGraph(weights)).toThrow(/Output\/extra_dim/);
  });
});

describe('foldBatchNorm', () => {
  const tensor = (shape: number[], values: number[]): TfTensor => ({
    dtype: 'float32',
    shape,
    data: Float32Array.from(values),
  });
  it.each([
    { gamma: 1, beta: 0, mean: 0, variance: 1, scale: 1 / Math.sqrt(1 + 1e-3), bias: 0 },
    { gamma: 2, beta: 1, mean: 3, variance: 4 - 1e-3, scale: 1, bias: -2 },
    { gamma: 0.5, beta: -1, mean: -2, variance: 0.25 - 1e-3, scale: 1, bias: 1 },
  ])('gamma $gamma, beta $beta, mean $mean: filter x $scale, bias $bias', (c) => {
    const folded = foldBatchNorm(
      tensor([1, 1, 1, 1], [1]),
      {
        gamma: tensor([1], [c.gamma]),
        beta: tensor([1], [c.beta]),
        mean: tensor([1], [c.mean]),
        variance: tensor([1], [c.variance]),
      },
      1e-3,
    );
    expect(folded.filter.data[0]).toBeCloseTo(c.scale, 5);
    expect(folded.bias.data[0]).toBeCloseTo(c.bias, 5);
  });

  it('scales each channel of a depthwise filter by its own factor', () => {
    const folded = foldBatchNorm(
      tensor([1, 2, 2, 1], [1, 1, 1, 1]),
      {
        gamma: tensor([2], [1, 3]),
        beta: tensor([2], [0, 0]),
        mean: tensor([2], [0, 0]),
        variance: tensor([2], [1, 1]),
      },
      0,
    );
    expect([...folded.filter.data]).toEqual([1, 3, 1, 3]);
  });
});
