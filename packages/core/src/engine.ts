import type { Label } from './config.ts';
import type { AnchorLayer } from './decoders/blazeface.ts';
import type { CtcCharsetName } from './decoders/ctc.ts';
import type { RetinaFaceLevel } from './decoders/retinaface.ts';
import { NestorError } from './errors.ts';
import type { ImageFormat, InputFormat, RawImage } from './image.ts';
import type { InputSpec } from './sampling.ts';

/** A float32 tensor as plain data, the same on every engine. */
export interface Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** One loaded model. Release it when done (native memory). */
export interface InferenceSession {
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** An inference back-end (onnxruntime-node, onnxruntime-web…): turns a model spec into a session. */
export interface Engine {
  /** e.g. `onnxruntime-node/cpu`. */
  readonly name: string;
  loadModel(spec: ModelSpec): Promise<InferenceSession>;
}

/** Every frame of an animated GIF or WebP, all the same size, with its timing. */
export interface AnimatedImage {
  readonly frames: readonly RawImage[];
  /** How long each frame shows, in ms (one per frame). */
  readonly delays: readonly number[];
  /** How many times it plays; 0 = forever. */
  readonly loop: number;
}

/** Every page of a multi-page TIFF, all the same size: separate images, with no timing. */
export interface PagedImage {
  readonly pages: readonly RawImage[];
}

/** A decoded input image, orientation already applied. `source` stays in memory for keepMetadata. */
export interface DecodedImage {
  /** The image, or the first frame of an animated one, or the first page of a multi-page TIFF. */
  readonly image: RawImage;
  /** Set only for an animated image (two or more frames); `frames[0]` is `image`. */
  readonly animation?: AnimatedImage;
  /** Set only for a TIFF of two or more pages; `pages[0]` is `image`. */
  readonly paged?: PagedImage;
  readonly format: InputFormat;
  readonly source: Uint8Array;
  /** Reduced copies the codec made cheaply (level k = each side >> k), for the detectors' coarse views. */
  readonly reductions?: readonly { readonly level: number; readonly image: RawImage }[];
}

export interface EncodeOptions {
  readonly format: ImageFormat;
  readonly quality: number;
  readonly keepMetadata: boolean;
}

export interface DecodeLimits {
  readonly maxPixels: number;
  readonly minSide: number;
  readonly maxFrames: number;
}

/**
 * Refuses an image of more pixels than `maxPixels` or a side under `minSide`, from its size alone
 * (a header's, before any pixel is decoded).
 * @throws NestorError `E_TOO_MANY_PIXELS`, `E_IMAGE_TOO_SMALL`
 */
export function checkImageSize(
  width: number,
  height: number,
  limits: Pick<DecodeLimits, 'maxPixels' | 'minSide'>,
): void {
  if (width * height > limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `The image has ${width}x${height} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  if (Math.min(width, height) < limits.minSide) {
    throw new NestorError(
      'E_IMAGE_TOO_SMALL',
      `The image is ${width}x${height}; both sides must be at least ${limits.minSide} pixels`,
    );
  }
}

/** Image decoding and encoding (sharp in Node, the browser's codecs on the web). */
export interface ImageCodec {
  /**
   * `maxPixels` counts every frame of an animated image (every page of a TIFF); more than
   * `maxFrames` frames (pages) are refused.
   */
  decode(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage>;
  /**
   * Writes a still image, an animation (GIF or WebP only) with its delays and loop count, or pages
   * (multi-page TIFF only).
   */
  encode(
    image: RawImage | AnimatedImage | PagedImage,
    options: EncodeOptions,
    original: DecodedImage,
  ): Promise<Uint8Array>;
}

export type DecoderSpec =
  | {
      readonly kind: 'blazeface';
      /**
       * Output heads in anchor order: separate score and regressor tensors, or one packed tensor
       * holding each anchor's score logit followed by its regressors.
       */
      readonly heads: readonly (
        | { readonly scores: string; readonly regressors: string }
        | { readonly packed: string }
      )[];
      readonly layers: readonly AnchorLayer[];
    }
  | {
      /** An SSD with decoding in its graph: `boxes` [1, N, 4] as (ymin, xmin, ymax, xmax) shares of the input, `scores` [1, N]. */
      readonly kind: 'ssd';
      readonly boxes: string;
      readonly scores: string;
    }
  | {
      /**
       * insightface's RetinaFace: per level, `scores` [1, 2A, H, W] (background then face) and
       * `deltas` [1, 4A, H, W] against square anchors centred on each cell.
       */
      readonly kind: 'retinaface';
      readonly levels: readonly (RetinaFaceLevel & { readonly scores: string; readonly deltas: string })[];
    }
  | {
      readonly kind: 'db';
      readonly output: string;
      readonly binaryThreshold: number;
      readonly unclipRatio: number;
    }
  | {
      /**
       * A CenterNet with decoding in its graph: `output` [1, N, 6] rows of (x1, y1, x2, y2) in input
       * pixels, score and COCO class. It gives context (vehicles, people), not objects to redact.
       */
      readonly kind: 'centernet';
      readonly output: string;
      /** COCO classes that are vehicles. */
      readonly classes: readonly number[];
      /** COCO classes that are people. */
      readonly personClasses: readonly number[];
    }
  | {
      /** A text recogniser read with greedy CTC: `output` is [N, steps, classes] probabilities. */
      readonly kind: 'ctc';
      readonly output: string;
      readonly charset: CtcCharsetName;
    };

/** Everything needed to run and trust one model: where it comes from, what it expects, how to read it. */
export interface ModelSpec {
  readonly id: string;
  readonly label: Label;
  readonly description: string;
  /** File name under the models folder. */
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly source: {
    readonly package: string;
    readonly version: string;
    readonly path: string;
    readonly license: string;
    /**
     * Set when our exporter converted the packaged file to ONNX: a tfjs graph model, face-api's
     * weights manifest whose graph our exporter writes out, or an ONNX graph fixed at one input
     * size whose height and width it makes dynamic.
     */
    readonly exportedFrom?: {
      readonly format: 'tfjs' | 'tflite' | 'face-api' | 'onnx';
      readonly sha256: string;
    };
  };
  readonly input: InputSpec;
  readonly decoder: DecoderSpec;
  /** Smallest object side (model-input pixels) the model finds reliably. */
  readonly minObject: number;
  /** Largest upsampling of the image worth doing for this model. */
  readonly maxScale: number;
  /** Most views of one image this model runs in the fast and balanced presets (its per-view cost is high). */
  readonly maxViews?: number;
  /** Scale ratio between pyramid levels (2 = octaves; smaller finds more, costs more). */
  readonly levelStep?: number;
}
