import { loadConfig } from '@nestor/engine-node';
import { describe, expect, it } from 'vitest';
import { isLoopback } from './main.ts';

describe('server settings', () => {
  it('only loopback hosts are allowed', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '127.example.com'])
      expect(isLoopback(host), host).toBe(false);
  });

  it('defaults to 127.0.0.1:5050, overridden by NESTOR_HOST and NESTOR_PORT', () => {
    const cwd = '/';
    expect(loadConfig({ cwd, env: {} }).config.server).toMatchObject({ host: '127.0.0.1', port: 5050 });
    expect(loadConfig({ cwd, env: { NESTOR_HOST: '::1', NESTOR_PORT: '8080' } }).config.server).toMatchObject(
      {
        host: '::1',
        port: 8080,
      },
    );
    expect(() => loadConfig({ cwd, env: { NESTOR_PORT: 'http' } })).toThrow(/server\.port/);
  });
});
