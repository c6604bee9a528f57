/** Where the job queues report faults that must not stop the server (the app's logger). */
export interface JobLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * An error's code and message for the log, without the path a file-system error ends with (it may
 * name a file inside a job): `EACCES: permission denied, rmdir '/…/<id>/in'` → `EACCES: permission denied`.
 * @example logFields(new Error('boom')) // { code: 'E_INTERNAL', message: 'boom' }
 */
export function logFields(error: unknown): { code: string; message: string } {
  const { code, syscall, message } = (error ?? {}) as {
    code?: unknown;
    syscall?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message : String(error);
  return {
    code: typeof code === 'string' ? code : 'E_INTERNAL',
    // Node's file-system errors read "<code>: <what>, <syscall> '<path>'".
    message: typeof syscall === 'string' ? text.split(`, ${syscall} '`)[0]! : text,
  };
}
