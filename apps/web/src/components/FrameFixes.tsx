'use client';

import type { FrameDetection, Label } from '@nestor/core';
import type { VideoDetections } from '@nestor/sdk';
import { type ReactNode, type RefObject, useEffect, useId, useRef, useState } from 'react';
import { saveBlob } from '../lib/download.ts';
import { useLocale, useT } from '../lib/i18n.tsx';
import type { EditableRegion, Size } from '../lib/regions.ts';
import { correctionsName } from '../lib/video.ts';
import {
  applyFrameEdit,
  editorRegions,
  fixesFit,
  fixOptions,
  regionsAt,
  type Timeline,
  type VideoFix,
} from '../lib/video-fixes.ts';
import { ReviewEditor } from './ReviewEditor.tsx';

/** Where the frame to fix comes from: a paused video, or a frame picked in an animation. */
export interface FrameSource {
  /** Whether a frame can be taken now; `notReady` says why not. */
  readonly ready: boolean;
  readonly notReady: string;
  /** The frame being looked at: its time, and its picture as an object URL (the panel revokes it). */
  take(): Promise<{ readonly timeMs: number; readonly url: string }>;
  /** The time "Start here" and "End here" set. */
  nowMs(): number;
  /** The regions the result has on the frame at this time. */
  regionsAt(timeMs: number): readonly FrameDetection[];
}

interface Props {
  readonly source: FrameSource;
  readonly timeline: Timeline;
  /** The frames' size, in the pixels regions are given in. */
  readonly image: Size;
  readonly name: string;
  /** How to pick the frame to fix, in a sentence. */
  readonly help: string;
  readonly fixes: readonly VideoFix[];
  readonly onChange: (fixes: VideoFix[]) => void;
  readonly onRerun: () => void;
  /** Shown above "Fix this frame" (a frame picker). */
  readonly children?: ReactNode;
}

interface Editing {
  readonly url: string;
  readonly timeMs: number;
  readonly initial: EditableRegion[];
}

/** Fix ids are unique on the page: a panel mounted again after a run keeps the fixes of the last one. */
let fixCount = 0;

const button =
  'min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium text-slate-900 hover:bg-slate-50 disabled:cursor-not-allowed disabled:opacity-50';

/** A drawn picture as a PNG object URL (the caller revokes it). */
export async function canvasUrl(
  width: number,
  height: number,
  draw: (context: CanvasRenderingContext2D) => void,
): Promise<string> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (context) draw(context);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('The frame could not be captured');
  return URL.createObjectURL(blob);
}

/** A video preview as the source of frames to fix: where it is paused, at the video's own size. */
export function useVideoSource(
  video: RefObject<HTMLVideoElement | null>,
  detections: VideoDetections,
): FrameSource {
  const t = useT('video');
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    const update = () => setReady(element.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA);
    update();
    element.addEventListener('loadeddata', update);
    element.addEventListener('emptied', update);
    return () => {
      element.removeEventListener('loadeddata', update);
      element.removeEventListener('emptied', update);
    };
  }, [video]);
  const nowMs = () => Math.round((video.current?.currentTime ?? 0) * 1000);
  return {
    ready,
    notReady: t('fixNotReady'),
    nowMs,
    regionsAt: (timeMs) => regionsAt(detections, timeMs),
    async take() {
      const element = video.current;
      if (!element) throw new Error('The preview is gone');
      element.pause();
      const { width, height } = detections.video;
      const url = await canvasUrl(width, height, (context) =>
        context.drawImage(element, 0, 0, width, height),
      );
      return { timeMs: nowMs(), url };
    },
  };
}

/**
 * Corrections of a processed video or animation: a frame opens in the region editor; what is
 * drawn there is covered for a time span the person sets, what is removed is dropped wherever its
 * track went. The corrections go with the next run of the same file.
 */
export function FrameFixes({
  source,
  timeline,
  image,
  name,
  help,
  fixes,
  onChange,
  onRerun,
  children,
}: Props) {
  const t = useT('video');
  const locale = useLocale();
  const id = useId();
  const [editing, setEditing] = useState<Editing | undefined>();
  const [failed, setFailed] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const durationMs = timeline.durationMs;

  useEffect(() => () => (editing ? URL.revokeObjectURL(editing.url) : undefined), [editing]);

  const seconds = (ms: number) => (ms / 1000).toLocaleString(locale, { maximumFractionDigits: 2 });
  const labelOf = (label: Label) => t(label === 'face' ? 'fixFace' : 'fixPlate');

  async function openFrame() {
    setFailed(false);
    try {
      const { timeMs, url } = await source.take();
      setEditing({ url, timeMs, initial: editorRegions(source.regionsAt(timeMs), fixes, timeMs) });
    } catch (error) {
      console.warn('the frame could not be taken', error);
      setFailed(true);
    }
  }

  function close() {
    setEditing(undefined);
    heading.current?.focus();
  }

  function apply(regions: EditableRegion[]) {
    if (!editing) return;
    onChange(
      applyFrameEdit(fixes, editing.initial, regions, {
        timeline,
        timeMs: editing.timeMs,
        newId: () => `fix-${++fixCount}`,
      }),
    );
    close();
  }

  /** A cover fix's span with one end moved; the other end follows so that the span runs forwards. */
  function setSpan(fix: VideoFix, end: 'fromMs' | 'toMs', ms: number) {
    const value = Math.min(Math.max(0, Math.round(ms)), durationMs);
    const span =
      end === 'fromMs'
        ? { fromMs: value, toMs: Math.max(value, fix.toMs) }
        : { fromMs: Math.min(value, fix.fromMs), toMs: value };
    onChange(fixes.map((f) => (f.id === fix.id ? { ...f, ...span } : f)));
  }

  const fits = fixesFit(fixes);

  return (
    <section aria-labelledby={`${id}-title`} className="space-y-3" data-testid="video-fixes">
      <h3 id={`${id}-title`} ref={heading} tabIndex={-1} className="font-semibold">
        {t('fixTitle')}
      </h3>
      <p id={`${id}-help`} className="text-sm text-slate-700">
        {help}
      </p>
      {editing ? (
        <ReviewEditor
          original={editing.url}
          name={name}
          image={image}
          initial={editing.initial}
          imageAlt={t('fixFrameAlt', { seconds: seconds(editing.timeMs), name })}
          applyLabel={(count) => t('fixApply', { count })}
          onApply={apply}
          onCancel={close}
        />
      ) : (
        <>
          {children}
          <button
            type="button"
            className={button}
            disabled={!source.ready}
            aria-describedby={`${id}-help`}
            onClick={() => void openFrame()}
            data-testid="fix-frame"
          >
            {t('fixFrame')}
          </button>
          {source.ready ? null : <p className="text-sm text-slate-700">{source.notReady}</p>}
          {failed ? (
            <p
              role="alert"
              className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900"
            >
              {source.notReady}
            </p>
          ) : null}
        </>
      )}
      {fixes.length === 0 ? (
        <p className="text-sm text-slate-700">{t('fixNone')}</p>
      ) : (
        <ul className="space-y-2" data-testid="fix-list">
          {fixes.map((fix) => (
            <li
              key={fix.id}
              className="flex flex-wrap items-end gap-2 rounded-md border border-slate-200 p-2 text-sm"
              data-testid="fix"
              data-kind={fix.kind}
            >
              {fix.kind === 'cover' ? (
                <>
                  <span id={`${id}-${fix.id}`} className="min-w-32 self-center font-medium">
                    {t('fixCover', { label: labelOf(fix.region.label) })}
                  </span>
                  {(['fromMs', 'toMs'] as const).map((end) => (
                    <span key={end} className="flex flex-wrap items-end gap-1">
                      <label className="flex flex-col">
                        {t(end === 'fromMs' ? 'fixFrom' : 'fixTo')}
                        <input
                          type="number"
                          min={0}
                          max={durationMs / 1000}
                          step={0.1}
                          value={fix[end] / 1000}
                          onChange={(event) => {
                            const value = event.target.valueAsNumber;
                            if (Number.isFinite(value)) setSpan(fix, end, value * 1000);
                          }}
                          className="min-h-11 w-24 rounded-md border border-slate-400 px-2 tabular-nums"
                          data-testid={`fix-${end}`}
                        />
                      </label>
                      <button
                        type="button"
                        className={button}
                        aria-describedby={`${id}-${fix.id}`}
                        onClick={() => setSpan(fix, end, source.nowMs())}
                      >
                        {t(end === 'fromMs' ? 'fixStartHere' : 'fixEndHere')}
                      </button>
                    </span>
                  ))}
                </>
              ) : (
                <span id={`${id}-${fix.id}`} className="min-w-32 self-center font-medium">
                  {t('fixDrop', {
                    label: labelOf(fix.label),
                    from: seconds(fix.fromMs),
                    to: seconds(fix.toMs),
                  })}
                </span>
              )}
              <button
                type="button"
                className={button}
                aria-describedby={`${id}-${fix.id}`}
                onClick={() => onChange(fixes.filter((f) => f.id !== fix.id))}
                data-testid="fix-remove"
              >
                {t('fixRemove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {fits ? null : (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900">
          {t('fixTooMany')}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          className="inline-flex min-h-11 items-center justify-center rounded-md bg-indigo-700 px-4 font-medium text-white hover:bg-indigo-800 disabled:cursor-not-allowed disabled:bg-slate-400 disabled:text-slate-900"
          disabled={fixes.length === 0 || !fits || editing !== undefined}
          onClick={onRerun}
          data-testid="fix-rerun"
        >
          {t('fixRerun', { count: fixes.length })}
        </button>
        {/* The CLI's --regions file: corrections made here can go with a batch run. */}
        <button
          type="button"
          className={button}
          disabled={fixes.length === 0}
          onClick={() =>
            saveBlob(
              new Blob([JSON.stringify(fixOptions(fixes), null, 2)], { type: 'application/json' }),
              correctionsName(name),
            )
          }
        >
          {t('fixDownload')}
        </button>
      </div>
    </section>
  );
}
