import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createNodeNestor, loadConfig } from '@nestor/engine-node';
import { describe, expect, it } from 'vitest';
import { type GroundTruthImage, type Prediction, scoreDetections, toPrediction } from './eval-metrics.ts';
import { DEV_SET, HAS_DEV_SET, REPO_ROOT, SKIP_DEV_SET_REASON } from './test-support.ts';

/**
 * Regression floors on ../shared/eval/dev with the default config (balanced preset), scored like
 * shared/tools/eval.mjs (min side 10 px). They sit just under what `npm run eval` measures today,
 * so a change that loses detections fails here; see the README for the current numbers.
 */
const FLOORS = {
  // `npm run eval` measures 0.916 / 0.976 / 0.882, plates 0.983 (issue #8 asks plates >= 0.98).
  face: { recall_cover70: 0.91, recall_cover70_24px: 0.97, precision_complete: 0.86 },
  // One plate of 175 may flip on another machine's float rounding; two lost fail.
  plate: { recall_cover70: 0.977 },
};

describe.skipIf(!HAS_DEV_SET)('detection on the dev set', () => {
  it('meets the regression floors', { timeout: 30 * 60_000 }, async () => {
    const images = (
      JSON.parse(await readFile(path.join(DEV_SET, 'annotations.json'), 'utf8')) as {
        images: GroundTruthImage[];
      }
    ).images;
    const { config, modelsDir } = loadConfig({ cwd: REPO_ROOT });
    const nestor = createNodeNestor(config, modelsDir);
    const predictions: Record<string, Prediction[]> = {};
    try {
      for (const img of images) {
        const result = await nestor.detect(new Uint8Array(await readFile(path.join(DEV_SET, img.file))));
        predictions[img.file] = result.detections.map(toPrediction);
      }
    } finally {
      await nestor.dispose();
    }
    const all = scoreDetections(images, predictions, 10);
    const large = scoreDetections(images, predictions, 24);
    expect(all.face!.recall_cover70).toBeGreaterThanOrEqual(FLOORS.face.recall_cover70);
    expect(large.face!.recall_cover70).toBeGreaterThanOrEqual(FLOORS.face.recall_cover70_24px);
    expect(all.face!.precision_complete).toBeGreaterThanOrEqual(FLOORS.face.precision_complete);
    expect(all.plate!.recall_cover70).toBeGreaterThanOrEqual(FLOORS.plate.recall_cover70);
  });
});

describe.skipIf(HAS_DEV_SET)('detection on the dev set', () => {
  it(SKIP_DEV_SET_REASON, () => {});
});
