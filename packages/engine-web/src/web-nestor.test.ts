import {
  type DetectionConfig,
  detectionConfig,
  type Engine,
  NestorError,
  parseConfig,
  resolveSettings,
} from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { createWebNestor, WebNestor, webNestorConfig, webNestorDeps } from './web-nestor.ts';

/** An engine that must not be reached: these checks come before any work. */
const unreachable: Engine = {
  name: 'unreachable',
  loadModel: () => Promise.reject(new NestorError('E_INTERNAL', 'the engine was reached')),
};
const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: NestorError) => e.code,
  );

describe('WebNestor', () => {
  const nestor = new WebNestor(webNestorDeps(unreachable, parseConfig({ limits: { maxBytes: 10 } })));

  it.each([
    {
      name: 'a Blob over maxBytes, before reading it',
      run: () => nestor.detect(new Blob([new Uint8Array(11)])),
      want: 'E_INPUT_TOO_LARGE',
    },
    { name: 'bytes over maxBytes', run: () => nestor.detect(new Uint8Array(11)), want: 'E_INPUT_TOO_LARGE' },
    { name: 'an empty Blob', run: () => nestor.detect(new Blob([])), want: 'E_EMPTY_INPUT' },
    {
      name: 'a Blob that is no image',
      run: () => nestor.anonymize(new Blob(['hello'])),
      want: 'E_UNSUPPORTED_MEDIA',
    },
    {
      name: 'keepMetadata',
      run: () => nestor.anonymize(new Uint8Array(5), { keepMetadata: true }),
      want: 'E_INVALID_OPTION',
    },
  ])('refuses $name with $want', async ({ run, want }) => {
    expect(await code(run())).toBe(want);
  });

  it('explains why keepMetadata cannot be honoured, in the one option-error format', async () => {
    await expect(nestor.anonymize(new Uint8Array(5), { keepMetadata: true })).rejects.toThrow(
      'Expected false on this device (browser encoders cannot keep metadata) for keepMetadata but received true of type boolean',
    );
  });

  it.each([
    { task: 'anonymize', run: (n: WebNestor, b: Uint8Array) => n.anonymize(b) },
    { task: 'detect', run: (n: WebNestor, b: Uint8Array) => n.detect(b) },
  ])('refuses to $task an animated GIF rather than read its first frame alone', async ({ run }) => {
    const onDevice = new WebNestor(webNestorDeps(unreachable, parseConfig({})));
    const error = await run(onDevice, twoFrameGif()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA', details: { animatedFrames: 2 } });
    expect((error as NestorError).message).toBe(
      'This image is animated (2 frames); on this device only its first frame could be read, so anonymize it on the server',
    );
  });

  it('refuses an animated AVIF rather than read its first frame alone', async () => {
    const onDevice = new WebNestor(webNestorDeps(unreachable, parseConfig({})));
    // An ISO-BMFF ftyp box: major brand avis (an image sequence), compatible avif and mif1.
    const ftyp = new Uint8Array([0, 0, 0, 24, ...ascii('ftypavis'), 0, 0, 0, 0, ...ascii('avifmif1')]);
    const error = await onDevice.anonymize(ftyp).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA', details: { format: 'avif', sequence: true } });
  });

  it('createWebNestor refuses a config with output.keepMetadata before loading anything', async () => {
    expect(
      await code(
        createWebNestor({ assetsBaseUrl: 'http://127.0.0.1:1/', config: { output: { keepMetadata: true } } }),
      ),
    ).toBe('E_INVALID_OPTION');
  });
});

describe("webNestorConfig: the server's detection settings on device", () => {
  const server = parseConfig({
    classes: { face: { minScore: 0.92, presets: { fast: { models: ['retinaface-mnet025'] } } } },
    auth: { mode: 'accounts' },
  });
  /** As the web app receives it: JSON from GET /v1/app-config. */
  const sent: DetectionConfig = JSON.parse(JSON.stringify(detectionConfig(server)));

  it('a customised threshold and preset model reach the on-device pipeline', () => {
    const onDevice = new WebNestor(webNestorDeps(unreachable, webNestorConfig(sent)));
    const face = (preset: 'fast' | 'balanced') => resolveSettings(onDevice.config, { preset }).classes.face;
    expect(face('balanced').minScore).toBe(0.92);
    expect(face('fast')).toMatchObject({ minScore: 0.92, models: ['retinaface-mnet025'] });
    expect(face('fast')).toEqual(resolveSettings(server, { preset: 'fast' }).classes.face);
  });

  it.each([
    { where: 'a class', missing: 'yolo-plates-v9', classes: { plate: { models: ['yolo-plates-v9'] } } },
    {
      where: 'a preset',
      missing: 'scrfd-10g',
      classes: { face: { presets: { thorough: { models: ['scrfd-10g'] } } } },
    },
    { where: 'the verifier', missing: 'ppocr-v5-rec', classes: { plate: { verifier: 'ppocr-v5-rec' } } },
  ])(
    'refuses a model this build lacks, named in $where, before loading anything',
    async ({ missing, classes }) => {
      expect(() => webNestorConfig({ classes })).toThrow(
        expect.objectContaining({
          code: 'E_INVALID_CONFIG',
          message: `The configuration names models this web app does not have: ${missing}`,
          details: { unknownModels: [missing] },
        }),
      );
      expect(await code(createWebNestor({ assetsBaseUrl: 'http://127.0.0.1:1/', config: { classes } }))).toBe(
        'E_INVALID_CONFIG',
      );
    },
  );
});

/** A 2x2 GIF89a with two frames (each a 2-colour image of 4 pixels). */
function twoFrameGif(): Uint8Array {
  const frame = [0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x4c, 0x01, 0];
  return new Uint8Array([
    ...new TextEncoder().encode('GIF89a'),
    ...[2, 0, 2, 0, 0x80, 0, 0],
    ...[0, 0, 0, 255, 255, 255],
    ...frame,
    ...frame,
    0x3b,
  ]);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}
