'use client';

import { type DetectionResult, frameStarts } from '@nestor/core';
import { useId, useMemo, useState } from 'react';
import { firstFrameWithRegions } from '../lib/frames.ts';
import { useLocale, useT } from '../lib/i18n.tsx';
import { animationTimeline, type VideoFix } from '../lib/video-fixes.ts';
import { canvasUrl, FrameFixes, type FrameSource } from './FrameFixes.tsx';

interface Props {
  /** The animated GIF or WebP as chosen (its frames are decoded here, in the browser). */
  readonly file: Blob;
  readonly name: string;
  /** Its result: frames, delays, and the regions of each frame. */
  readonly result: DetectionResult;
  readonly fixes: readonly VideoFix[];
  readonly onChange: (fixes: VideoFix[]) => void;
  readonly onRerun: () => void;
}

/** One frame of an animation, composited as it shows, as a PNG object URL of the given size. */
async function decodeFrame(file: Blob, type: string, index: number, width: number, height: number) {
  const decoder = new ImageDecoder({ data: file.stream(), type });
  try {
    const { image } = await decoder.decode({ frameIndex: index });
    try {
      return await canvasUrl(width, height, (context) => context.drawImage(image, 0, 0, width, height));
    } finally {
      image.close();
    }
  } finally {
    decoder.close();
  }
}

/**
 * Corrections of an animated image: a frame picked with a slider opens in the region editor;
 * corrections hold for a time span, as in a video. Needs the browser's ImageDecoder (WebCodecs).
 */
export function AnimationFixes({ file, name, result, fixes, onChange, onRerun }: Props) {
  const t = useT('video');
  const locale = useLocale();
  const id = useId();
  const delays = result.image.delaysMs ?? [];
  const starts = useMemo(() => frameStarts(delays), [delays]);
  const count = result.image.frames ?? starts.length;
  const [index, setIndex] = useState(() => firstFrameWithRegions(result));
  const timeMs = starts[index] ?? 0;
  const source: FrameSource = {
    ready: typeof ImageDecoder !== 'undefined',
    notReady: t('fixNoDecoder'),
    nowMs: () => timeMs,
    // The frame picked: its own regions (several frames may start at once when delays are 0).
    regionsAt: () => result.frames?.find((f) => f.index === index)?.detections ?? [],
    async take() {
      const { width, height } = result.image;
      return { timeMs, url: await decodeFrame(file, `image/${result.image.format}`, index, width, height) };
    },
  };
  return (
    <FrameFixes
      source={source}
      timeline={animationTimeline(result.frames ?? [], delays)}
      image={result.image}
      name={name}
      help={t('fixHelpAnimation')}
      fixes={fixes}
      onChange={onChange}
      onRerun={onRerun}
    >
      <label htmlFor={`${id}-frame`} className="block text-sm font-medium">
        {t('fixPickFrame', {
          n: index + 1,
          count,
          seconds: (timeMs / 1000).toLocaleString(locale, { maximumFractionDigits: 2 }),
        })}
      </label>
      <input
        id={`${id}-frame`}
        type="range"
        min={1}
        max={count}
        step={1}
        value={index + 1}
        onChange={(event) => setIndex(Number(event.target.value) - 1)}
        className="w-full accent-indigo-700"
        data-testid="fix-pick"
      />
    </FrameFixes>
  );
}
