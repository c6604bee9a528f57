import type { Label, RedactionMethod } from '@nestor/core';
import { NestorError } from '@nestor/core';
import { csrfHeaders } from './api.ts';
import { errorFromAnswer } from './video.ts';
import { fixOptions, type VideoFix } from './video-fixes.ts';

/** The video page's options; the same names as the API's. */
export interface VideoOptions {
  readonly task: 'anonymize' | 'detect';
  readonly targets: readonly Label[];
  readonly method: RedactionMethod;
  readonly strength: number;
}

/** The multipart fields `POST /v1/jobs` reads (apps/server/src/options.ts), with a person's corrections. */
export function jobFields(options: VideoOptions, fixes: readonly VideoFix[] = []): [string, string][] {
  const fields: [string, string][] = [
    ['task', options.task],
    ['targets', options.targets.join(',')],
  ];
  if (options.task === 'anonymize') {
    fields.push(['method', options.method], ['strength', String(options.strength)]);
  }
  const { addRegions, suppress } = fixOptions(fixes);
  if (addRegions.length > 0) fields.push(['addRegions', JSON.stringify(addRegions)]);
  if (suppress.length > 0) fields.push(['suppress', JSON.stringify(suppress)]);
  return fields;
}

export interface Upload {
  readonly done: Promise<{ id: string }>;
  abort(): void;
}

/**
 * `POST /v1/jobs` with XMLHttpRequest, the one browser API that reports upload progress. The
 * session cookie and the CSRF header go along as with every other request of the app; only the
 * extension of the file's name is sent.
 */
export function uploadJob(
  file: File,
  options: VideoOptions,
  fixes: readonly VideoFix[],
  onProgress: (loaded: number, total: number) => void,
): Upload {
  const request = new XMLHttpRequest();
  const done = new Promise<{ id: string }>((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of jobFields(options, fixes)) form.append(name, value);
    const ext = /\.[a-z0-9]{1,5}$/i.exec(file.name)?.[0].toLowerCase() ?? '';
    form.append('file', file, `upload${ext}`);

    request.open('POST', '/v1/jobs');
    request.withCredentials = true;
    request.setRequestHeader('accept', 'application/json');
    for (const [name, value] of Object.entries(csrfHeaders({ method: 'POST' }))) {
      request.setRequestHeader(name, value);
    }
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener('load', () => {
      if (request.status === 202) {
        try {
          resolve(JSON.parse(request.responseText) as { id: string });
        } catch (error) {
          reject(
            new NestorError('E_INTERNAL', 'The server answered 202 with invalid JSON', { cause: error }),
          );
        }
        return;
      }
      reject(errorFromAnswer(request.status, request.responseText));
    });
    request.addEventListener('error', () =>
      reject(new NestorError('E_NETWORK', 'The upload could not reach the server')),
    );
    request.addEventListener('abort', () =>
      reject(new DOMException('The upload was cancelled', 'AbortError')),
    );
    request.send(form);
  });
  return { done, abort: () => request.abort() };
}
