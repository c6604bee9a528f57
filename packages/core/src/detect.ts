import type { Label } from './config.ts';
import { blazeAnchors, decodeBlazeFace } from './decoders/blazeface.ts';
import { decodeCenterNet } from './decoders/centernet.ts';
import { decodeDb } from './decoders/db.ts';
import { decodeRetinaFaceLevel } from './decoders/retinaface.ts';
import { decodeSsd } from './decoders/ssd.ts';
import type { InferenceSession, ModelSpec, Tensor } from './engine.ts';
import { NestorError } from './errors.ts';
import { clipToImage, type ImageBox, imageBox, type ModelBox, scaleAboutCentre } from './geometry.ts';
import { nms, weightedNms } from './nms.ts';
import { looksLikePlate, type SceneObject, sitsOnVehicle, type VehicleContextRules } from './plates.ts';
import type { RunTally } from './progress.ts';
import { letterboxView, type MipChain, sampleView, toImageBox, type View } from './sampling.ts';
import { planViews, type TilingOptions } from './tiling.ts';

/** A detection in image space before regions are planned. */
export interface Candidate {
  readonly label: Label;
  readonly box: ImageBox;
  readonly score: number;
  /** Every model's box for this object once an ensemble fused it; the region covers them all. */
  readonly sightings?: readonly ImageBox[];
}

export interface DetectorSettings {
  readonly minScore: number;
  readonly iouThreshold: number;
  /** Smallest object side (image pixels) looked for. */
  readonly minSize: number;
  readonly maxViews: number;
  /** Cap on the input pixels of a fully convolutional model over all its views. */
  readonly maxInputPixels: number;
  /** Also run every view mirrored and merge (finds more occluded and profile faces). */
  readonly mirror: boolean;
  /** Keep the model to the view cap of its manifest entry. */
  readonly modelViewCaps: boolean;
  /** How many views may be in inference at once. */
  readonly concurrency: number;
}

const anchorCache = new WeakMap<ModelSpec, Float32Array>();

/** Runs one model over a pyramid of views of the image and merges the results across views. */
export async function runDetector(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  settings: DetectorSettings,
  tally?: RunTally,
): Promise<Candidate[]> {
  const { width, height } = mips.base;
  const views: View[] = planViews(width, height, tilingFor(spec, settings));
  if (settings.mirror && spec.decoder.kind === 'blazeface') {
    // Mirrored copies, coarsest first, only fill what the view budget leaves.
    const room = Math.max(0, settings.maxViews - views.length);
    views.push(...views.slice(0, room).map((v) => ({ ...v, mirrored: true })));
  }
  const found = (await runViews(session, spec, mips, views, settings, tally)).flat();
  const merge = spec.decoder.kind === 'db' ? nms : weightedNms;
  return merge(found, { iouThreshold: settings.iouThreshold, containmentThreshold: 0.75 });
}

/** A vehicle or a person a context model found, in image space. */
export interface ContextObject extends SceneObject {
  readonly box: ImageBox;
}

/** Runs a context model (CenterNet) once over the whole image, letterboxed: its vehicles and people. */
export async function findContext(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  minScore: number,
  tally?: RunTally,
): Promise<ContextObject[]> {
  const decoder = spec.decoder;
  if (decoder.kind !== 'centernet') {
    throw new NestorError('E_INVALID_CONFIG', `Model ${spec.id} is not a context model`);
  }
  const { width, height } = mips.base;
  const view = letterboxView(imageBox(0, 0, width, height), spec.input.width, spec.input.height);
  tally?.plan(1);
  const outputs = await infer(session, spec, mips, view);
  tally?.ran();
  return decodeCenterNet(output(outputs, decoder.output).data, {
    classes: [...decoder.classes, ...decoder.personClasses],
    minScore,
    inputWidth: view.inputWidth,
    inputHeight: view.inputHeight,
  }).map((o) => ({
    kind: decoder.personClasses.includes(o.classId) ? ('person' as const) : ('vehicle' as const),
    box: clipToImage(toImageBox(o.box, view), width, height),
    score: o.score,
  }));
}

/**
 * Runs a plate model again inside each vehicle, planned as if the vehicle were the whole image:
 * a distant car's plate is read at the detail the whole-image input budget cannot afford. Only
 * finds where plates are mounted are kept.
 */
export async function runDetectorOnVehicles(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  scene: readonly ContextObject[],
  settings: DetectorSettings,
  rules: VehicleContextRules,
  tally?: RunTally,
): Promise<Candidate[]> {
  const { width, height } = mips.base;
  const searched = scene
    .filter((v) => v.kind === 'vehicle' && v.score >= rules.minVehicleScore)
    .sort((a, b) => b.score - a.score)
    .slice(0, rules.maxVehicles);
  const areas = searched.flatMap(({ box: vehicle }) => {
    const box = clipToImage(scaleAboutCentre(vehicle, 1 + 2 * rules.margin), width, height);
    return box.width < 8 || box.height < 8 ? [] : [{ box, vehicle }];
  });
  const found = await runDetectorInAreas(session, spec, mips, areas, settings, tally);
  return found.flatMap((candidates, i) =>
    candidates.filter((c) => sitsOnVehicle(c.box, areas[i]!.vehicle, rules)),
  );
}

/**
 * Runs a model over areas of the image, each planned as if it were the whole image under its own
 * input budget (the settings' where it has none), and returns each area's finds (not merged across areas).
 */
export async function runDetectorInAreas(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  areas: readonly { readonly box: ImageBox; readonly maxInputPixels?: number }[],
  settings: DetectorSettings,
  tally?: RunTally,
): Promise<Candidate[][]> {
  const planned = areas.flatMap(({ box, maxInputPixels }, area) =>
    planViews(
      box.width,
      box.height,
      tilingFor(spec, { ...settings, maxInputPixels: maxInputPixels ?? settings.maxInputPixels }),
    ).map((view) => ({
      area,
      view: {
        ...view,
        source: imageBox(view.source.x + box.x, view.source.y + box.y, view.source.width, view.source.height),
      },
    })),
  );
  const results = await runViews(
    session,
    spec,
    mips,
    planned.map((p) => p.view),
    settings,
    tally,
  );
  const perArea: Candidate[][] = areas.map(() => []);
  for (const [i, candidates] of results.entries()) perArea[planned[i]!.area]!.push(...candidates);
  return perArea;
}

/** Runs views in a sliding window: the next view is sampled while the engine still runs the previous one. */
async function runViews(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  views: readonly View[],
  settings: DetectorSettings,
  tally?: RunTally,
): Promise<Candidate[][]> {
  const results: Candidate[][] = new Array(views.length);
  tally?.plan(views.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < views.length) {
      const i = next++;
      results[i] = await runView(session, spec, mips, views[i]!, settings);
      tally?.ran();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, settings.concurrency) }, lane));
  return results;
}

async function runView(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  view: View,
  settings: DetectorSettings,
): Promise<Candidate[]> {
  if (spec.decoder.kind === 'ctc') {
    throw new NestorError('E_INVALID_CONFIG', `Model ${spec.id} reads text; it does not detect objects`);
  }
  if (spec.decoder.kind === 'centernet') {
    throw new NestorError(
      'E_INVALID_CONFIG',
      `Model ${spec.id} gives context; it does not detect ${spec.label}s`,
    );
  }
  const outputs = await infer(session, spec, mips, view);
  const decoder = spec.decoder;
  const label = spec.label;
  const inImage = (found: readonly { box: ModelBox; score: number }[]): Candidate[] =>
    found.map((c) => ({ label, box: toImageBox(c.box, view), score: c.score }));
  if (decoder.kind === 'blazeface') {
    let anchors = anchorCache.get(spec);
    if (!anchors) {
      anchors = blazeAnchors(decoder.layers);
      anchorCache.set(spec, anchors);
    }
    const scores: Float32Array[] = [];
    const regressors: Float32Array[] = [];
    for (const head of decoder.heads) {
      if ('packed' in head) {
        const split = unpack(output(outputs, head.packed));
        scores.push(split.scores);
        regressors.push(split.regressors);
      } else {
        scores.push(output(outputs, head.scores).data);
        regressors.push(output(outputs, head.regressors).data);
      }
    }
    const candidates = decodeBlazeFace(
      concat(scores),
      concat(regressors),
      anchors,
      spec.input.width,
      settings.minScore,
    );
    return inImage(candidates);
  }
  if (decoder.kind === 'ssd') {
    const candidates = decodeSsd(
      output(outputs, decoder.boxes).data,
      output(outputs, decoder.scores).data,
      view.inputWidth,
      view.inputHeight,
      settings.minScore,
    );
    return inImage(candidates);
  }
  if (decoder.kind === 'retinaface') {
    return decoder.levels.flatMap((level) => {
      const scores = output(outputs, level.scores);
      const candidates = decodeRetinaFaceLevel(
        scores.data,
        output(outputs, level.deltas).data,
        scores.dims[scores.dims.length - 1]!,
        scores.dims[scores.dims.length - 2]!,
        level,
        { width: view.inputWidth, height: view.inputHeight },
        settings.minScore,
      );
      return inImage(candidates);
    });
  }
  const map = output(outputs, decoder.output);
  const mapH = map.dims[map.dims.length - 2]!;
  const mapW = map.dims[map.dims.length - 1]!;
  const text = decodeDb(map.data, mapW, mapH, {
    binaryThreshold: decoder.binaryThreshold,
    minScore: settings.minScore,
    unclipRatio: decoder.unclipRatio,
    minSide: 2,
  });
  const { width, height } = mips.base;
  return text
    .map((t) => ({ label, box: toImageBox(t.box, view), score: t.score, fill: t.fill }))
    .filter((c) => looksLikePlate(c.box, c.fill, width, height))
    .map(({ fill: _fill, ...c }) => c);
}

/** How a model's views are planned under the detector settings. */
function tilingFor(spec: ModelSpec, settings: DetectorSettings): TilingOptions {
  return {
    inputWidth: spec.input.width,
    inputHeight: spec.input.height,
    modelMinObject: spec.minObject,
    minObject: settings.minSize,
    maxScale: spec.maxScale,
    levelStep: spec.levelStep ?? 2,
    maxViews:
      settings.modelViewCaps && spec.maxViews
        ? Math.min(settings.maxViews, spec.maxViews)
        : settings.maxViews,
    maxInputPixels: settings.maxInputPixels,
    ...(spec.input.sizeMultiple ? { sizeMultiple: spec.input.sizeMultiple } : {}),
    ...(spec.input.minLongSide ? { minLongSide: spec.input.minLongSide } : {}),
    ...(spec.input.maxWholePixels ? { maxWholePixels: spec.input.maxWholePixels } : {}),
  };
}

/** Samples one view into the model's input tensor and runs the model on it. */
function infer(
  session: InferenceSession,
  spec: ModelSpec,
  mips: MipChain,
  view: View,
): Promise<Record<string, Tensor>> {
  const data = sampleView(mips, view, spec.input);
  const dims =
    spec.input.layout === 'NHWC'
      ? [1, view.inputHeight, view.inputWidth, 3]
      : [1, 3, view.inputHeight, view.inputWidth];
  return session.run({ [spec.input.name]: { data, dims } });
}

function output(outputs: Record<string, Tensor>, name: string): Tensor {
  const t = outputs[name];
  if (!t) throw new NestorError('E_INFERENCE', `The model returned no output named ${name}`);
  return t;
}

/** Splits a [1, anchors, 1 + k] tensor into scores and k regressors per anchor. */
function unpack(t: Tensor): { scores: Float32Array; regressors: Float32Array } {
  const width = t.dims[t.dims.length - 1]!;
  const count = t.data.length / width;
  const scores = new Float32Array(count);
  const regressors = new Float32Array(count * (width - 1));
  for (let a = 0; a < count; a++) {
    scores[a] = t.data[a * width]!;
    regressors.set(t.data.subarray(a * width + 1, (a + 1) * width), a * (width - 1));
  }
  return { scores, regressors };
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
