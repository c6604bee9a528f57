'use client';

import { useEffect, useId, useRef, useState } from 'react';
import { useT } from '../lib/i18n.tsx';

// File pickers show only these; HEIC is read on both engines (libheif in WebAssembly).
const ACCEPT =
  'image/jpeg,image/png,image/webp,image/avif,image/heic,image/heif,.heic,.heif,image/tiff,image/gif';

/** Files from a drop, a paste anywhere on the page, or the picker (several at once). */
export function UploadArea({ onFiles, compact }: { onFiles: (files: File[]) => void; compact: boolean }) {
  const t = useT('studio');
  const input = useRef<HTMLInputElement>(null);
  const hint = useId();
  const [over, setOver] = useState(false);

  useEffect(() => {
    const paste = (event: ClipboardEvent) => {
      const files = [...(event.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
      if (files.length > 0) {
        event.preventDefault();
        onFiles(files);
      }
    };
    document.addEventListener('paste', paste);
    return () => document.removeEventListener('paste', paste);
  }, [onFiles]);

  return (
    <section
      aria-labelledby={`${hint}-title`}
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        event.preventDefault();
        setOver(false);
        const files = [...event.dataTransfer.files];
        if (files.length > 0) onFiles(files);
      }}
      className={`rounded-lg border-2 border-dashed text-center transition-colors ${
        over ? 'border-indigo-600 bg-indigo-50' : 'border-slate-400 bg-white'
      } ${compact ? 'p-4' : 'px-4 py-10'}`}
    >
      <h2 id={`${hint}-title`} className={compact ? 'sr-only' : 'text-lg font-semibold'}>
        {t('uploadTitle')}
      </h2>
      <p id={hint} className={`text-slate-700 ${compact ? 'text-sm' : 'mt-2'}`}>
        {t('uploadHint')}
      </p>
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        multiple
        className="sr-only"
        aria-describedby={hint}
        aria-label={t('choosePhotos')}
        data-testid="file-input"
        onChange={(event) => {
          const files = [...(event.target.files ?? [])];
          event.target.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
      <button
        type="button"
        onClick={() => input.current?.click()}
        className="mt-3 rounded-md bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-700"
      >
        {t('choosePhotos')}
      </button>
    </section>
  );
}
