'use client';

import { IMAGE_FORMATS, LABELS, type Label, PRESETS, type Preset, type RedactionMethod } from '@nestor/core';
import { type ReactNode, useId } from 'react';
import { DEVICE_FORMATS, type EngineKind, type StudioOptions, type Task } from '../lib/engines.ts';
import { useT } from '../lib/i18n.tsx';

const METHODS: readonly RedactionMethod[] = ['gaussian', 'pixelate', 'solid', 'adaptive'];
const FORMATS = ['same', ...IMAGE_FORMATS.filter((f) => f !== 'gif')] as const;

const field = 'mt-1 block w-full rounded-md border border-slate-400 bg-white px-2 py-2 text-slate-900';
const legend = 'text-sm font-semibold text-slate-900';

interface Props {
  readonly options: StudioOptions;
  readonly engine: EngineKind;
  readonly onChange: (options: StudioOptions) => void;
  readonly onEngine: (engine: EngineKind) => void;
  readonly onReset: () => void;
  /** How the on-device engine is doing (loading, ready, failed). */
  readonly deviceNote?: string | undefined;
}

export function OptionsPanel({ options, engine, onChange, onEngine, onReset, deviceNote }: Props) {
  const t = useT('studio');
  const id = useId();
  const set = <K extends keyof StudioOptions>(key: K, value: StudioOptions[K]) =>
    onChange({ ...options, [key]: value });
  const formats = engine === 'device' ? DEVICE_FORMATS : FORMATS;
  const detect = options.task === 'detect';

  return (
    <section aria-labelledby={`${id}-title`} className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 id={`${id}-title`} className="text-lg font-semibold">
        {t('optionsTitle')}
      </h2>

      <Radios<Task>
        legend={t('task')}
        name={`${id}-task`}
        value={options.task}
        onChange={(task) => set('task', task)}
        choices={[
          ['anonymize', t('taskAnonymize')],
          ['detect', t('taskDetect')],
        ]}
      />

      <Radios<EngineKind>
        legend={t('engine')}
        name={`${id}-engine`}
        value={engine}
        onChange={onEngine}
        choices={[
          ['server', t('engineServer')],
          ['device', t('engineDevice')],
        ]}
        hint={engine === 'device' ? t('engineDeviceHint') : t('engineServerHint')}
      />
      {deviceNote ? (
        <p className="mt-1 text-sm font-medium text-slate-800" role="status" data-testid="device-status">
          {deviceNote}
        </p>
      ) : null}

      <fieldset className="mt-4">
        <legend className={legend}>{t('targets')}</legend>
        <div className="mt-1 flex flex-wrap gap-4">
          {LABELS.map((label) => (
            <label key={label} className="flex min-h-11 items-center gap-2">
              <input
                type="checkbox"
                className="size-5 accent-indigo-700"
                checked={options.targets.includes(label)}
                // At least one class must stay selected: the API refuses an empty list.
                disabled={options.targets.length === 1 && options.targets.includes(label)}
                onChange={(event) =>
                  set(
                    'targets',
                    LABELS.filter((l) => (l === label ? event.target.checked : options.targets.includes(l))),
                  )
                }
              />
              {t(label === 'face' ? 'labelFaces' : 'labelPlates')}
            </label>
          ))}
        </div>
      </fieldset>

      <div className="mt-4 grid grid-cols-2 gap-3">
        <label className="block text-sm font-semibold">
          {t('method')}
          <select
            className={field}
            value={options.method}
            disabled={detect}
            onChange={(event) => set('method', event.target.value as RedactionMethod)}
          >
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {t(`method_${m}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-semibold">
          {t('preset')}
          <select
            className={field}
            value={options.preset}
            onChange={(event) => set('preset', event.target.value as Preset)}
          >
            {PRESETS.map((p) => (
              <option key={p} value={p}>
                {t(`preset_${p}`)}
              </option>
            ))}
          </select>
        </label>
      </div>

      <Range
        label={t('strength')}
        value={options.strength}
        min={0.5}
        max={5}
        step={0.1}
        disabled={detect}
        display={`×${options.strength.toFixed(1)}`}
        onChange={(v) => set('strength', v)}
      />
      {LABELS.map((label: Label) => (
        <Range
          key={label}
          label={t(label === 'face' ? 'thresholdFace' : 'thresholdPlate')}
          value={options.minScore[label]}
          min={0.05}
          max={0.95}
          step={0.05}
          display={options.minScore[label].toFixed(2)}
          onChange={(v) => set('minScore', { ...options.minScore, [label]: v })}
        />
      ))}

      <div className="mt-4 grid grid-cols-1 gap-3 min-[420px]:grid-cols-2 lg:grid-cols-2">
        <label className="block text-sm font-semibold">
          {t('format')}
          <select
            className={field}
            value={options.format}
            disabled={detect}
            onChange={(event) => set('format', event.target.value as StudioOptions['format'])}
          >
            {formats.map((f) => (
              <option key={f} value={f}>
                {f === 'same' ? t('formatSame') : f.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <Range
          label={t('quality')}
          value={options.quality}
          min={1}
          max={100}
          step={1}
          disabled={detect}
          display={String(options.quality)}
          onChange={(v) => set('quality', v)}
        />
      </div>

      <label className="mt-3 flex min-h-11 items-center gap-2">
        <input
          type="checkbox"
          className="size-5 accent-indigo-700"
          checked={options.keepMetadata && engine === 'server'}
          disabled={detect || engine === 'device'}
          onChange={(event) => set('keepMetadata', event.target.checked)}
        />
        <span>
          {t('keepMetadata')}
          <span className="block text-sm text-slate-600">
            {engine === 'device' ? t('keepMetadataDevice') : t('keepMetadataHint')}
          </span>
        </span>
      </label>

      <button
        type="button"
        onClick={onReset}
        className="mt-3 rounded-md px-2 py-2 text-sm font-medium text-indigo-800 underline hover:bg-indigo-50"
      >
        {t('resetOptions')}
      </button>
    </section>
  );
}

function Radios<V extends string>(props: {
  legend: string;
  name: string;
  value: V;
  onChange: (value: V) => void;
  choices: readonly (readonly [V, string])[];
  hint?: string;
}) {
  const hintId = useId();
  return (
    <fieldset className="mt-4" aria-describedby={props.hint ? hintId : undefined}>
      <legend className={legend}>{props.legend}</legend>
      <div className="mt-1 grid grid-cols-2 gap-2">
        {props.choices.map(([value, label]) => (
          <label
            key={value}
            className={`flex min-h-11 cursor-pointer items-center justify-center rounded-md border px-2 text-center text-sm font-medium has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-indigo-700 ${
              props.value === value
                ? 'border-indigo-700 bg-indigo-700 text-white'
                : 'border-slate-400 bg-white text-slate-900 hover:bg-slate-50'
            }`}
          >
            <input
              type="radio"
              className="sr-only"
              name={props.name}
              value={value}
              checked={props.value === value}
              onChange={() => props.onChange(value)}
            />
            {label}
          </label>
        ))}
      </div>
      {props.hint ? (
        <p id={hintId} className="mt-1 text-sm text-slate-600">
          {props.hint}
        </p>
      ) : null}
    </fieldset>
  );
}

function Range(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  display: string;
  disabled?: boolean;
  onChange: (value: number) => void;
}): ReactNode {
  const id = useId();
  return (
    <div className="mt-3">
      <div className="flex items-baseline justify-between text-sm">
        <label htmlFor={id} className="font-semibold">
          {props.label}
        </label>
        <output htmlFor={id} className="tabular-nums text-slate-700">
          {props.display}
        </output>
      </div>
      <input
        id={id}
        type="range"
        className="mt-1 w-full accent-indigo-700"
        min={props.min}
        max={props.max}
        step={props.step}
        value={props.value}
        disabled={props.disabled}
        onChange={(event) => props.onChange(Number(event.target.value))}
      />
    </div>
  );
}
