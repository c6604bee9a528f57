'use client';

import type { Label } from '@nestor/core';
import {
  type KeyboardEvent,
  type PointerEvent as ReactPointerEvent,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { useT } from '../lib/i18n.tsx';
import {
  applyKeyEdit,
  clampRegion,
  dragRect,
  type EditableRegion,
  keyEdit,
  MIN_SIDE,
  moveRegion,
  newRegion,
  type Size,
} from '../lib/regions.ts';
import { ZoomFrame } from './ImageStage.tsx';

type Drag =
  | { kind: 'draw'; x0: number; y0: number; x1: number; y1: number }
  | {
      kind: 'move' | 'resize';
      id: string;
      x0: number;
      y0: number;
      start: EditableRegion;
      before: EditableRegion[];
    };

interface Props {
  readonly original: string;
  readonly name: string;
  readonly image: Size;
  readonly initial: readonly EditableRegion[];
  readonly onApply: (regions: EditableRegion[]) => void;
  readonly onCancel: () => void;
  /** The image's text alternative (a photo's original by default). */
  readonly imageAlt?: string;
  /** The apply button's words for this many regions (re-rendering a photo by default). */
  readonly applyLabel?: (count: number) => string;
}

const pct = (value: number, of: number) => `${(value / of) * 100}%`;

/**
 * Manual review: draw a missed region, remove a false one, move or resize one, by pointer or
 * entirely by keyboard (each region is a button: arrows move, Alt+arrows resize, Delete removes;
 * the selected region's numbers can also be typed). Applying re-renders with exactly these regions.
 */
export function ReviewEditor({
  original,
  name,
  image,
  initial,
  onApply,
  onCancel,
  imageAlt,
  applyLabel,
}: Props) {
  const t = useT('studio');
  const help = useId();
  const [regions, setRegions] = useState<EditableRegion[]>(() => [...initial]);
  const [selected, setSelected] = useState<string | undefined>(initial[0]?.id);
  const [newLabel, setNewLabel] = useState<Label>('face');
  const [drag, setDrag] = useState<Drag | undefined>();
  // The regions before each edit, newest last: Undo (or Ctrl+Z) steps back through them.
  const [history, setHistory] = useState<EditableRegion[][]>([]);
  const [focusRegion, setFocusRegion] = useState<string | undefined>();
  const stage = useRef<HTMLDivElement>(null);
  const addFace = useRef<HTMLButtonElement>(null);
  const counter = useRef(0);
  const nextId = () => `m${++counter.current}`;

  // A removed region's button takes the focus with it: hand it to the next region (or Add a face).
  useEffect(() => {
    if (focusRegion === undefined) return;
    const target = stage.current?.querySelector<HTMLElement>(`[data-region="${focusRegion}"]`);
    (target ?? addFace.current)?.focus();
    setFocusRegion(undefined);
  }, [focusRegion]);

  const remember = () => setHistory((h) => [...h, regions]);
  const update = (id: string, change: (r: EditableRegion) => EditableRegion | undefined) =>
    setRegions((list) =>
      list.flatMap((r) => {
        if (r.id !== id) return [r];
        const next = change(r);
        return next ? [next] : [];
      }),
    );
  const edit = (id: string, change: (r: EditableRegion) => EditableRegion | undefined) => {
    remember();
    update(id, change);
  };
  const remove = (id: string) => {
    remember();
    const index = regions.findIndex((r) => r.id === id);
    const rest = regions.filter((r) => r.id !== id);
    setRegions(rest);
    const next = rest[Math.min(index, rest.length - 1)]?.id;
    setSelected(next);
    return next;
  };
  const add = (label: Label) => {
    remember();
    const region = newRegion(label, nextId(), image);
    setRegions((list) => [...list, region]);
    setSelected(region.id);
  };
  const undo = () => {
    const previous = history.at(-1);
    if (!previous) return;
    setHistory((h) => h.slice(0, -1));
    setRegions(previous);
    setSelected((id) => (previous.some((r) => r.id === id) ? id : previous[0]?.id));
  };
  const onEditorKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    // Text fields keep their own undo.
    if (target.tagName === 'INPUT' || target.tagName === 'SELECT') return;
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
    }
  };

  /** Pointer position in image pixels. */
  const toImage = (event: ReactPointerEvent): { x: number; y: number } => {
    const rect = stage.current!.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * image.width,
      y: ((event.clientY - rect.top) / rect.height) * image.height,
    };
  };

  const onPointerDown = (event: ReactPointerEvent) => {
    if (event.button !== 0) return;
    const target = event.target as HTMLElement;
    const id = target.closest<HTMLElement>('[data-region]')?.dataset.region;
    const p = toImage(event);
    stage.current!.setPointerCapture(event.pointerId);
    const region = regions.find((r) => r.id === id);
    if (region && id) {
      setSelected(id);
      const kind = target.dataset.handle ? 'resize' : 'move';
      setDrag({ kind, id, x0: p.x, y0: p.y, start: region, before: regions });
    } else {
      setDrag({ kind: 'draw', x0: p.x, y0: p.y, x1: p.x, y1: p.y });
    }
    event.preventDefault();
  };
  const onPointerMove = (event: ReactPointerEvent) => {
    if (!drag) return;
    const p = toImage(event);
    if (drag.kind === 'draw') setDrag({ ...drag, x1: p.x, y1: p.y });
    else if (drag.kind === 'move')
      update(drag.id, () => moveRegion(drag.start, p.x - drag.x0, p.y - drag.y0, image));
    else
      update(drag.id, () =>
        clampRegion(
          {
            ...drag.start,
            width: Math.min(drag.start.width + p.x - drag.x0, image.width - drag.start.x),
            height: Math.min(drag.start.height + p.y - drag.y0, image.height - drag.start.y),
          },
          image,
        ),
      );
  };
  const endDrag = () => {
    // A click that only selects changes nothing, so leaves nothing to undo.
    if (drag && drag.kind !== 'draw' && regions !== drag.before) setHistory((h) => [...h, drag.before]);
    setDrag(undefined);
  };
  const onPointerUp = () => {
    if (drag?.kind === 'draw') {
      const rect = dragRect(drag.x0, drag.y0, drag.x1, drag.y1);
      if (rect.width >= MIN_SIDE && rect.height >= MIN_SIDE) {
        const region = clampRegion({ ...newRegion(newLabel, nextId(), image), ...rect }, image);
        remember();
        setRegions((list) => [...list, region]);
        setSelected(region.id);
      }
    }
    endDrag();
  };

  const current = regions.find((r) => r.id === selected);
  const labelOf = (r: EditableRegion) => t(r.label === 'face' ? 'labelFace' : 'labelPlate');
  const describe = (r: EditableRegion, index: number) =>
    t('regionName', {
      label: labelOf(r),
      n: index + 1,
      x: r.x,
      y: r.y,
      width: r.width,
      height: r.height,
      source: t(r.source === 'manual' ? 'sourceManual' : 'sourceModel'),
    });
  const preview = drag?.kind === 'draw' ? dragRect(drag.x0, drag.y0, drag.x1, drag.y1) : undefined;
  const button =
    'min-h-11 rounded-md border border-slate-400 bg-white px-3 text-sm font-medium hover:bg-slate-50 disabled:opacity-50';

  return (
    // Ctrl+Z from any control of the editor, as in any editor.
    <section aria-labelledby={`${help}-title`} className="space-y-3" onKeyDown={onEditorKey}>
      <h3 id={`${help}-title`} className="text-lg font-semibold">
        {t('reviewTitle')}
      </h3>
      <p id={help} className="text-sm text-slate-700">
        {t('reviewHelp')}
      </p>

      <div className="flex flex-wrap items-center gap-2">
        <button ref={addFace} type="button" className={button} onClick={() => add('face')}>
          {t('addFace')}
        </button>
        <button type="button" className={button} onClick={() => add('plate')}>
          {t('addPlate')}
        </button>
        <label className="flex items-center gap-2 text-sm">
          {t('drawAs')}
          <select
            className="min-h-11 rounded-md border border-slate-400 bg-white px-2"
            value={newLabel}
            onChange={(event) => setNewLabel(event.target.value as Label)}
          >
            <option value="face">{t('labelFace')}</option>
            <option value="plate">{t('labelPlate')}</option>
          </select>
        </label>
      </div>

      <ZoomFrame label={t('reviewImage')}>
        <div
          ref={stage}
          className="relative touch-none select-none"
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={endDrag}
          data-testid="review-stage"
        >
          {/* biome-ignore lint/performance/noImgElement: a static export shows blob: URLs as they are */}
          <img
            src={original}
            alt={imageAlt ?? t('originalAlt', { name })}
            draggable={false}
            className="pointer-events-none block h-auto w-full"
          />
          {regions.map((r, i) => (
            <button
              key={r.id}
              type="button"
              data-region={r.id}
              aria-label={describe(r, i)}
              aria-describedby={help}
              aria-pressed={r.id === selected}
              onFocus={() => setSelected(r.id)}
              onKeyDown={(event) => {
                const change = keyEdit(event, image);
                if (!change) return;
                event.preventDefault();
                if (change.kind === 'remove') setFocusRegion(remove(r.id) ?? '');
                else edit(r.id, (region) => applyKeyEdit(region, change, image));
              }}
              className={`absolute cursor-move border-2 focus-visible:outline-3 focus-visible:outline-offset-1 focus-visible:outline-white ${
                r.shape === 'ellipse' ? 'rounded-[50%]' : ''
              } ${r.label === 'face' ? 'border-amber-400 bg-amber-400/25' : 'border-cyan-400 bg-cyan-400/25'} ${
                r.id === selected ? 'ring-2 ring-indigo-700' : ''
              }`}
              style={{
                left: pct(r.x, image.width),
                top: pct(r.y, image.height),
                width: pct(r.width, image.width),
                height: pct(r.height, image.height),
              }}
            >
              <span
                data-handle="resize"
                aria-hidden="true"
                className="absolute -right-1.5 -bottom-1.5 size-3 cursor-se-resize rounded-sm border border-slate-900 bg-white"
              />
            </button>
          ))}
          {preview ? (
            <div
              aria-hidden="true"
              className="absolute border-2 border-dashed border-white bg-white/20"
              style={{
                left: pct(preview.x, image.width),
                top: pct(preview.y, image.height),
                width: pct(preview.width, image.width),
                height: pct(preview.height, image.height),
              }}
            />
          ) : null}
        </div>
      </ZoomFrame>

      {current ? (
        <fieldset className="rounded-md border border-slate-300 bg-white p-3">
          <legend className="px-1 text-sm font-semibold">
            {t('selectedRegion', { name: describe(current, regions.indexOf(current)) })}
          </legend>
          <div className="grid grid-cols-2 gap-2 sm:grid-cols-5">
            <label className="text-sm">
              {t('regionLabel')}
              <select
                className="mt-1 block min-h-11 w-full rounded-md border border-slate-400 bg-white px-2"
                value={current.label}
                onChange={(event) => {
                  const label = event.target.value as Label;
                  edit(current.id, (r) => ({ ...r, label, shape: label === 'face' ? 'ellipse' : 'rect' }));
                }}
              >
                <option value="face">{t('labelFace')}</option>
                <option value="plate">{t('labelPlate')}</option>
              </select>
            </label>
            {(['x', 'y', 'width', 'height'] as const).map((key) => (
              <label key={key} className="text-sm">
                {t(`region_${key}`)}
                <input
                  type="number"
                  inputMode="numeric"
                  className="mt-1 block min-h-11 w-full rounded-md border border-slate-400 bg-white px-2 tabular-nums"
                  value={current[key]}
                  min={0}
                  onChange={(event) => {
                    const value = Number(event.target.value);
                    if (Number.isFinite(value))
                      edit(current.id, (r) => clampRegion({ ...r, [key]: value }, image));
                  }}
                />
              </label>
            ))}
          </div>
          <button
            type="button"
            className={`${button} mt-2`}
            onClick={() => {
              // The last region gone, this fieldset goes too: focus moves on rather than to the page.
              if (remove(current.id) === undefined) setFocusRegion('');
            }}
          >
            {t('removeRegion')}
          </button>
        </fieldset>
      ) : (
        <p className="text-sm text-slate-700">{t('noRegions')}</p>
      )}

      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          onClick={() => onApply(regions)}
          className="min-h-11 rounded-md bg-indigo-700 px-4 font-medium text-white hover:bg-indigo-800"
        >
          {applyLabel ? applyLabel(regions.length) : t('applyReview', { count: regions.length })}
        </button>
        <button
          type="button"
          className={button}
          onClick={undo}
          disabled={history.length === 0}
          aria-keyshortcuts="Control+Z"
        >
          {t('undo')}
        </button>
        <button type="button" className={button} onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </section>
  );
}
