'use client';

import { defaultConfig, detectionConfig, LOCALES } from '@nestor/core';
import type { AppConfig } from '@nestor/sdk';
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { appConfig } from './api.ts';

/** What the page uses until the server's answer arrives: the schema's own defaults. */
export function fallbackAppConfig(): AppConfig & { loaded: false } {
  const c = defaultConfig();
  return {
    loaded: false,
    locales: [...LOCALES],
    features: { ...c.features },
    defaults: {
      task: c.task,
      preset: c.preset,
      targets: c.targets,
      method: c.redaction.method,
      strength: c.redaction.strength,
      feather: c.redaction.feather,
      minScore: { face: c.classes.face.minScore, plate: c.classes.plate.minScore },
      format: c.output.format,
      quality: c.output.quality,
      keepMetadata: c.output.keepMetadata,
    },
    limits: { ...c.limits },
    auth: { mode: c.auth.mode },
    detection: detectionConfig(c),
  };
}

export type LoadedAppConfig = AppConfig & { loaded: boolean };

const AppConfigContext = createContext<LoadedAppConfig>(fallbackAppConfig());

/** Loads `GET /v1/app-config` once; pages read it with `useAppConfig()`. */
export function AppConfigProvider({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<LoadedAppConfig>(fallbackAppConfig);
  useEffect(() => {
    let live = true;
    appConfig().then(
      (answer) => live && setConfig({ ...answer, loaded: true }),
      // The page still works on the schema defaults; the studio reports API errors where they matter.
      (error: unknown) => console.warn('app-config unavailable', error),
    );
    return () => {
      live = false;
    };
  }, []);
  return <AppConfigContext.Provider value={config}>{children}</AppConfigContext.Provider>;
}

export const useAppConfig = (): LoadedAppConfig => useContext(AppConfigContext);
