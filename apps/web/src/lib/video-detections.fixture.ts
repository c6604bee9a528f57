import type { VideoDetections } from '@nestor/sdk';

/** A video detections JSON for tests: 2 s of 25 fps at 640x360, nothing found, with `changes` over it. */
export function videoDetections(changes: Partial<VideoDetections> = {}): VideoDetections {
  return {
    video: {
      width: 640,
      height: 360,
      container: 'mp4',
      frameRate: '25/1',
      variableFrameRate: false,
      timestamps: 'constant-rate',
      rotation: 0,
      frames: 50,
      durationMs: 2000,
      audioStreams: 0,
    },
    frames: [],
    tracks: [],
    counts: { face: 0, plate: 0 },
    stats: { detectEvery: 5, detectorRuns: 10, trackedFrames: 0, detectorMisses: 0, flickerFrames: 0 },
    timings: { totalMs: 1000, fps: 50 },
    models: {},
    ...changes,
  };
}
