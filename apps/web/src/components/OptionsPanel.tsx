'use client';

import { IMAGE_FORMATS, LABELS, type Label, PRESETS, type Preset } from '@nestor/core';
import { useId } from 'react';
import { DEVICE_FORMATS, type EngineKind, type StudioOptions, type Task } from '../lib/engines.ts';
import { useT } from '../lib/i18n.tsx';
import { fieldClass as field, MethodSelect, Radios, Range, TargetsField } from './option-fields.tsx';

const FORMATS = ['same', ...IMAGE_FORMATS.filter((f) => f !== 'gif')] as const;

interface Props {
  readonly options: StudioOptions;
  readonly engine: EngineKind;
  readonly onChange: (options: StudioOptions) => void;
  readonly onEngine: (engine: EngineKind) => void;
  readonly onReset: () => void;
  /** How the on-device engine is doing (loading, ready, failed). */
  readonly deviceNote?: string | undefined;
  /** On-device inference runs on one WebAssembly thread (slow; WebGPU is not). */
  readonly singleThreaded?: boolean;
}

export function OptionsPanel({
  options,
  engine,
  onChange,
  onEngine,
  onReset,
  deviceNote,
  singleThreaded = false,
}: Props) {
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
      {engine === 'device' && singleThreaded ? (
        <p className="mt-1 text-sm text-amber-900" data-testid="device-single-thread">
          {t('deviceSingleThread')}
        </p>
      ) : null}

      <TargetsField
        legend={t('targets')}
        labelOf={(label) => t(label === 'face' ? 'labelFaces' : 'labelPlates')}
        value={options.targets}
        onChange={(targets) => set('targets', targets)}
      />

      <div className="mt-4 grid grid-cols-2 gap-3">
        <MethodSelect
          label={t('method')}
          labelOf={(method) => t(`method_${method}`)}
          value={options.method}
          disabled={detect}
          onChange={(method) => set('method', method)}
        />
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
