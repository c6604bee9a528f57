import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const config: NextConfig = {
  // A static site the Nestor server serves next to the API (apps/server/src/web.ts).
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  // Workspace packages ship TypeScript sources (with .ts import extensions).
  transpilePackages: ['@nestor/core', '@nestor/sdk', '@nestor/engine-web', '@nestor/models'],
  // The workspace root holds the hoisted node_modules.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL('../..', import.meta.url)),
  devIndicators: false,
  // The root layout lives under [locale]; the 404 page brings its own <html> (src/app/global-not-found.tsx).
  experimental: { globalNotFound: true },
  poweredByHeader: false,
};

export default config;
