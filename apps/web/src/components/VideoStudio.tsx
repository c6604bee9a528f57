'use client';

import { LABELS } from '@nestor/core';
import type { JobStatus, VideoDetections } from '@nestor/sdk';
import { type RefObject, useCallback, useEffect, useId, useRef, useState } from 'react';
import { ABORTED, api, errorCode, redirectIfUnauthenticated } from '../lib/api.ts';
import { useAppConfig } from '../lib/app-config.tsx';
import { errorMessage, formatBytes } from '../lib/errors.ts';
import { useLocale, useT } from '../lib/i18n.tsx';
import { type Upload, uploadJob, type VideoOptions } from '../lib/jobs.ts';
import { percentOf } from '../lib/progress.ts';
import {
  anonymizedVideoName,
  isVideoFile,
  jobFailure,
  splitEta,
  summarizeVideo,
  VIDEO_ACCEPT,
  videoDetectionsName,
} from '../lib/video.ts';
import { type VideoFix, videoTimeline } from '../lib/video-fixes.ts';
import { FrameFixes, useVideoSource } from './FrameFixes.tsx';
import { MethodSelect, Radios, Range, TargetsField } from './option-fields.tsx';

const POLL_MS = 500;
const primary =
  'inline-flex min-h-11 items-center justify-center rounded-md bg-indigo-700 px-4 font-medium text-white hover:bg-indigo-800 disabled:cursor-not-allowed disabled:bg-slate-400 disabled:text-slate-900';
const secondary =
  'inline-flex min-h-11 items-center justify-center rounded-md border border-slate-400 bg-white px-4 font-medium text-slate-900 hover:bg-slate-50';

/** Error codes whose general sentence speaks of images: the video page says it of videos. */
const VIDEO_SENTENCES = {
  E_UNSUPPORTED_MEDIA: 'notVideo',
  E_INPUT_TOO_LARGE: 'tooLarge',
  E_DECODE: 'damaged',
} as const;

interface Finished {
  readonly detections: VideoDetections;
  readonly json: { readonly url: string; readonly name: string };
  readonly video?: { readonly url: string; readonly name: string };
}

type Phase =
  | { readonly step: 'idle' }
  | { readonly step: 'uploading'; readonly loaded: number; readonly total: number }
  | { readonly step: 'processing'; readonly status?: JobStatus }
  | { readonly step: 'fetching' }
  | ({ readonly step: 'done' } & Finished)
  | { readonly step: 'cancelled' }
  | { readonly step: 'error'; readonly error: unknown };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The video page: choose a video, options, upload, the job's progress, then summary, preview, downloads. */
export function VideoStudio() {
  const t = useT('video');
  const locale = useLocale();
  const appConfig = useAppConfig();
  const id = useId();
  const defaults = useCallback(
    (): VideoOptions => ({
      task: appConfig.defaults.task,
      targets: appConfig.defaults.targets,
      method: appConfig.defaults.method,
      strength: appConfig.defaults.strength,
    }),
    [appConfig],
  );
  const [options, setOptions] = useState<VideoOptions>(defaults);
  const touched = useRef(false);
  const [file, setFile] = useState<File | undefined>();
  const [pickError, setPickError] = useState(false);
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });
  /** A person's corrections of the chosen video, sent with each run of it. */
  const [fixes, setFixes] = useState<VideoFix[]>([]);
  const preview = useRef<HTMLVideoElement>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  /** Each start or cancel bumps it: answers of an older run are ignored. */
  const run = useRef(0);
  const upload = useRef<Upload | undefined>(undefined);
  /** The job on the server while it is not delivered (cancel, or leaving the page, deletes it). */
  const jobId = useRef<string | undefined>(undefined);
  const urls = useRef<string[]>([]);

  useEffect(() => {
    if (appConfig.loaded && !touched.current) setOptions(defaults());
  }, [appConfig.loaded, defaults]);

  const releaseUrls = useCallback(() => {
    for (const url of urls.current) URL.revokeObjectURL(url);
    urls.current = [];
  }, []);

  useEffect(
    () => () => {
      // Leaving the page: the upload stops and the server forgets the job.
      run.current++;
      upload.current?.abort();
      const pending = jobId.current;
      if (pending) {
        api()
          .deleteJob(pending)
          .catch((error: unknown) => console.warn('could not delete the job on leaving', errorCode(error)));
      }
      releaseUrls();
    },
    [releaseUrls],
  );

  useEffect(() => {
    if (phase.step === 'done') resultHeading.current?.focus();
  }, [phase.step]);

  const busy = phase.step === 'uploading' || phase.step === 'processing' || phase.step === 'fetching';

  const choose = (files: readonly File[]) => {
    if (busy) return;
    const chosen = files[0];
    if (!chosen) return;
    const ok = isVideoFile(chosen.name, chosen.type);
    setPickError(!ok);
    setFile(ok ? chosen : undefined);
    setFixes([]);
    if (phase.step !== 'idle') {
      releaseUrls();
      setPhase({ step: 'idle' });
    }
  };

  const change = (next: VideoOptions) => {
    touched.current = true;
    setOptions(next);
  };

  async function start() {
    if (!file || busy) return;
    const mine = ++run.current;
    const live = () => run.current === mine;
    releaseUrls();
    const chosen = options;
    setPhase({ step: 'uploading', loaded: 0, total: file.size });
    try {
      upload.current = uploadJob(file, chosen, fixes, (loaded, total) => {
        if (live()) setPhase({ step: 'uploading', loaded, total });
      });
      const { id: job } = await upload.current.done;
      upload.current = undefined;
      jobId.current = job;
      if (!live()) return;
      setPhase({ step: 'processing' });
      for (;;) {
        const status = await api().job(job);
        if (!live()) return;
        if (status.state === 'failed') throw jobFailure(status);
        if (status.state === 'completed') break;
        setPhase({ step: 'processing', status });
        await sleep(POLL_MS);
        if (!live()) return;
      }
      setPhase({ step: 'fetching' });
      // The detections first: fetching the file makes the server delete the whole job.
      const detections = (await api().jobDetections(job)) as VideoDetections;
      const result = chosen.task === 'anonymize' ? await api().jobResult(job) : undefined;
      jobId.current = undefined;
      if (!live()) return;
      const keep = (blob: Blob) => {
        const url = URL.createObjectURL(blob);
        urls.current.push(url);
        return url;
      };
      const json = new Blob([JSON.stringify(detections, null, 2)], { type: 'application/json' });
      setPhase({
        step: 'done',
        detections,
        json: { url: keep(json), name: videoDetectionsName(file.name) },
        ...(result
          ? { video: { url: keep(result.blob), name: anonymizedVideoName(file.name, result.fileName) } }
          : {}),
      });
    } catch (error) {
      upload.current = undefined;
      if (!live()) return;
      if (redirectIfUnauthenticated(error, locale)) return;
      setPhase(errorCode(error) === ABORTED ? { step: 'cancelled' } : { step: 'error', error });
    }
  }

  async function cancel() {
    run.current++;
    upload.current?.abort();
    upload.current = undefined;
    const job = jobId.current;
    jobId.current = undefined;
    setPhase({ step: 'cancelled' });
    if (!job) return;
    try {
      await api().deleteJob(job);
    } catch (error) {
      // Already finished and delivered, or expired: nothing is left to delete.
      if (errorCode(error) !== 'E_NOT_FOUND') setPhase({ step: 'error', error });
    }
  }

  function sentence(error: unknown): string {
    const code = errorCode(error);
    return Object.hasOwn(VIDEO_SENTENCES, code)
      ? t(VIDEO_SENTENCES[code as keyof typeof VIDEO_SENTENCES])
      : errorMessage(error, locale);
  }

  function eta(seconds: number): string {
    const parts = splitEta(seconds);
    return t('eta', {
      time: parts.minutes > 0 ? t('etaMinutes', parts) : t('etaSeconds', { seconds: parts.seconds }),
    });
  }

  /** Progress as shown (with ETA) and as announced (in steps of 10 %, without ETA). */
  function progress(): { value?: number; shown: string; announced: string } | undefined {
    if (phase.step === 'uploading') {
      const percent = percentOf(phase.total > 0 ? phase.loaded / phase.total : 0);
      return {
        value: percent,
        shown: t('uploading', { percent }),
        announced: t('uploading', { percent: Math.floor(percent / 10) * 10 }),
      };
    }
    if (phase.step === 'processing') {
      const status = phase.status;
      if (!status || status.state === 'queued') return { shown: t('queued'), announced: t('queued') };
      const percent = percentOf(status.progress);
      const left = status.etaSeconds === undefined ? '' : ` · ${eta(status.etaSeconds)}`;
      return {
        value: percent,
        shown: `${t('processing', { percent })}${left}`,
        announced: t('processing', { percent: Math.floor(percent / 10) * 10 }),
      };
    }
    if (phase.step === 'fetching') return { shown: t('fetching'), announced: t('fetching') };
    return undefined;
  }

  const shownProgress = progress();

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
      <div className="space-y-2 lg:col-span-2">
        <h1 className="text-2xl font-bold">{t('title')}</h1>
        <p className="max-w-3xl text-slate-700">{t('intro')}</p>
      </div>

      <div className="min-w-0 space-y-4">
        <section
          aria-labelledby={`${id}-pick`}
          onDragOver={(event) => {
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(event) => {
            event.preventDefault();
            setOver(false);
            choose([...event.dataTransfer.files]);
          }}
          className={`rounded-lg border-2 border-dashed px-4 py-8 text-center transition-colors ${
            over ? 'border-indigo-600 bg-indigo-50' : 'border-slate-400 bg-white'
          }`}
        >
          <h2 id={`${id}-pick`} className="text-lg font-semibold">
            {t('pickTitle')}
          </h2>
          <p id={`${id}-hint`} className="mt-2 text-slate-700">
            {t('pickHint')}
          </p>
          <input
            ref={input}
            type="file"
            accept={VIDEO_ACCEPT}
            className="sr-only"
            aria-describedby={`${id}-hint`}
            aria-label={t('chooseVideo')}
            data-testid="video-input"
            disabled={busy}
            onChange={(event) => {
              const files = [...(event.target.files ?? [])];
              event.target.value = '';
              choose(files);
            }}
          />
          <button
            type="button"
            disabled={busy}
            onClick={() => input.current?.click()}
            className={`mt-3 ${primary}`}
          >
            {t('chooseVideo')}
          </button>
          {file ? (
            <p className="mt-3 font-medium break-all text-slate-900" data-testid="chosen-video">
              {t('chosen', { name: file.name, size: formatBytes(file.size, locale) })}
            </p>
          ) : null}
          {pickError ? (
            <p
              role="alert"
              className="mt-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900"
              data-testid="pick-error"
            >
              {t('notVideo')}
            </p>
          ) : null}
        </section>

        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            disabled={!file || busy}
            onClick={() => void start()}
            className={primary}
            data-testid="start"
          >
            {t('start')}
          </button>
          {phase.step === 'uploading' || phase.step === 'processing' ? (
            <button type="button" onClick={() => void cancel()} className={secondary}>
              {t('cancel')}
            </button>
          ) : null}
        </div>

        {/* Announced in steps, so a screen reader is not interrupted at every poll. */}
        <p role="status" aria-live="polite" className="sr-only" data-testid="video-announcer">
          {shownProgress?.announced ?? (phase.step === 'cancelled' ? t('cancelled') : '')}
        </p>

        {shownProgress ? (
          <section
            aria-labelledby={`${id}-progress`}
            className="rounded-lg border border-slate-200 bg-white p-4"
          >
            <h2 id={`${id}-progress`} className="sr-only">
              {t('progressLabel')}
            </h2>
            <progress
              aria-labelledby={`${id}-progress`}
              aria-describedby={`${id}-progress-text`}
              max={100}
              {...(shownProgress.value === undefined ? {} : { value: shownProgress.value })}
              className="h-3 w-full appearance-none overflow-hidden rounded-full bg-slate-200 [&::-moz-progress-bar]:bg-indigo-700 [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-indigo-700"
              data-testid="video-progress"
            />
            <p
              id={`${id}-progress-text`}
              className="mt-2 tabular-nums text-slate-800"
              data-testid="video-progress-text"
            >
              {shownProgress.shown}
            </p>
          </section>
        ) : null}

        {phase.step === 'cancelled' ? (
          <p
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900"
            data-testid="cancelled"
          >
            {t('cancelled')}
          </p>
        ) : null}

        {phase.step === 'error' ? (
          <p
            role="alert"
            className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900"
            data-testid="error"
          >
            {sentence(phase.error)}
          </p>
        ) : null}

        {phase.step === 'done' ? renderDone(phase) : null}
      </div>

      <VideoOptionsPanel options={options} disabled={busy} onChange={change} />
    </div>
  );

  function renderDone(done: Finished) {
    const summary = summarizeVideo(done.detections);
    const row = (term: string, value: string, testId?: string) => (
      <div className="flex justify-between gap-3 border-b border-slate-100 py-1">
        <dt>{term}</dt>
        <dd className="text-right tabular-nums" data-testid={testId}>
          {value}
        </dd>
      </div>
    );
    return (
      <section
        aria-labelledby={`${id}-result`}
        className="space-y-4 rounded-lg border border-slate-200 bg-white p-4"
      >
        <h2 id={`${id}-result`} ref={resultHeading} tabIndex={-1} className="text-lg font-semibold">
          {t('resultTitle')}
        </h2>
        {done.video ? (
          // biome-ignore lint/a11y/useMediaCaption: the anonymized copy of the user's own video; no captions exist to add
          <video
            ref={preview}
            controls
            playsInline
            preload="metadata"
            src={done.video.url}
            aria-label={t('preview', { name: done.video.name })}
            className="max-h-[28rem] w-full rounded bg-black"
            data-testid="result-video"
          />
        ) : (
          <p className="text-slate-800">{t('detectOnly')}</p>
        )}
        {done.video ? (
          <VideoFrameFixes
            detections={done.detections}
            video={preview}
            name={file?.name ?? done.video.name}
            fixes={fixes}
            onChange={setFixes}
            onRerun={() => void start()}
          />
        ) : null}
        <section aria-labelledby={`${id}-summary`}>
          <h3 id={`${id}-summary`} className="font-semibold">
            {t('summaryTitle')}
          </h3>
          <dl
            className="mt-1 text-sm"
            data-testid="video-summary"
            data-frames={summary.frames}
            data-tracks={summary.tracks}
          >
            {row(t('frames'), summary.frames.toLocaleString(locale), 'summary-frames')}
            {row(t('duration'), t('durationValue', { seconds: summary.durationSeconds }))}
            {row(t('framesWithRegions'), summary.framesWithRegions.toLocaleString(locale))}
            {row(t('tracks'), summary.tracks.toLocaleString(locale), 'summary-tracks')}
            {LABELS.map((label) => (
              <div key={label} className="flex justify-between gap-3 border-b border-slate-100 py-1 pl-4">
                <dt>{t(label === 'face' ? 'tracksFace' : 'tracksPlate')}</dt>
                <dd
                  className="tabular-nums"
                  data-testid={`summary-${label}`}
                  data-count={summary.counts[label]}
                >
                  {summary.counts[label].toLocaleString(locale)}
                </dd>
              </div>
            ))}
            {row(t('speed'), t('speedValue', { fps: summary.fps }))}
          </dl>
        </section>
        <p className="text-sm text-slate-700">{t('deletedNote')}</p>
        <div className="flex flex-wrap gap-2">
          {done.video ? (
            <a href={done.video.url} download={done.video.name} className={primary}>
              {t('downloadVideo')}
            </a>
          ) : null}
          <a href={done.json.url} download={done.json.name} className={done.video ? secondary : primary}>
            {t('downloadJson')}
          </a>
          <button
            type="button"
            onClick={() => {
              releaseUrls();
              setFile(undefined);
              setFixes([]);
              setPhase({ step: 'idle' });
              input.current?.focus();
            }}
            className={secondary}
          >
            {t('another')}
          </button>
        </div>
      </section>
    );
  }
}

function VideoOptionsPanel({
  options,
  disabled,
  onChange,
}: {
  options: VideoOptions;
  disabled: boolean;
  onChange: (options: VideoOptions) => void;
}) {
  const t = useT('video');
  const id = useId();
  const detect = options.task === 'detect';
  const set = <K extends keyof VideoOptions>(key: K, value: VideoOptions[K]) =>
    onChange({ ...options, [key]: value });
  return (
    <section
      aria-labelledby={`${id}-title`}
      className="h-fit rounded-lg border border-slate-200 bg-white p-4"
    >
      <h2 id={`${id}-title`} className="text-lg font-semibold">
        {t('optionsTitle')}
      </h2>
      <fieldset disabled={disabled}>
        <Radios<VideoOptions['task']>
          legend={t('task')}
          name={`${id}-task`}
          value={options.task}
          onChange={(task) => set('task', task)}
          choices={[
            ['anonymize', t('taskAnonymize')],
            ['detect', t('taskDetect')],
          ]}
        />

        <TargetsField
          legend={t('targets')}
          labelOf={(label) => t(label === 'face' ? 'labelFaces' : 'labelPlates')}
          value={options.targets}
          onChange={(targets) => set('targets', targets)}
        />

        <MethodSelect
          className="mt-4 block text-sm font-semibold"
          label={t('method')}
          labelOf={(method) => t(`method_${method}`)}
          value={options.method}
          disabled={detect}
          onChange={(method) => set('method', method)}
        />

        <Range
          label={t('strength')}
          value={options.strength}
          min={0.5}
          max={5}
          step={0.1}
          disabled={detect}
          display={`×${options.strength.toFixed(1)}`}
          onChange={(strength) => set('strength', strength)}
        />
      </fieldset>
    </section>
  );
}

/** The video's corrections, its frames taken from the paused preview. */
function VideoFrameFixes(props: {
  readonly detections: VideoDetections;
  readonly video: RefObject<HTMLVideoElement | null>;
  readonly name: string;
  readonly fixes: readonly VideoFix[];
  readonly onChange: (fixes: VideoFix[]) => void;
  readonly onRerun: () => void;
}) {
  const t = useT('video');
  const { detections, video, ...rest } = props;
  const source = useVideoSource(video, detections);
  return (
    <FrameFixes
      source={source}
      timeline={videoTimeline(detections)}
      image={detections.video}
      help={t('fixHelp')}
      {...rest}
    />
  );
}
