import { describe, expect, it } from 'vitest';
import { CROWD_RULES, crowdAreas } from './crowd.ts';
import { type ImageBox, imageBox } from './geometry.ts';

const face = (x: number, y: number, side: number): ImageBox => imageBox(x, y, side, side);
const rules = { ...CROWD_RULES, limitInput: 40, minFaces: 2, spreadX: 8, spreadY: 5 };

describe('crowdAreas', () => {
  // A 4000x3000 photo read at scale 0.2: a face under 200 px sits at the 40-input-pixel limit.
  const cases: { name: string; faces: ImageBox[]; expected: ImageBox[] }[] = [
    { name: 'no faces', faces: [], expected: [] },
    { name: 'one face at the limit is not a crowd', faces: [face(1000, 1000, 100)], expected: [] },
    {
      name: 'large faces are read well enough already',
      faces: [face(500, 500, 300), face(1500, 500, 250)],
      expected: [],
    },
    {
      name: 'two distant faces at the limit open an area each, 8 x 5 face sides around them',
      faces: [face(500, 500, 100), face(3000, 2000, 50)],
      expected: [imageBox(150, 300, 800, 500), imageBox(2825, 1900, 400, 250)],
    },
    {
      name: 'areas that overlap merge into one',
      faces: [face(1000, 1000, 100), face(1300, 1000, 100)],
      expected: [imageBox(650, 800, 1100, 500)],
    },
    {
      name: 'a merge that reaches a third area takes it in too',
      faces: [face(1000, 1000, 100), face(2000, 1000, 100), face(1500, 1000, 100)],
      expected: [imageBox(650, 800, 1800, 500)],
    },
    {
      name: 'areas are clipped to the photo',
      faces: [face(0, 0, 100), face(3900, 2900, 100)],
      expected: [imageBox(0, 0, 450, 300), imageBox(3550, 2700, 450, 300)],
    },
    {
      name: 'a large face does not count towards the crowd nor open an area',
      faces: [face(500, 500, 100), face(600, 500, 400)],
      expected: [],
    },
  ];
  it.each(cases)('$name', ({ faces, expected }) => {
    expect(crowdAreas(faces, 4000, 3000, 0.2, rules)).toEqual(expected);
  });

  it('measures a face by its short side against the limit', () => {
    const tall = imageBox(1000, 1000, 150, 260);
    expect(crowdAreas([tall, face(3000, 2000, 100)], 4000, 3000, 0.2, rules)).toHaveLength(2);
    expect(crowdAreas([tall, face(3000, 2000, 100)], 4000, 3000, 0.3, rules)).toEqual([]);
  });
});
