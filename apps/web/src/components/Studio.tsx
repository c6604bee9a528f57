'use client';

import { compareDetections, LABELS, type Progress } from '@nestor/core';
import type { WorkerEngineInfo } from '@nestor/engine-web/worker-client';
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { redirectIfUnauthenticated } from '../lib/api.ts';
import { useAppConfig } from '../lib/app-config.tsx';
import { anonymizedName, detectionsName, saveBlob, zipBlob } from '../lib/download.ts';
import {
  DEVICE_FORMATS,
  devicePipeline,
  deviceSingleThreaded,
  type EngineKind,
  type RunOutput,
  requestOptions,
  run,
  runOnDevice,
  runOnServer,
  type StudioOptions,
  type Task,
} from '../lib/engines.ts';
import { errorMessage } from '../lib/errors.ts';
import { frameKind } from '../lib/frames.ts';
import { useLocale, useT } from '../lib/i18n.tsx';
import { preflight } from '../lib/preflight.ts';
import { advance, percentOf } from '../lib/progress.ts';
import { type EditableRegion, fromDetections, toReviewed } from '../lib/regions.ts';
import type { VideoFix } from '../lib/video-fixes.ts';
import { AnimationFixes } from './AnimationFixes.tsx';
import { type CompareOutcome, ComparePanel } from './ComparePanel.tsx';
import { BeforeAfter, ResultOverlay } from './ImageStage.tsx';
import { OptionsPanel } from './OptionsPanel.tsx';
import { ReviewEditor } from './ReviewEditor.tsx';
import { UploadArea } from './UploadArea.tsx';

interface Done extends RunOutput {
  readonly engine: EngineKind;
  readonly task: Task;
  readonly outputUrl?: string | undefined;
}

interface Item {
  readonly id: string;
  readonly file: File;
  readonly previewUrl: string;
  readonly status: 'waiting' | 'processing' | 'done' | 'error';
  readonly error?: unknown;
  readonly done?: Done | undefined;
  /** Regions a person reviewed: later runs cover exactly these. */
  readonly reviewed?: readonly EditableRegion[];
  /** An animation's corrections: later runs add them to what the detectors find. */
  readonly fixes?: readonly VideoFix[];
  readonly compare?:
    | { readonly state: 'running' }
    | { readonly state: 'done'; readonly outcome: CompareOutcome }
    | { readonly state: 'error'; readonly error: unknown };
}

let nextItem = 0;

function revokeUrls(item: Item): void {
  URL.revokeObjectURL(item.previewUrl);
  if (item.done?.outputUrl) URL.revokeObjectURL(item.done.outputUrl);
}

/** The studio: upload, options, per-photo results, review, download, engines and their comparison. */
export function Studio() {
  const t = useT('studio');
  const locale = useLocale();
  const appConfig = useAppConfig();
  const defaults = useCallback(
    (): StudioOptions => ({
      task: appConfig.defaults.task,
      preset: appConfig.defaults.preset,
      targets: appConfig.defaults.targets,
      method: appConfig.defaults.method,
      strength: appConfig.defaults.strength,
      feather: appConfig.defaults.feather,
      minScore: appConfig.defaults.minScore,
      format: appConfig.defaults.format,
      quality: appConfig.defaults.quality,
      keepMetadata: appConfig.defaults.keepMetadata,
    }),
    [appConfig],
  );
  const [options, setOptions] = useState<StudioOptions>(defaults);
  const [engine, setEngine] = useState<EngineKind>('server');
  const [items, setItems] = useState<Item[]>([]);
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const [reviewing, setReviewing] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const [stale, setStale] = useState(false);
  const [zipping, setZipping] = useState(false);
  /** Where the photo running stands (the worker's reports, or the server's stream). */
  const [progress, setProgress] = useState<
    { readonly id: string; readonly fraction: number; readonly last: Progress } | undefined
  >();
  const [device, setDevice] = useState<
    | { state: 'idle' | 'loading' }
    | { state: 'ready'; info: WorkerEngineInfo }
    | { state: 'error'; error: unknown }
  >({
    state: 'idle',
  });
  /** The runs in flight (`id`, and `id:compare`), so that removing a photo stops its work. */
  const inFlight = useRef(new Map<string, AbortController>());
  const touched = useRef(false);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const titleId = useId();
  const runProgressId = useId();

  // The server's defaults replace the schema's once they arrive, unless the person already chose.
  useEffect(() => {
    if (appConfig.loaded && !touched.current) setOptions(defaults());
  }, [appConfig.loaded, defaults]);

  const effective = useMemo((): StudioOptions => {
    if (engine === 'server') return options;
    // The browser writes JPEG, PNG and WebP only, and no metadata.
    const format = DEVICE_FORMATS.includes(options.format) ? options.format : 'same';
    return { ...options, format, keepMetadata: false };
  }, [engine, options]);

  // The list as last rendered, for async work and the unmount cleanup (which outlive their render).
  const itemsNow = useRef(items);
  itemsNow.current = items;
  useEffect(
    () => () => {
      for (const item of itemsNow.current) revokeUrls(item);
      for (const controller of inFlight.current.values()) controller.abort();
    },
    [],
  );

  /** A signal for one run of a photo; the run's end forgets it. */
  const startRun = useCallback((key: string) => {
    const controller = new AbortController();
    inFlight.current.set(key, controller);
    return {
      signal: controller.signal,
      end: () => {
        if (inFlight.current.get(key) === controller) inFlight.current.delete(key);
      },
    };
  }, []);
  /** Stops the work still running for a photo: its upload or on-device run, and its comparison. */
  const stopRuns = useCallback((id: string) => {
    for (const key of [id, `${id}:compare`]) inFlight.current.get(key)?.abort();
  }, []);

  const patch = useCallback((id: string, change: (item: Item) => Item) => {
    setItems((list) => list.map((item) => (item.id === id ? change(item) : item)));
  }, []);

  const addFiles = useCallback(
    (files: File[]) => {
      const added = files.map(
        (file): Item => ({
          id: `i${++nextItem}`,
          file,
          previewUrl: URL.createObjectURL(file),
          status: 'waiting',
        }),
      );
      setItems((list) => [...list, ...added]);
      setSelectedId((current) => current ?? added[0]?.id);
      setAnnouncement(t('added', { count: added.length }));
    },
    [t],
  );

  // One photo at a time, in order: the queue is the list of waiting items.
  const working = items.some((i) => i.status === 'processing');
  const next = items.find((i) => i.status === 'waiting');
  // Options and engine are read when a run starts; changing them later marks results stale instead.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs start on queue changes only (see above)
  useEffect(() => {
    if (working || !next) return;
    const item = next;
    const opts = effective;
    const runEngine = engine;
    patch(item.id, (i) => ({ ...i, status: 'processing', error: undefined }));
    setAnnouncement(t('processingName', { name: item.file.name }));
    const running = startRun(item.id);
    setProgress(undefined);
    const onProgress = (last: Progress) =>
      setProgress((shown) => ({
        id: item.id,
        last,
        fraction: advance(shown?.id === item.id ? shown.fraction : undefined, last),
      }));
    void (async () => {
      try {
        const size = item.done?.result.image;
        const reviewed =
          item.reviewed && size
            ? { regions: toReviewed(item.reviewed), width: size.width, height: size.height }
            : undefined;
        preflight(item.file, appConfig.limits);
        const request = requestOptions(opts, reviewed, item.fixes);
        const output = await run(runEngine, item.file, opts.task, request, {
          signal: running.signal,
          onProgress,
        });
        // Removed (or cleared) while it ran: its result has no place to show, and no URL to leak.
        if (!itemsNow.current.some((i) => i.id === item.id)) return;
        const outputUrl = output.image ? URL.createObjectURL(output.image.blob) : undefined;
        patch(item.id, (i) => {
          if (i.done?.outputUrl) URL.revokeObjectURL(i.done.outputUrl);
          return { ...i, status: 'done', done: { ...output, engine: runEngine, task: opts.task, outputUrl } };
        });
        setAnnouncement(t('doneName', { name: item.file.name, summary: summary(output) }));
      } catch (error) {
        // Removed while it ran: its work was stopped on purpose, with nobody left to tell.
        if (!itemsNow.current.some((i) => i.id === item.id)) return;
        if (redirectIfUnauthenticated(error, locale)) return;
        patch(item.id, (i) => ({ ...i, status: 'error', error }));
        setAnnouncement(`${item.file.name}: ${errorMessage(error, locale, appConfig.limits)}`);
      } finally {
        running.end();
        setProgress((shown) => (shown?.id === item.id ? undefined : shown));
      }
    })();
  }, [working, next, patch, t, locale]);

  const summary = (output: RunOutput) =>
    LABELS.map((l) =>
      t(l === 'face' ? 'countFaces' : 'countPlates', { count: output.result.counts[l] }),
    ).join(', ');

  const changeOptions = (value: StudioOptions) => {
    touched.current = true;
    setOptions(value);
    if (items.length > 0) setStale(true);
  };
  const changeEngine = (value: EngineKind) => {
    setEngine(value);
    if (items.length > 0) setStale(true);
    if (value === 'device' && (device.state === 'idle' || device.state === 'error')) {
      // Fetch the runtime and the models now (GETs only), so the first photo does not wait for them.
      setDevice({ state: 'loading' });
      devicePipeline()
        .then(async (nestor) => {
          await nestor.warmUp();
          return nestor.info;
        })
        .then(
          (info) => setDevice({ state: 'ready', info }),
          (error: unknown) => setDevice({ state: 'error', error }),
        );
    }
  };
  const rerunAll = () => {
    setStale(false);
    setItems((list) => list.map((i) => (i.status === 'processing' ? i : { ...i, status: 'waiting' })));
  };
  const removeItem = (id: string) => {
    stopRuns(id);
    setItems((list) => {
      const item = list.find((i) => i.id === id);
      if (item) revokeUrls(item);
      const rest = list.filter((i) => i.id !== id);
      setSelectedId((current) => (current === id ? rest[0]?.id : current));
      return rest;
    });
    setReviewing(false);
  };
  const clearAll = () => {
    for (const item of items) {
      stopRuns(item.id);
      revokeUrls(item);
    }
    setItems([]);
    setSelectedId(undefined);
    setReviewing(false);
    setStale(false);
  };

  const selected = items.find((i) => i.id === selectedId);

  const applyReview = (regions: EditableRegion[]) => {
    if (!selected) return;
    patch(selected.id, (i) => ({ ...i, reviewed: regions, status: 'waiting' }));
    setReviewing(false);
    resultHeading.current?.focus();
  };

  const compare = async (item: Item) => {
    patch(item.id, (i) => ({ ...i, compare: { state: 'running' } }));
    setAnnouncement(t('compareRunning'));
    const running = startRun(`${item.id}:compare`);
    try {
      const opts = requestOptions({ ...options, task: 'detect' });
      preflight(item.file, appConfig.limits);
      const server = await runOnServer(item.file, 'detect', opts, { signal: running.signal });
      const device = await runOnDevice(item.file, 'detect', opts, { signal: running.signal });
      const comparison = compareDetections(server.result, device.result, { tolerancePx: 2 });
      patch(item.id, (i) => ({ ...i, compare: { state: 'done', outcome: { server, device, comparison } } }));
      setAnnouncement(comparison.agree ? t('compareAgree') : t('compareDisagree'));
    } catch (error) {
      if (!itemsNow.current.some((i) => i.id === item.id)) return;
      if (redirectIfUnauthenticated(error, locale)) return;
      patch(item.id, (i) => ({ ...i, compare: { state: 'error', error } }));
    } finally {
      running.end();
    }
  };

  const downloadAll = async () => {
    const files = items.flatMap((item) => {
      const done = item.done;
      if (item.status !== 'done' || !done) return [];
      return [
        done.image
          ? { name: anonymizedName(item.file.name, done.image.mimeType), blob: done.image.blob }
          : {
              name: detectionsName(item.file.name),
              blob: new Blob([JSON.stringify(done.result, null, 2)], { type: 'application/json' }),
            },
      ];
    });
    setZipping(true);
    try {
      saveBlob(await zipBlob(files), 'nestor-anonymized.zip');
    } catch (error) {
      setAnnouncement(errorMessage(error, locale));
    } finally {
      setZipping(false);
    }
  };

  const doneCount = items.filter((i) => i.status === 'done').length;

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <h1 id={titleId} className="text-2xl font-bold lg:col-span-2">
        {t('title')}
      </h1>
      <p role="status" aria-live="polite" className="sr-only" data-testid="announcer">
        {announcement}
      </p>

      <div className="space-y-4">
        <UploadArea onFiles={addFiles} compact={items.length > 0} />

        {stale ? (
          <div className="flex flex-wrap items-center gap-3 rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2">
            <p className="text-sm text-indigo-950">{t('staleHint')}</p>
            <button
              type="button"
              onClick={rerunAll}
              className="min-h-11 rounded-md bg-indigo-700 px-3 text-sm font-medium text-white hover:bg-indigo-800"
            >
              {t('rerunAll')}
            </button>
          </div>
        ) : null}

        {items.length > 0 ? (
          <section aria-labelledby={`${titleId}-photos`}>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <h2 id={`${titleId}-photos`} className="text-lg font-semibold">
                {t('photos', { count: items.length })}
              </h2>
              <div className="flex flex-wrap gap-2">
                <button
                  type="button"
                  onClick={() => void downloadAll()}
                  disabled={doneCount === 0 || zipping}
                  className="min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50 disabled:opacity-50"
                >
                  {t('downloadZip', { count: doneCount })}
                </button>
                <button
                  type="button"
                  onClick={clearAll}
                  className="min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50"
                >
                  {t('clearAll')}
                </button>
              </div>
            </div>
            <ul className="mt-2 flex gap-2 overflow-x-auto pb-2">
              {items.map((item) => (
                <li key={item.id} className="shrink-0">
                  <button
                    type="button"
                    aria-current={item.id === selectedId ? 'true' : undefined}
                    onClick={() => {
                      setSelectedId(item.id);
                      setReviewing(false);
                    }}
                    className={`block w-28 rounded-md border-2 bg-white p-1 text-left ${
                      item.id === selectedId
                        ? 'border-indigo-700'
                        : 'border-transparent hover:border-slate-300'
                    }`}
                  >
                    {/* Lazy: a batch of hundreds must not decode every photo at once. */}
                    {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
                    <img
                      src={item.done?.outputUrl ?? item.previewUrl}
                      alt=""
                      loading="lazy"
                      decoding="async"
                      draggable={false}
                      className="pointer-events-none h-20 w-full rounded object-cover"
                    />
                    <span className="mt-1 block truncate text-xs font-medium">{item.file.name}</span>
                    <span className="block text-xs text-slate-700">{statusText(item)}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ) : null}

        {selected ? (
          <section
            aria-labelledby={`${titleId}-result`}
            className="space-y-4 rounded-lg border border-slate-200 bg-white p-4"
          >
            <div className="flex flex-wrap items-start justify-between gap-2">
              <h2
                id={`${titleId}-result`}
                ref={resultHeading}
                tabIndex={-1}
                className="text-lg font-semibold break-all"
              >
                {selected.file.name}
              </h2>
              <button
                type="button"
                onClick={() => removeItem(selected.id)}
                className="min-h-11 rounded-md px-2 text-sm font-medium text-slate-800 underline hover:bg-slate-100"
              >
                {t('remove')}
              </button>
            </div>
            {renderSelected(selected)}
          </section>
        ) : null}
      </div>

      <div>
        <OptionsPanel
          options={effective}
          engine={engine}
          onChange={changeOptions}
          onEngine={changeEngine}
          singleThreaded={
            device.state === 'ready'
              ? device.info.engine.endsWith('/wasm') && !device.info.crossOriginIsolated
              : deviceSingleThreaded()
          }
          deviceNote={
            engine !== 'device'
              ? undefined
              : device.state === 'error'
                ? errorMessage(device.error, locale)
                : device.state === 'loading'
                  ? t('deviceLoading')
                  : device.state === 'ready'
                    ? t('deviceReady')
                    : undefined
          }
          onReset={() => {
            touched.current = false;
            changeOptions(defaults());
          }}
        />
      </div>
    </div>
  );

  /** What the run is doing, in words: its stage, and during detection its model runs (and frame). */
  function progressText(last: Progress): string {
    switch (last.stage) {
      case 'decode':
        return t('progressDecode');
      case 'detect': {
        const runs =
          last.plannedRuns > 0
            ? t('progressDetect', { runs: last.runs, planned: last.plannedRuns })
            : t('progressDetectStart');
        return last.frame
          ? `${t('progressFrame', { frame: last.frame.index + 1, count: last.frame.count })} · ${runs}`
          : runs;
      }
      case 'redact':
        return t('progressRedact');
      case 'encode':
        return t('progressEncode');
    }
  }

  function statusText(item: Item): string {
    switch (item.status) {
      case 'waiting':
        return t('statusWaiting');
      case 'processing':
        return progress?.id === item.id
          ? t('statusProgress', { percent: percentOf(progress.fraction) })
          : t('statusProcessing');
      case 'error':
        return t('statusError');
      case 'done':
        return item.done ? summary(item.done) : '';
    }
  }

  function renderSelected(item: Item) {
    if (item.status === 'waiting' || item.status === 'processing') {
      return (
        <div className="space-y-3">
          <div className="flex items-center gap-3" data-testid="processing">
            <span
              aria-hidden="true"
              className="size-5 animate-spin rounded-full border-2 border-indigo-700 border-t-transparent"
            />
            <p>
              {engine === 'server'
                ? t('processing')
                : device.state === 'ready'
                  ? t('processingDevice')
                  : t('processingDeviceLoading')}
            </p>
          </div>
          {progress?.id === item.id ? (
            <div className="space-y-1">
              <progress
                aria-labelledby={runProgressId}
                max={100}
                value={percentOf(progress.fraction)}
                className="h-3 w-full appearance-none overflow-hidden rounded-full bg-slate-200 [&::-moz-progress-bar]:bg-indigo-700 [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-indigo-700"
                data-testid="run-progress"
              />
              <p id={runProgressId} className="tabular-nums text-slate-800" data-testid="run-progress-text">
                {progressText(progress.last)}
              </p>
            </div>
          ) : null}
          {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
          <img
            src={item.previewUrl}
            alt={t('originalAlt', { name: item.file.name })}
            draggable={false}
            className="pointer-events-none max-h-96 w-auto rounded opacity-70"
          />
        </div>
      );
    }
    if (item.status === 'error') {
      return (
        <div className="space-y-3">
          <p
            role="alert"
            className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900"
            data-testid="error"
          >
            {errorMessage(item.error, locale, appConfig.limits)}
          </p>
          <button
            type="button"
            onClick={() => patch(item.id, (i) => ({ ...i, status: 'waiting' }))}
            className="min-h-11 rounded-md bg-indigo-700 px-4 font-medium text-white hover:bg-indigo-800"
          >
            {t('retry')}
          </button>
        </div>
      );
    }
    const done = item.done!;
    const { result } = done;
    const kind = frameKind(result);
    if (reviewing) {
      return (
        <ReviewEditor
          original={item.previewUrl}
          name={item.file.name}
          image={result.image}
          initial={item.reviewed ?? fromDetections(result.detections)}
          onApply={applyReview}
          onCancel={() => setReviewing(false)}
        />
      );
    }
    const timing = (key: 'decode' | 'detect' | 'redact' | 'encode' | 'total', ms: number) => (
      <div key={key} className="flex justify-between gap-2 border-b border-slate-100 py-1">
        <dt>{t(`timing_${key}`)}</dt>
        <dd className="tabular-nums">{t('ms', { value: Math.round(ms) })}</dd>
      </div>
    );
    return (
      <div className="space-y-4">
        {done.task === 'anonymize' && done.outputUrl ? (
          <BeforeAfter original={item.previewUrl} anonymized={done.outputUrl} name={item.file.name} />
        ) : (
          <ResultOverlay original={item.previewUrl} name={item.file.name} result={result} />
        )}

        <div className="grid gap-4 sm:grid-cols-2">
          <section aria-labelledby={`${item.id}-counts`}>
            <h3 id={`${item.id}-counts`} className="font-semibold">
              {t('found')}
            </h3>
            <ul className="mt-1 flex flex-wrap gap-2" data-testid="counts">
              {LABELS.map((l) => (
                <li
                  key={l}
                  data-testid={`count-${l}`}
                  data-count={result.counts[l]}
                  className="rounded-full bg-slate-100 px-3 py-1 text-sm font-medium"
                >
                  {t(l === 'face' ? 'countFaces' : 'countPlates', { count: result.counts[l] })}
                </li>
              ))}
            </ul>
            <p className="mt-2 text-sm text-slate-700">
              {t('ranOn', {
                engine: done.engine === 'server' ? t('engineServer') : t('engineDevice'),
                name: result.engine,
              })}
              {item.reviewed ? ` ${t('reviewedNote')}` : ''}
            </p>
            {kind === 'still' ? null : (
              <p className="mt-2 text-sm text-slate-700" data-testid="frames-summary">
                {t(kind === 'pages' ? 'pagesSummary' : 'framesSummary', {
                  count: result.image.frames ?? 1,
                  withRegions: result.frames?.length ?? 0,
                })}
              </p>
            )}
          </section>
          <section aria-labelledby={`${item.id}-timings`}>
            <h3 id={`${item.id}-timings`} className="font-semibold">
              {t('timings')}
            </h3>
            <dl className="mt-1 text-sm" data-testid="timings">
              {timing('decode', result.timings.decodeMs)}
              {timing('detect', result.timings.detectMs)}
              {done.task === 'anonymize' ? timing('redact', result.timings.redactMs) : null}
              {done.task === 'anonymize' ? timing('encode', result.timings.encodeMs) : null}
              <div className="flex justify-between gap-2 border-b border-slate-100 py-1">
                <dt>{t('timing_network')}</dt>
                <dd className="tabular-nums">
                  {done.networkMs === undefined ? t('networkNone') : t('ms', { value: done.networkMs })}
                </dd>
              </div>
              {timing('total', result.timings.totalMs)}
            </dl>
          </section>
        </div>

        <div className="flex flex-wrap gap-2">
          {/* Reviewed regions replace the detector's on every frame: a still's regions would uncover a moving face. */}
          <button
            type="button"
            onClick={() => setReviewing(true)}
            disabled={kind !== 'still'}
            aria-describedby={kind === 'still' ? undefined : `${item.id}-review-still`}
            className="min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50 disabled:opacity-50"
          >
            {t('review')}
          </button>
          {done.task === 'anonymize' && done.outputUrl && done.image ? (
            <a
              href={done.outputUrl}
              download={anonymizedName(item.file.name, done.image.mimeType)}
              className="inline-flex min-h-11 items-center rounded-md bg-indigo-700 px-4 text-sm font-medium text-white hover:bg-indigo-800"
            >
              {t('download')}
            </a>
          ) : (
            <button
              type="button"
              onClick={() =>
                saveBlob(
                  new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' }),
                  detectionsName(item.file.name),
                )
              }
              className="min-h-11 rounded-md bg-indigo-700 px-4 text-sm font-medium text-white hover:bg-indigo-800"
            >
              {t('downloadJson')}
            </button>
          )}
          <button
            type="button"
            onClick={() => void compare(item)}
            disabled={item.compare?.state === 'running'}
            className="min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50 disabled:opacity-50"
          >
            {item.compare?.state === 'running' ? t('compareRunning') : t('compare')}
          </button>
        </div>

        {kind === 'still' ? null : (
          <p id={`${item.id}-review-still`} className="text-sm text-slate-700">
            {t(kind === 'animation' ? 'reviewAnimation' : 'reviewStillOnly')}
          </p>
        )}
        {kind === 'animation' ? (
          <AnimationFixes
            file={item.file}
            name={item.file.name}
            result={result}
            fixes={item.fixes ?? []}
            onChange={(fixes) => patch(item.id, (i) => ({ ...i, fixes }))}
            onRerun={() => patch(item.id, (i) => ({ ...i, status: 'waiting' }))}
          />
        ) : null}
        {item.compare?.state === 'done' ? <ComparePanel outcome={item.compare.outcome} /> : null}
        {item.compare?.state === 'error' ? (
          <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900">
            {errorMessage(item.compare.error, locale, appConfig.limits)}
          </p>
        ) : null}
      </div>
    );
  }
}
