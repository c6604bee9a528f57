import { CTC_CHARSETS, type CtcText, decodeCtc } from './decoders/ctc.ts';
import type { InferenceSession, ModelSpec } from './engine.ts';
import { NestorError } from './errors.ts';
import { clipToImage, type ImageBox, imageBox } from './geometry.ts';
import { plateTextScore } from './plate-text.ts';
import type { RunTally } from './progress.ts';
import { type MipChain, sampleView, type View } from './sampling.ts';

export interface PlateReadOptions {
  /** Context added around each box on every side, as a share of the box's height. */
  readonly margin: number;
  /** Crops per inference (padded to the widest of them). */
  readonly batchSize: number;
}

export interface PlateVerifyOptions extends PlateReadOptions {
  /** Candidates whose text scores below this (plateTextScore) are dropped. */
  readonly minScore: number;
  /**
   * Whether to keep a box too small to read (text under 48 / `spec.maxScale` pixels tall, which
   * no person can read either).
   */
  readonly keepUnreadable: boolean;
}

/**
 * Keeps the plate candidates whose recognised text reads like a licence plate, in their order.
 * Plate text is personal data: it is scored here and neither returned nor logged.
 */
export async function verifyPlates<T extends { readonly box: ImageBox }>(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  candidates: readonly T[],
  options: PlateVerifyOptions,
  tally?: RunTally,
): Promise<T[]> {
  const readings = await readPlates(
    session,
    spec,
    mips,
    candidates.map((c) => c.box),
    options,
    tally,
  );
  return candidates.filter((_, i) => {
    const r = readings[i];
    if (r === undefined) return options.keepUnreadable;
    return plateTextScore(r.text, r.confidence).score >= options.minScore;
  });
}

/**
 * Recognises the text in each box (undefined where the box is too small to read). For
 * verifyPlates and offline measurement only: never put its text in results or logs.
 */
export async function readPlates(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  boxes: readonly ImageBox[],
  options: PlateReadOptions,
  tally?: RunTally,
): Promise<(CtcText | undefined)[]> {
  const decoder = spec.decoder;
  if (decoder.kind !== 'ctc') {
    throw new NestorError('E_INVALID_CONFIG', `Model ${spec.id} does not read text`);
  }
  const charset = CTC_CHARSETS[decoder.charset];
  const views = boxes.map((b) => cropView(b, mips.base.width, mips.base.height, spec, options.margin));
  // Similar widths share a batch so that little of it is padding.
  const order = views
    .map((v, i) => ({ v, i }))
    .filter((e): e is { v: View; i: number } => e.v !== undefined)
    .sort((a, b) => a.v.inputWidth - b.v.inputWidth);
  const out: (CtcText | undefined)[] = boxes.map(() => undefined);
  tally?.plan(Math.ceil(order.length / options.batchSize));
  for (let start = 0; start < order.length; start += options.batchSize) {
    const batch = order.slice(start, start + options.batchSize);
    const width = Math.max(...batch.map((e) => e.v.inputWidth));
    const height = spec.input.height;
    const plane = width * height;
    // Zero is PaddleOCR's padding: mid-grey after normalisation.
    const data = new Float32Array(batch.length * 3 * plane);
    batch.forEach(({ v }, n) => {
      const crop = sampleView(mips, v, spec.input);
      for (let ch = 0; ch < 3; ch++) {
        for (let y = 0; y < height; y++) {
          const from = (ch * height + y) * v.inputWidth;
          data.set(crop.subarray(from, from + v.inputWidth), (n * 3 + ch) * plane + y * width);
        }
      }
    });
    const outputs = await session.run({
      [spec.input.name]: { data, dims: [batch.length, 3, height, width] },
    });
    tally?.ran();
    const probs = outputs[decoder.output];
    if (!probs) throw new NestorError('E_INFERENCE', `The model returned no output named ${decoder.output}`);
    const [n, steps, classes] = probs.dims;
    if (probs.dims.length !== 3 || n !== batch.length || steps === undefined || classes !== charset.classes) {
      throw new NestorError(
        'E_INFERENCE',
        `${spec.id} returned shape [${probs.dims.join(', ')}], expected [${batch.length}, steps, ${charset.classes}]`,
      );
    }
    const size = steps * classes;
    batch.forEach(({ i }, n) => {
      out[i] = decodeCtc(probs.data.subarray(n * size, (n + 1) * size), steps, charset);
    });
  }
  return out;
}

/**
 * The view that scales a box (plus margin, clipped to the image) to the recogniser's height,
 * keeping its aspect; undefined when that needs more than `spec.maxScale` upsampling.
 */
export function cropView(
  box: ImageBox,
  imageWidth: number,
  imageHeight: number,
  spec: ModelSpec,
  margin: number,
): View | undefined {
  const m = margin * box.height;
  const source = clipToImage(
    imageBox(box.x - m, box.y - m, box.width + 2 * m, box.height + 2 * m),
    imageWidth,
    imageHeight,
  );
  if (source.width <= 0 || source.height <= 0) return undefined;
  const inputHeight = spec.input.height;
  const scale = Math.min(inputHeight / source.height, spec.input.width / source.width);
  if (scale > spec.maxScale) return undefined;
  const inputWidth = Math.max(1, Math.round(source.width * scale));
  return { source, scale, inputWidth, inputHeight };
}
