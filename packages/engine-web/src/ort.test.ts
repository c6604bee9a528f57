import { NestorError } from '@nestor/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseBackend, directoryUrl, loadOrt, missingBrowserFeatures, threadCount } from './ort.ts';

afterEach(() => vi.unstubAllGlobals());

describe('chooseBackend', () => {
  it.each([
    { name: 'WebGPU not wanted', prefer: false, gpu: { requestAdapter: async () => ({}) }, want: 'wasm' },
    { name: 'no navigator.gpu', prefer: true, gpu: undefined, want: 'wasm' },
    { name: 'no adapter', prefer: true, gpu: { requestAdapter: async () => null }, want: 'wasm' },
    {
      name: 'adapter request throws',
      prefer: true,
      gpu: {
        requestAdapter: async () => {
          throw new Error('blocked');
        },
      },
      want: 'wasm',
    },
    { name: 'an adapter', prefer: true, gpu: { requestAdapter: async () => ({}) }, want: 'webgpu' },
  ])('$name → $want', async ({ prefer, gpu, want }) => {
    vi.stubGlobal('navigator', { gpu, hardwareConcurrency: 8 });
    expect(await chooseBackend(prefer)).toBe(want);
  });
});

describe('threadCount', () => {
  it.each([
    { isolated: false, requested: 0, cores: 8, want: 1 },
    { isolated: false, requested: 6, cores: 8, want: 1 },
    { isolated: true, requested: 0, cores: 16, want: 4 },
    { isolated: true, requested: 0, cores: 6, want: 3 },
    { isolated: true, requested: 0, cores: 2, want: 1 },
    { isolated: true, requested: 3, cores: 8, want: 3 },
  ])(
    'isolated $isolated, requested $requested, $cores cores → $want',
    ({ isolated, requested, cores, want }) => {
      vi.stubGlobal('crossOriginIsolated', isolated);
      vi.stubGlobal('navigator', { hardwareConcurrency: cores });
      expect(threadCount(requested)).toBe(want);
    },
  );
});

describe('directoryUrl', () => {
  it.each([
    { input: 'http://127.0.0.1:5050/ort', want: 'http://127.0.0.1:5050/ort/' },
    { input: 'http://127.0.0.1:5050/', want: 'http://127.0.0.1:5050/' },
    { input: new URL('https://nestor.example/app/models/'), want: 'https://nestor.example/app/models/' },
  ])('$input → $want', ({ input, want }) => {
    expect(directoryUrl(input).href).toBe(want);
  });

  it('resolves a relative URL against the page location', () => {
    vi.stubGlobal('location', { href: 'http://127.0.0.1:5050/fr/device/' });
    expect(directoryUrl('/').href).toBe('http://127.0.0.1:5050/');
    expect(directoryUrl('assets').href).toBe('http://127.0.0.1:5050/fr/device/assets/');
  });
});

describe('loadOrt refuses with a typed error', () => {
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) =>
        error instanceof NestorError ? { code: error.code, details: error.details } : error,
    );

  it('names what the browser lacks, before fetching anything', async () => {
    expect(missingBrowserFeatures()).toEqual([]);
    vi.stubGlobal('WebAssembly', undefined);
    vi.stubGlobal('crypto', {});
    expect(await failure(loadOrt({ ortBaseUrl: 'http://127.0.0.1:9/ort/', backend: 'wasm' }))).toEqual({
      code: 'E_MODEL_LOAD',
      details: { missing: ['WebAssembly', 'Web Crypto'] },
    });
  });

  it('when the runtime cannot be loaded', async () => {
    const base = new URL('./no-such-ort-folder/', import.meta.url);
    expect(await failure(loadOrt({ ortBaseUrl: base, backend: 'wasm' }))).toEqual({
      code: 'E_MODEL_LOAD',
      details: undefined,
    });
  });
});
