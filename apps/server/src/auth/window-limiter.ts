/**
 * Fixed one-minute windows per key ("ip:…", "user:…"), in memory: each replica counts its own
 * requests, so N replicas allow up to N times the limit (the account lockout, in the database, is
 * shared). Windows that ended are dropped as new ones start, so memory follows active keys only.
 */
export interface WindowLimiter {
  /** Counts one request for each key; the first key over its limit refuses (nothing is counted then). */
  take(
    keys: readonly string[],
  ): { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };
}

export function createWindowLimiter(options: { perMinute: number; now: () => Date }): WindowLimiter {
  const windowMs = 60_000;
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = 0;
  return {
    take(keys) {
      const t = options.now().getTime();
      if (t - lastSweep >= windowMs) {
        for (const [k, w] of windows) if (t - w.start >= windowMs) windows.delete(k);
        lastSweep = t;
      }
      const current = keys.map((k) => {
        const w = windows.get(k);
        return w && t - w.start < windowMs ? w : { start: t, count: 0 };
      });
      const full = current.find((w) => w.count >= options.perMinute);
      if (full)
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((full.start + windowMs - t) / 1000)),
        };
      keys.forEach((k, i) => {
        const w = current[i]!;
        w.count++;
        windows.set(k, w);
      });
      return { allowed: true };
    },
  };
}
