import { detectionConfig, NestorError, parseConfig } from '@nestor/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  checkAnimatedFormat,
  DEVICE_FORMATS,
  deviceOutputFormat,
  deviceSingleThreaded,
  requestOptions,
  type StudioOptions,
} from './engines.ts';

describe('request options', () => {
  const form: StudioOptions = {
    task: 'anonymize',
    preset: 'fast',
    targets: ['face'],
    method: 'pixelate',
    strength: 1.5,
    feather: 0.2,
    minScore: { face: 0.6, plate: 0.7 },
    format: 'png',
    quality: 80,
    keepMetadata: false,
  };

  it('sends every option the form and the server defaults hold (the task picks the route), so both engines redact alike', () => {
    const { task, ...sent } = form;
    expect(task).toBe('anonymize');
    expect(requestOptions(form)).toEqual(sent);
  });

  it("a reviewed still replaces the detectors; an animation's fixes add their timed regions and areas", () => {
    const region = { label: 'face', x: 1, y: 2, width: 30, height: 40, shape: 'ellipse' } as const;
    const reviewed = requestOptions(form, { regions: [region], width: 200, height: 100 });
    expect([reviewed.addRegions, reviewed.suppress]).toEqual([
      [region],
      [{ x: 0, y: 0, width: 200, height: 100 }],
    ]);
    const area = { x: 5, y: 5, width: 10, height: 10, fromMs: 0, toMs: 80 };
    const fixed = requestOptions(form, undefined, [
      { id: 'a', kind: 'cover', region, fromMs: 100, toMs: 300 },
      { id: 'b', kind: 'drop', label: 'face', areas: [area], fromMs: 0, toMs: 80 },
    ]);
    expect([fixed.addRegions, fixed.suppress]).toEqual([[{ ...region, fromMs: 100, toMs: 300 }], [area]]);
  });
});

describe('on-device output format', () => {
  it('offers only what the browser writes', () => {
    expect(DEVICE_FORMATS).toEqual(['same', 'jpeg', 'png', 'webp']);
  });

  it.each([
    ['same', 'jpeg', 'same'],
    ['same', 'webp', 'same'],
    ['same', 'avif', 'webp'],
    ['same', 'gif', 'png'],
    ['same', 'tiff', 'png'],
    ['same', 'heic', 'same'],
    ['png', 'heic', 'png'],
    ['same', undefined, 'same'],
    ['jpeg', 'avif', 'jpeg'],
  ] as const)('chosen %s, input %s → %s', (chosen, input, expected) => {
    expect(deviceOutputFormat(chosen, input)).toBe(expected);
  });
});

describe('animated input and the output format', () => {
  /** A GIF89a with `frames` 1x1 image descriptors (each with a 2-byte LZW block). */
  const gif = (frames: number) =>
    new Uint8Array([
      ...[...'GIF89a'].map((c) => c.charCodeAt(0)),
      ...[1, 0, 1, 0, 0, 0, 0],
      ...Array.from({ length: frames }, () => [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0]).flat(),
      0x3b,
    ]);

  it.each([
    { name: 'animated GIF as JPEG', frames: 3, format: 'jpeg', refused: true },
    { name: 'animated GIF as PNG', frames: 3, format: 'png', refused: true },
    { name: 'animated GIF as WebP', frames: 3, format: 'webp', refused: false },
    { name: 'animated GIF as the input', frames: 3, format: 'same', refused: false },
    { name: 'still GIF as JPEG', frames: 1, format: 'jpeg', refused: false },
  ] as const)('$name: refused before upload $refused', ({ frames, format, refused }) => {
    const error = (() => {
      try {
        checkAnimatedFormat(gif(frames), format);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    if (!refused) return expect(error).toBeUndefined();
    expect(error).toBeInstanceOf(NestorError);
    expect([(error as NestorError).code, (error as NestorError).details]).toEqual([
      'E_INVALID_OPTION',
      { animatedFrames: 3 },
    ]);
  });
});

/**
 * A stand-in for the device worker (Node has no Web Workers): it records how it was made and what
 * it was sent, and answers each start from `answers` in turn (the last one repeats): as the worker
 * does, or with the worker's own error. `crash` fires `error` as a worker that failed does.
 */
function fakeWorkers(...answers: ('started' | 'start-failed')[]) {
  const made: { url: string; options: WorkerOptions | undefined; sent: unknown[]; crash: () => void }[] = [];
  class FakeWorker extends EventTarget {
    private readonly record: (typeof made)[number];
    private readonly answer = answers[Math.min(made.length, answers.length - 1)];
    constructor(url: URL, options?: WorkerOptions) {
      super();
      this.record = {
        url: String(url),
        options,
        sent: [],
        crash: () => this.dispatchEvent(new Event('error')),
      };
      made.push(this.record);
    }
    postMessage(message: { type: string }) {
      this.record.sent.push(message);
      const data =
        this.answer === 'started'
          ? {
              type: 'started',
              info: { engine: 'onnxruntime-web/wasm', threads: 1, crossOriginIsolated: true },
            }
          : { type: 'start-failed', error: { code: 'E_MODEL_LOAD', message: 'no models here' } };
      if (message.type === 'start')
        queueMicrotask(() => this.dispatchEvent(new MessageEvent('message', { data })));
    }
    terminate() {}
  }
  vi.stubGlobal('Worker', FakeWorker);
  return made;
}

describe('the on-device pipeline', () => {
  const server = parseConfig({ classes: { face: { minScore: 0.92 }, plate: { iouThreshold: 0.45 } } });
  let asked: string[];
  /** engines.ts afresh (it keeps its pipeline, as the page does), against a server's app-config. */
  async function freshEngines() {
    vi.resetModules();
    asked = [];
    vi.stubGlobal('window', { location: { origin: 'http://nestor.test' } });
    vi.stubGlobal('fetch', async (url: string) => {
      asked.push(url);
      return Response.json({ detection: detectionConfig(server) });
    });
    return import('./engines.ts');
  }
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("starts a module worker with the server's detection settings from GET /v1/app-config, not the built-in defaults", async () => {
    const { devicePipeline } = await freshEngines();
    const made = fakeWorkers('started');
    const nestor = await devicePipeline();
    expect(asked).toEqual(['http://nestor.test/v1/app-config']);
    expect(nestor.info).toEqual({ engine: 'onnxruntime-web/wasm', threads: 1, crossOriginIsolated: true });
    expect(made).toHaveLength(1);
    expect(made[0]!.url).toMatch(/\/device\.worker\.ts$/);
    expect(made[0]!.options).toEqual({ type: 'module' });
    expect(made[0]!.sent).toEqual([
      {
        type: 'start',
        options: {
          assetsBaseUrl: 'http://nestor.test/',
          preferWebGpu: true,
          config: JSON.parse(JSON.stringify(detectionConfig(server))),
        },
      },
    ]);
    // Made once: later runs share it.
    expect(await devicePipeline()).toBe(nestor);
    expect(made).toHaveLength(1);
  });

  it('a start that failed, or a worker that failed, is replaced by a new worker at the next run', async () => {
    const { devicePipeline } = await freshEngines();
    const made = fakeWorkers('start-failed', 'started');
    await expect(devicePipeline()).rejects.toMatchObject({ code: 'E_MODEL_LOAD' });
    const second = await devicePipeline();
    expect(made).toHaveLength(2);
    made[1]!.crash();
    expect(second.usable).toBe(false);
    const third = await devicePipeline();
    expect(third).not.toBe(second);
    expect(third.usable).toBe(true);
    expect(made).toHaveLength(3);
  });
});

describe('on-device threads', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it.each([
    { isolated: true, single: false },
    { isolated: false, single: true },
    { isolated: undefined, single: true },
  ])('crossOriginIsolated $isolated: one thread only $single', ({ isolated, single }) => {
    vi.stubGlobal('crossOriginIsolated', isolated);
    expect(deviceSingleThreaded()).toBe(single);
  });
});
