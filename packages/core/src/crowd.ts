import { area, boundingBox, clipToImage, type ImageBox, imageBox, intersectionArea } from './geometry.ts';

/** When and where a large photo's faces are searched again, finer. */
export interface CrowdRules {
  /** A face whose side, read at the first pass's scale, is below this many input pixels sits at the resolution limit. */
  readonly limitInput: number;
  /** Fewer faces at the limit than this: no crowd, no second look. */
  readonly minFaces: number;
  /** The area searched around such a face, in face sides: neighbours sit beside it more than above. */
  readonly spreadX: number;
  readonly spreadY: number;
  /**
   * Noisy-or weight of each model's finds in a crowd: beside faces already found, a face the model
   * sees on its own is likelier, so 4 keeps one from a score of 0.29 at the default threshold of 0.75.
   */
  readonly modelWeight: number;
}

/** Measured on 12 MP crowds made of the dev set's photos (`nestor mosaic`); see docs/detection.md. */
export const CROWD_RULES: CrowdRules = {
  limitInput: 60,
  minFaces: 2,
  spreadX: 8,
  spreadY: 5,
  modelWeight: 4,
};

/**
 * Areas of a photo to search again for faces: where faces were found at the resolution limit of a
 * pass that read the photo at `scale`, smaller ones are likely beside them. Each such face opens an
 * area around it; areas that touch are merged, so a crowd is searched as one.
 */
export function crowdAreas(
  faces: readonly ImageBox[],
  width: number,
  height: number,
  scale: number,
  rules: CrowdRules,
): ImageBox[] {
  const atLimit = faces.filter((f) => Math.min(f.width, f.height) * scale < rules.limitInput);
  if (atLimit.length < rules.minFaces) return [];
  let areas = atLimit.map((f) => {
    const side = Math.max(f.width, f.height);
    const w = side * rules.spreadX;
    const h = side * rules.spreadY;
    return clipToImage(imageBox(f.x + f.width / 2 - w / 2, f.y + f.height / 2 - h / 2, w, h), width, height);
  });
  for (let merged = true; merged; ) {
    merged = false;
    const out: ImageBox[] = [];
    for (const a of areas) {
      const i = out.findIndex((o) => intersectionArea(o, a) > 0);
      if (i < 0) {
        out.push(a);
        continue;
      }
      out[i] = boundingBox([out[i]!, a]);
      merged = true;
    }
    areas = out;
  }
  return areas.filter((a) => area(a) > 0);
}
