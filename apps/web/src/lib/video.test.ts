import type { JobStatus } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { jobFields } from './jobs.ts';
import {
  anonymizedVideoName,
  correctionsName,
  errorFromAnswer,
  isVideoFile,
  jobFailure,
  splitEta,
  summarizeVideo,
  videoDetectionsName,
} from './video.ts';
import { videoDetections } from './video-detections.fixture.ts';

describe('video page helpers', () => {
  it.each([
    ['clip.mp4', '', true],
    ['CLIP.MOV', '', true],
    ['holiday.mkv', '', true],
    ['a.webm', '', true],
    ['no-extension', 'video/mp4', true],
    ['photo.jpg', 'image/jpeg', false],
    ['notes.txt', 'text/plain', false],
  ])('isVideoFile(%s, %s) is %s', (name, type, expected) => {
    expect(isVideoFile(name, type)).toBe(expected);
  });

  it.each([
    ['clip.mov', 'anonymized.mov', 'clip.anonymized.mov'],
    ['my.holiday.mp4', 'anonymized.mp4', 'my.holiday.anonymized.mp4'],
    ['.mkv', 'anonymized.mkv', 'video.anonymized.mkv'],
  ])('anonymizedVideoName(%s, %s) is %s', (original, result, expected) => {
    expect(anonymizedVideoName(original, result)).toBe(expected);
  });

  it('names the detections and corrections files after the video', () => {
    expect(videoDetectionsName('clip.webm')).toBe('clip.detections.json');
    expect(correctionsName('walk.gif')).toBe('walk.corrections.json');
  });

  it.each([
    [0, { minutes: 0, seconds: 0 }],
    [4.2, { minutes: 0, seconds: 5 }],
    [65, { minutes: 1, seconds: 5 }],
    [-3, { minutes: 0, seconds: 0 }],
  ])('splitEta(%s)', (seconds, expected) => {
    expect(splitEta(seconds)).toEqual(expected);
  });

  it('summarizes a video detections JSON', () => {
    const detections = videoDetections({
      video: { ...videoDetections().video, width: 320, height: 240, audioStreams: 1 },
      frames: [
        { index: 3, timeMs: 120, detections: [] },
        { index: 4, timeMs: 160, detections: [] },
      ],
      tracks: [
        { id: 1, label: 'face', firstFrame: 3, lastFrame: 4, sightings: 1, misses: 0, maxScore: 0.9 },
        { id: 2, label: 'plate', firstFrame: 3, lastFrame: 3, sightings: 1, misses: 0, maxScore: 0.8 },
      ],
      counts: { face: 1, plate: 1 },
      stats: { detectEvery: 2, detectorRuns: 25, trackedFrames: 1, detectorMisses: 0, flickerFrames: 0 },
      timings: { totalMs: 4000, fps: 12.345 },
    });
    expect(summarizeVideo(detections)).toEqual({
      frames: 50,
      durationSeconds: 2,
      framesWithRegions: 2,
      tracks: 2,
      counts: { face: 1, plate: 1 },
      fps: 12.3,
    });
  });

  it('turns error answers and failed jobs into coded errors', () => {
    const known = errorFromAnswer(
      413,
      JSON.stringify({ error: { code: 'E_INPUT_TOO_LARGE', message: 'big' } }),
    );
    expect([known.code, known.message, known.details]).toEqual([
      'E_INPUT_TOO_LARGE',
      'big',
      { status: 413, code: 'E_INPUT_TOO_LARGE' },
    ]);
    const facts = { option: 'quality', reason: 'range', maximum: 100 };
    const option = errorFromAnswer(
      400,
      JSON.stringify({ error: { code: 'E_INVALID_OPTION', message: 'm', details: { ...facts, secret: 1 } } }),
    );
    expect(option.details).toEqual({ ...facts, status: 400, code: 'E_INVALID_OPTION' });
    const future = errorFromAnswer(400, JSON.stringify({ error: { code: 'E_NEW', message: 'new' } }));
    expect([future.code, future.details?.code]).toEqual(['E_INTERNAL', 'E_NEW']);
    expect(errorFromAnswer(502, '<h1>Bad gateway</h1>').code).toBe('E_INTERNAL');
    const failed: JobStatus = {
      id: 'x',
      kind: 'video',
      state: 'failed',
      progress: 0.2,
      attempts: 1,
      error: { code: 'E_UNSUPPORTED_MEDIA', message: 'not a video' },
    };
    expect(jobFailure(failed).code).toBe('E_UNSUPPORTED_MEDIA');
  });

  it('sends the method and strength only when anonymizing', () => {
    const options = { targets: ['face', 'plate'], method: 'pixelate', strength: 2 } as const;
    expect(jobFields({ ...options, task: 'anonymize' })).toEqual([
      ['task', 'anonymize'],
      ['targets', 'face,plate'],
      ['method', 'pixelate'],
      ['strength', '2'],
    ]);
    expect(jobFields({ ...options, task: 'detect' })).toEqual([
      ['task', 'detect'],
      ['targets', 'face,plate'],
    ]);
  });

  it("sends a person's corrections as the JSON of addRegions and suppress, only when there are some", () => {
    const options = { task: 'detect', targets: ['face'], method: 'pixelate', strength: 2 } as const;
    const region = { label: 'face', x: 1, y: 2, width: 3, height: 4, shape: 'ellipse' } as const;
    const area = { x: 5, y: 6, width: 7, height: 8, fromMs: 0, toMs: 40 };
    const fields = jobFields(options, [
      { id: 'a', kind: 'cover', region, fromMs: 100, toMs: 200 },
      { id: 'b', kind: 'drop', label: 'face', areas: [area], fromMs: 0, toMs: 40 },
    ]);
    expect(fields.slice(2)).toEqual([
      ['addRegions', JSON.stringify([{ ...region, fromMs: 100, toMs: 200 }])],
      ['suppress', JSON.stringify([area])],
    ]);
    expect(jobFields(options, [])).toHaveLength(2);
  });
});
