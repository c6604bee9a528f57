'use client';

import { LABELS, type Label, type RedactionMethod } from '@nestor/core';
import { type ReactNode, useId } from 'react';

/** Form controls shared by the photo studio's and the video page's options. */

export const METHODS: readonly RedactionMethod[] = ['gaussian', 'pixelate', 'solid', 'adaptive'];

export const fieldClass =
  'mt-1 block w-full rounded-md border border-slate-400 bg-white px-2 py-2 text-slate-900';
const legend = 'text-sm font-semibold text-slate-900';

/** The classes to look for; at least one stays selected (the API refuses an empty list). */
export function TargetsField(props: {
  legend: string;
  labelOf: (label: Label) => string;
  value: readonly Label[];
  onChange: (targets: Label[]) => void;
}): ReactNode {
  return (
    <fieldset className="mt-4">
      <legend className={legend}>{props.legend}</legend>
      <div className="mt-1 flex flex-wrap gap-4">
        {LABELS.map((label) => (
          <label key={label} className="flex min-h-11 items-center gap-2">
            <input
              type="checkbox"
              className="size-5 accent-indigo-700"
              checked={props.value.includes(label)}
              disabled={props.value.length === 1 && props.value.includes(label)}
              onChange={(event) =>
                props.onChange(
                  LABELS.filter((l) => (l === label ? event.target.checked : props.value.includes(l))),
                )
              }
            />
            {props.labelOf(label)}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function MethodSelect(props: {
  label: string;
  labelOf: (method: RedactionMethod) => string;
  value: RedactionMethod;
  disabled?: boolean;
  className?: string;
  onChange: (method: RedactionMethod) => void;
}): ReactNode {
  return (
    <label className={props.className ?? 'block text-sm font-semibold'}>
      {props.label}
      <select
        className={fieldClass}
        value={props.value}
        disabled={props.disabled}
        onChange={(event) => props.onChange(event.target.value as RedactionMethod)}
      >
        {METHODS.map((m) => (
          <option key={m} value={m}>
            {props.labelOf(m)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Radios<V extends string>(props: {
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

export function Range(props: {
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
