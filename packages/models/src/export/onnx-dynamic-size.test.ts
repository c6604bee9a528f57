import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { findModel } from '../manifest.ts';
import { packageDir, sha256 } from '../prepare.ts';
import { DynamicSizeError, makeInputSizeDynamic } from './onnx-dynamic-size.ts';

const retinaFace = findModel('retinaface-mnet025')!;
const source = async () =>
  new Uint8Array(await readFile(path.join(packageDir(retinaFace.source.package), retinaFace.source.path)));

/** A deterministic, image-like input: smooth gradients with some texture, 0-255. */
function image(height: number, width: number): ort.Tensor {
  const data = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        data[(c * height + y) * width + x] = (x * 0.4 + y * 0.3 + c * 40 + ((x * y) % 17) * 3) % 256;
      }
    }
  }
  return new ort.Tensor('float32', data, [1, 3, height, width]);
}

describe('makeInputSizeDynamic (RetinaFace from the retinaface npm package)', () => {
  it('gives the same outputs as the packaged graph at its own size', async () => {
    const bytes = await source();
    const fixed = await ort.InferenceSession.create(bytes);
    const dynamic = await ort.InferenceSession.create(makeInputSizeDynamic(bytes));
    const input = { data: image(640, 640) };
    const [a, b] = [await fixed.run(input), await dynamic.run(input)];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) {
      expect(b[name]!.dims).toEqual(a[name]!.dims);
      expect(Array.from(b[name]!.data as Float32Array)).toEqual(Array.from(a[name]!.data as Float32Array));
    }
  });

  it('runs at any multiple of 32, each level a grid of that size over its stride', async () => {
    const dynamic = await ort.InferenceSession.create(makeInputSizeDynamic(await source()));
    const out = await dynamic.run({ data: image(224, 416) });
    for (const stride of [8, 16, 32]) {
      expect(out[`face_rpn_cls_prob_reshape_stride${stride}`]!.dims).toEqual([
        1,
        4,
        224 / stride,
        416 / stride,
      ]);
      expect(out[`face_rpn_bbox_pred_stride${stride}`]!.dims).toEqual([1, 8, 224 / stride, 416 / stride]);
    }
  });

  it('declares the input and output sizes symbolic and is byte-for-byte what the manifest records', async () => {
    const bytes = makeInputSizeDynamic(await source());
    expect(sha256(bytes)).toBe(retinaFace.sha256);
    expect(bytes.length).toBe(retinaFace.bytes);
    const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
    const dims = graph.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual([1, 3, 'height', 'width']);
    const out = graph.output![0]!.type!.tensorType!.shape!.dim!;
    expect(out.slice(2).every((d) => d.dimParam)).toBe(true);
  });

  it('refuses a graph without a 4-D image input', async () => {
    const model = onnxProto.onnx.ModelProto.decode(await source());
    const dims = model.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    model.graph!.input![0]!.type!.tensorType!.shape!.dim = dims.slice(0, 2);
    const flat = onnxProto.onnx.ModelProto.encode(model).finish();
    expect(() => makeInputSizeDynamic(flat)).toThrow(DynamicSizeError);
  });
});
