'use client';

import type { DetectionResult } from '@nestor/core';
import { type ReactNode, useId, useState } from 'react';
import { type DrawnRegion, firstFrameWithRegions, frameKind, regionsOfFrame } from '../lib/frames.ts';
import { useT } from '../lib/i18n.tsx';
import { placeLabels } from '../lib/labels.ts';

const ZOOMS = [1, 1.5, 2, 3, 4] as const;

/** A zoomable, keyboard-scrollable frame around an image-sized stage. */
export function ZoomFrame({ label, children }: { label: string; children: ReactNode }) {
  const t = useT('studio');
  const [level, setLevel] = useState(0);
  const zoom = ZOOMS[level]!;
  const button =
    'min-h-11 min-w-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50 disabled:opacity-50';
  return (
    <div>
      <fieldset className="mb-2 flex items-center gap-2">
        <legend className="sr-only">{t('zoom')}</legend>
        <button
          type="button"
          className={button}
          onClick={() => setLevel((l) => Math.max(0, l - 1))}
          disabled={level === 0}
        >
          <span aria-hidden="true">−</span>
          <span className="sr-only">{t('zoomOut')}</span>
        </button>
        <span className="min-w-14 text-center text-sm tabular-nums" aria-live="polite">
          {Math.round(zoom * 100)} %
        </span>
        <button
          type="button"
          className={button}
          onClick={() => setLevel((l) => Math.min(ZOOMS.length - 1, l + 1))}
          disabled={level === ZOOMS.length - 1}
        >
          <span aria-hidden="true">+</span>
          <span className="sr-only">{t('zoomIn')}</span>
        </button>
        <button type="button" className={button} onClick={() => setLevel(0)} disabled={level === 0}>
          {t('zoomFit')}
        </button>
      </fieldset>
      <section
        aria-label={label}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        className="max-h-[75vh] overflow-auto rounded-lg border border-slate-300 bg-slate-200 focus-visible:outline-2 focus-visible:outline-indigo-700"
      >
        <div style={{ width: `${zoom * 100}%` }} className="relative">
          {children}
        </div>
      </section>
    </div>
  );
}

/**
 * Before / after: the original shows left of the divider, the anonymized image right of it. The
 * divider starts at the left edge, so nothing of the original shows until the person asks. The
 * anonymized image lies underneath, whole, and the original over it ignores the pointer: right-click
 * "Save image" or a drag anywhere on the picture takes the anonymized image, never the original.
 */
export function BeforeAfter(props: { original: string; anonymized: string; name: string }) {
  const t = useT('studio');
  const [split, setSplit] = useState(0);
  const id = useId();
  const badge =
    'pointer-events-none absolute top-2 rounded bg-slate-900/80 px-2 py-0.5 text-xs font-medium text-white';
  return (
    <div>
      <ZoomFrame label={t('resultImage')}>
        {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
        <img
          src={props.anonymized}
          alt={t('anonymizedAlt', { name: props.name })}
          data-testid="anonymized-image"
          className="block h-auto w-full"
        />
        {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
        <img
          src={props.original}
          alt={t('originalAlt', { name: props.name })}
          draggable={false}
          data-testid="original-layer"
          className="pointer-events-none absolute inset-0 block h-auto w-full select-none"
          style={{ clipPath: `inset(0 ${100 - split}% 0 0)` }}
        />
        {split > 0 ? (
          <>
            <div
              aria-hidden="true"
              className="pointer-events-none absolute inset-y-0 w-0.5 bg-white shadow-[0_0_0_1px_rgba(0,0,0,0.5)]"
              style={{ left: `${split}%` }}
            />
            <span aria-hidden="true" className={`${badge} left-2`}>
              {t('original')}
            </span>
          </>
        ) : null}
        {split < 100 ? (
          <span aria-hidden="true" className={`${badge} right-2`}>
            {t('anonymized')}
          </span>
        ) : null}
      </ZoomFrame>
      <div className="mt-2">
        <label htmlFor={id} className="block text-sm font-semibold text-slate-900">
          {t('beforeAfter')}
        </label>
        <input
          id={id}
          type="range"
          min={0}
          max={100}
          value={split}
          onChange={(event) => setSplit(Number(event.target.value))}
          aria-valuetext={t('beforeAfterValue', { percent: split })}
          className="w-full accent-indigo-700"
        />
      </div>
    </div>
  );
}

const COLORS = { face: '#f59e0b', plate: '#22d3ee' } as const;

/** Detect mode: the original, unchanged, with each detection's box, label and score drawn over it. */
export function DetectionOverlay(props: {
  original: string;
  name: string;
  width: number;
  height: number;
  detections: readonly DrawnRegion[];
}) {
  const t = useT('studio');
  const stroke = Math.max(2, Math.round(Math.max(props.width, props.height) / 400));
  const font = Math.max(12, Math.round(Math.max(props.width, props.height) / 60));
  const marks = props.detections.map((d) => {
    const text = `${t(d.label === 'face' ? 'labelFace' : 'labelPlate')} ${Math.round(d.score * 100)} %`;
    return {
      text,
      box: d.box,
      caption: { width: text.length * font * 0.6 + font * 0.6, height: font * 1.3 },
    };
  });
  const slots = placeLabels(marks, props);
  return (
    <ZoomFrame label={t('resultImage')}>
      {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
      <img
        src={props.original}
        alt={t('originalAlt', { name: props.name })}
        className="block h-auto w-full"
      />
      <svg
        className="absolute inset-0 h-full w-full"
        viewBox={`0 0 ${props.width} ${props.height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={t('overlayAlt', { count: props.detections.length })}
        data-testid="detection-overlay"
      >
        {props.detections.map((d, i) => (
          <rect
            // biome-ignore lint/suspicious/noArrayIndexKey: detections have no identity of their own
            key={i}
            data-testid="detection-box"
            x={d.box.x}
            y={d.box.y}
            width={d.box.width}
            height={d.box.height}
            fill="none"
            stroke={COLORS[d.label]}
            strokeWidth={stroke}
          />
        ))}
        {/* Captions after every box, so no box's stroke crosses another's caption. */}
        {slots.map((slot, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: one caption per detection, in its order
          <g key={i}>
            <rect x={slot.x} y={slot.y} width={slot.width} height={slot.height} fill="#0f172a" />
            <text
              x={slot.x + font * 0.3}
              y={slot.y + font}
              textLength={slot.width - font * 0.6}
              lengthAdjust="spacingAndGlyphs"
              fill="#ffffff"
              fontSize={font}
              fontFamily="system-ui, sans-serif"
            >
              {marks[i]?.text}
            </text>
          </g>
        ))}
      </svg>
    </ZoomFrame>
  );
}

/**
 * Detect mode for any result: a still image's boxes, or for an animation (a multi-page TIFF) a
 * frame (page) slider and the boxes of the chosen frame, said to be that frame's.
 */
export function ResultOverlay(props: { original: string; name: string; result: DetectionResult }) {
  const t = useT('studio');
  const id = useId();
  const { result } = props;
  const kind = frameKind(result);
  const count = result.image.frames ?? 1;
  const [chosen, setChosen] = useState(() => firstFrameWithRegions(result));
  // A run again may give fewer frames than the one the slider was left on.
  const frame = Math.min(chosen, count - 1);
  return (
    <div className="space-y-2">
      <DetectionOverlay
        original={props.original}
        name={props.name}
        width={result.image.width}
        height={result.image.height}
        detections={regionsOfFrame(result, frame)}
      />
      {kind === 'still' ? null : (
        <div className="flex flex-wrap items-center gap-3">
          <label htmlFor={id} className="text-sm font-medium" data-testid="frame-label">
            {t(kind === 'pages' ? 'boxesOfPage' : 'boxesOfFrame', { frame: frame + 1, count })}
          </label>
          <input
            id={id}
            type="range"
            min={1}
            max={count}
            value={frame + 1}
            onChange={(e) => setChosen(Number(e.target.value) - 1)}
            className="min-h-11 flex-1"
            data-testid="frame-picker"
          />
          {kind === 'animation' ? <p className="w-full text-sm text-slate-700">{t('framesNote')}</p> : null}
        </div>
      )}
    </div>
  );
}
