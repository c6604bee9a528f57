import { type Config, LOCALES, NestorError } from '@nestor/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pagePath } from './web.ts';

/** A deployment switch of `features` in `nestor-ai-config.json`. */
export type Feature = keyof Config['features'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route belongs to this switchable feature: when it is off the route answers 404. */
    feature?: Feature;
  }
}

/**
 * Routes registered by plugins cannot declare `config.feature` themselves: the integrators'
 * documentation (swagger-ui) and the proof-of-concept aliases are tagged by path.
 */
const FEATURE_OF_ROUTE: readonly { readonly feature: Feature; readonly matches: (url: string) => boolean }[] =
  [
    { feature: 'technicalApi', matches: (url) => url === '/docs' || url.startsWith('/docs/') },
    { feature: 'technicalApi', matches: (url) => url === '/detect' || url === '/predict' },
  ];

const PAGE_LOCALE = LOCALES.join('|');
/**
 * Pages of the static web app are served by one wildcard route, so they are recognised by path:
 * `/dashboard` and `/<locale>/dashboard` (with or without `.html`, a trailing slash or a sub-path).
 * Case-blind, for file systems that are.
 */
const FEATURE_OF_PAGE: readonly { readonly feature: Feature; readonly path: RegExp }[] = [
  {
    feature: 'dashboard',
    path: new RegExp(`^(?:/(?:${PAGE_LOCALE}))?/dashboard(?:\\.html|\\.txt)?(?:/|$)`, 'i'),
  },
];

/** The feature a route belongs to: its own `config.feature`, else the tag its path implies. */
export function featureOfRoute(url: string, declared: Feature | undefined): Feature | undefined {
  return declared ?? FEATURE_OF_ROUTE.find((r) => r.matches(url))?.feature;
}

/**
 * The feature of the page a request URL (as sent, query included) names, if any: read as web.ts
 * reads it, so `/en/%64ashboard/` or `/en//dashboard/` are the dashboard too.
 */
export function featureOfPage(requestUrl: string): Feature | undefined {
  const page = pagePath(requestUrl);
  if (!page) return undefined;
  const path = `/${page.segments.join('/')}${page.folder ? '/' : ''}`;
  return FEATURE_OF_PAGE.find((p) => p.path.test(path))?.feature;
}

/** True when `feature` is switched off in this deployment. */
export function isDisabled(features: Config['features'], feature: Feature | undefined): boolean {
  return feature !== undefined && !features[feature];
}

/**
 * Enforces `features` on every route: a route or page of a disabled feature answers the same 404
 * as a route that does not exist. Call it before any route or plugin is registered, so that the
 * `onRoute` hook sees every route (plugins' included).
 */
export function enforceFeatures(app: FastifyInstance, features: Config['features']): void {
  app.addHook('onRoute', (route) => {
    const feature = featureOfRoute(route.url ?? route.path, route.config?.feature);
    if (feature) route.config = { ...route.config, feature };
  });
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const feature = request.routeOptions.config.feature ?? featureOfPage(request.url);
    if (isDisabled(features, feature)) throw new NestorError('E_NOT_FOUND');
  });
}
