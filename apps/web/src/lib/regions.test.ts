import { describe, expect, it } from 'vitest';
import {
  applyKeyEdit,
  clampRegion,
  dragRect,
  type EditableRegion,
  fromDetections,
  keyEdit,
  newRegion,
  resizeRegion,
  toReviewed,
} from './regions.ts';

const IMAGE = { width: 400, height: 200 };
const FACE: EditableRegion = {
  id: 'a',
  label: 'face',
  x: 10,
  y: 20,
  width: 40,
  height: 50,
  shape: 'ellipse',
  source: 'model',
  score: 0.9,
};

describe('clampRegion', () => {
  it.each([
    [
      { x: -5, y: -5, width: 40, height: 50 },
      { x: 0, y: 0, width: 40, height: 50 },
    ],
    [
      { x: 390, y: 190, width: 40, height: 50 },
      { x: 360, y: 150, width: 40, height: 50 },
    ],
    [
      { x: 10.4, y: 20.6, width: 1, height: 0.5 },
      { x: 10, y: 21, width: 4, height: 4 },
    ],
    [
      { x: 0, y: 0, width: 900, height: 900 },
      { x: 0, y: 0, width: 400, height: 200 },
    ],
  ])('%j → %j', (input, expected) => {
    expect(clampRegion({ ...FACE, ...input }, IMAGE)).toMatchObject(expected);
  });
});

describe('keyboard edits', () => {
  const key = (k: string, shiftKey = false, altKey = false) => keyEdit({ key: k, shiftKey, altKey }, IMAGE);
  it.each([
    ['ArrowRight', false, false, { x: 12, y: 20, width: 40, height: 50 }],
    ['ArrowLeft', true, false, { x: 0, y: 20, width: 40, height: 50 }],
    ['ArrowDown', false, false, { x: 10, y: 22, width: 40, height: 50 }],
    ['ArrowRight', false, true, { x: 10, y: 20, width: 42, height: 50 }],
    ['ArrowUp', true, true, { x: 10, y: 20, width: 40, height: 30 }],
    ['ArrowDown', true, true, { x: 10, y: 20, width: 40, height: 70 }],
  ] as const)('%s shift=%s alt=%s → %j', (k, shift, alt, expected) => {
    const edit = key(k, shift, alt);
    expect(edit).toBeDefined();
    expect(applyKeyEdit(FACE, edit!, IMAGE)).toMatchObject(expected);
  });

  it('Delete and Backspace remove; other keys do nothing', () => {
    expect(applyKeyEdit(FACE, key('Delete')!, IMAGE)).toBeUndefined();
    expect(key('Backspace')).toEqual({ kind: 'remove' });
    expect(key('a')).toBeUndefined();
  });

  it('resizing stops at the image edge', () => {
    expect(resizeRegion({ ...FACE, x: 380 }, 100, 0, IMAGE)).toMatchObject({ x: 380, width: 20 });
  });
});

describe('regions', () => {
  it('newRegion is centred, of the label shape, inside the image', () => {
    expect(newRegion('face', 'n', IMAGE)).toMatchObject({
      x: 180,
      y: 80,
      width: 40,
      height: 40,
      shape: 'ellipse',
      source: 'manual',
    });
    expect(newRegion('plate', 'p', IMAGE, 0, 0)).toMatchObject({
      x: 0,
      y: 0,
      width: 80,
      height: 20,
      shape: 'rect',
    });
  });

  it('dragRect spans a drag in any direction', () => {
    expect(dragRect(50, 60, 10, 20)).toEqual({ x: 10, y: 20, width: 40, height: 40 });
  });

  it('fromDetections takes the covered region; toReviewed keeps what the API reads', () => {
    const regions = fromDetections([
      {
        label: 'plate',
        score: 0.7,
        box: { x: 1, y: 2, width: 3, height: 4 },
        region: { x: 0, y: 1, width: 5, height: 6 },
        shape: 'rect',
        source: 'model',
      },
    ]);
    expect(regions).toEqual([
      {
        id: 'd0',
        label: 'plate',
        x: 0,
        y: 1,
        width: 5,
        height: 6,
        shape: 'rect',
        source: 'model',
        score: 0.7,
      },
    ]);
    expect(toReviewed(regions)).toEqual([{ label: 'plate', x: 0, y: 1, width: 5, height: 6, shape: 'rect' }]);
  });
});
