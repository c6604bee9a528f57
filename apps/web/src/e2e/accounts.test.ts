import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { parseConfig } from '@nestor/core';
import type { FastifyInstance } from 'fastify';
import jsQRModule from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../../packages/db/src/index.ts';
import { buildApp } from '../../../server/src/app.ts';
import { type Accounts, createAccounts } from '../../../server/src/auth/accounts.ts';
import { generateSecretKey, parseSecretKey } from '../../../server/src/auth/secrets.ts';
import { totpCode } from '../../../server/src/auth/totp.ts';
import { fakePipeline } from '../../../server/src/fake-pipeline.ts';
import { ensureWebBuild } from '../build/ensure-build.ts';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, newPage, screenshot } from './harness.ts';

type ScanQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
// jsqr is CommonJS with an ES-style default: the function is `.default` under Node, the import under bundlers.
const jsQR = ('default' in jsQRModule ? jsQRModule.default : jsQRModule) as ScanQr;

if (!hasChromium)
  console.warn('accounts e2e skipped: /usr/bin/chromium is missing (apt-get install chromium)');

const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
if (!HAS_FFMPEG) console.warn('accounts e2e: the video page case is skipped: ffmpeg is missing');

const MONTH = 31 * 24 * 3_600_000;

/** Reads the QR code of an element from a screenshot, as a phone camera would. */
async function scanQr(page: Page, testId: string): Promise<string> {
  const png = PNG.sync.read(await page.getByTestId(testId).screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error(`no QR code readable in ${testId}`);
  return found.data;
}

async function expectAccessible(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(
    violations.map((v) => `${state}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
  ).toEqual([]);
}

describe.skipIf(!hasChromium)('accounts in the browser (accounts mode, PGlite)', () => {
  let db: Database;
  let accounts: Accounts;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;
  // The server's clock runs ahead by `offset` (expiry without waiting six months); codes use the same.
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const nextStep = () => {
    offset += 31_000;
  };

  beforeAll(async () => {
    await ensureWebBuild((line) => process.stderr.write(`e2e: ${line}\n`));
    db = await openDatabase({ dataDir: 'memory://' });
    const config = parseConfig({ auth: { mode: 'accounts' } });
    accounts = createAccounts({ db, key: parseSecretKey(generateSecretKey(), 'e2e'), config, now });
    app = buildApp({ nestor: fakePipeline(), config, accounts });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.close();
  });

  /** Opens a one-time link and reads the credentials from the page: the TOTP secret from its QR code. */
  async function enrol(page: Page, path: string) {
    await page.goto(`${baseUrl}${path}`);
    return readCredentials(page);
  }

  async function readCredentials(page: Page) {
    await page.getByTestId('totp-qr').waitFor();
    // The token left the address bar as soon as it was read.
    expect(page.url()).toBe(`${baseUrl}/en/credentials/`);
    const uri = await scanQr(page, 'totp-qr');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Nestor:/);
    const password = (await page.getByTestId('password').textContent()) ?? '';
    expect(password).toHaveLength(24);
    return { secret: new URL(uri).searchParams.get('secret') ?? '', password };
  }

  async function signIn(page: Page, username: string, password: string, secret: string) {
    nextStep();
    await page.goto(`${baseUrl}/en/login/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('enrols by the QR code on the one-time page, signs in with a computed code, manages keys and users', async () => {
    const { context, page } = await newPage(browser);
    try {
      const { link } = await accounts.bootstrapAdmin('ada');
      const ada = await enrol(page, link.path);
      await screenshot(page, 'account-credentials');
      await expectAccessible(page, 'credentials');
      // The password's own QR code says the same as the text.
      expect(await scanQr(page, 'password-qr')).toBe(ada.password);
      // The page opens once.
      await page.goto(`${baseUrl}${link.path}`);
      await expect(page.getByTestId('account-error').textContent()).resolves.toMatch(
        /already opened or has expired/,
      );

      await page.goto(`${baseUrl}/en/login/`);
      await expectAccessible(page, 'login');
      await screenshot(page, 'account-login');
      await signIn(page, 'ada', ada.password, ada.secret);
      await page.waitForURL(`${baseUrl}/en/`);
      await page.getByRole('link', { name: 'Account (ada)' }).waitFor();

      await page.goto(`${baseUrl}/en/account/`);
      await page.getByLabel('Name').fill('ci');
      await page.getByRole('button', { name: 'Create a key' }).click();
      const key = (await page.getByTestId('new-key').textContent()) ?? '';
      expect(key).toMatch(/^nst_/);
      const detect = await fetch(`${baseUrl}/v1/detect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'image/png' },
        body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      });
      expect(detect.status).toBe(200);
      await expectAccessible(page, 'account');
      await screenshot(page, 'account-keys');
      await page.getByRole('button', { name: 'Revoke key ci' }).click();
      await page.getByRole('cell', { name: 'revoked' }).waitFor();

      await page.goto(`${baseUrl}/en/users/`);
      await page.getByLabel('Username').fill('bob');
      await page.getByRole('button', { name: 'Create' }).click();
      const handover = (await page.getByTestId('handover-link').textContent()) ?? '';
      expect(handover).toMatch(new RegExp(`^${baseUrl}/credentials/#[A-Za-z0-9_-]{43}$`));
      await page.getByRole('cell', { name: 'bob', exact: true }).waitFor();
      await expectAccessible(page, 'users');
      await screenshot(page, 'account-users');

      await page.goto(`${baseUrl}/en/audit/`);
      await page.getByRole('cell', { name: 'login' }).first().waitFor();
      await expectAccessible(page, 'audit');

      // Bob's link works in another browser, in French.
      const bobBrowser = await browser.newContext({ locale: 'fr-FR' });
      const bobPage = await bobBrowser.newPage();
      await bobPage.goto(handover);
      await bobPage.getByTestId('totp-qr').waitFor();
      expect(bobPage.url()).toBe(`${baseUrl}/fr/credentials/`);
      await bobBrowser.close();
    } finally {
      await context.close();
    }
  });

  it('a wrong password locks the account after five tries, with a clear message', async () => {
    const { context, page } = await newPage(browser);
    try {
      const { link } = await accounts.createUser(
        { username: 'lou', role: 'user' },
        { kind: 'local' },
        undefined,
      );
      const lou = await enrol(page, link.path);
      for (let i = 0; i < 5; i++) {
        await signIn(page, 'lou', `${lou.password}x`, lou.secret);
        await page.getByTestId('account-error').waitFor();
      }
      await expect(page.getByTestId('account-error').textContent()).resolves.toMatch(
        /locked\. Try again in 15 minutes/,
      );
      await screenshot(page, 'account-locked');
    } finally {
      await context.close();
    }
  });

  it('expired credentials lead straight into renewal: new QR code, the old credentials stop working', async () => {
    const { context, page } = await newPage(browser);
    try {
      const { link } = await accounts.createUser(
        { username: 'eve', role: 'user' },
        { kind: 'local' },
        undefined,
      );
      const old = await enrol(page, link.path);
      offset += 7 * MONTH;
      await signIn(page, 'eve', old.password, old.secret);
      await page.waitForURL(`${baseUrl}/en/credentials/`);
      const renewed = await readCredentials(page);
      await screenshot(page, 'account-renewed');
      expect(renewed.secret).not.toBe(old.secret);
      await signIn(page, 'eve', old.password, old.secret);
      await expect(page.getByTestId('account-error').textContent()).resolves.toMatch(
        /Wrong username, password or code/,
      );
      await signIn(page, 'eve', renewed.password, renewed.secret);
      await page.waitForURL(`${baseUrl}/en/`);
    } finally {
      await context.close();
    }
  });

  it.skipIf(!HAS_FFMPEG)('the video page sends its job with the session and the CSRF token', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'nestor-accounts-video-'));
    const { context, page } = await newPage(browser);
    try {
      const clip = path.join(dir, 'clip.mp4');
      execFileSync('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip],
      ]);
      const { link } = await accounts.createUser(
        { username: 'vic', role: 'user' },
        { kind: 'local' },
        undefined,
      );
      const vic = await enrol(page, link.path);
      await signIn(page, 'vic', vic.password, vic.secret);
      await page.waitForURL(`${baseUrl}/en/`);
      await page.getByRole('link', { name: 'Video', exact: true }).click();
      await page.waitForURL(`${baseUrl}/en/video/`);
      const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/v1/jobs'));
      await page.getByTestId('video-input').setInputFiles(clip);
      await page.getByTestId('start').click();
      expect(await (await posted).headerValue('x-csrf-token')).toMatch(/.+/);
      await page
        .getByTestId('video-summary')
        .or(page.getByTestId('error'))
        .first()
        .waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('error').count()).toBe(0);
      expect(await page.getByTestId('video-summary').getAttribute('data-frames')).toBe('10');
    } finally {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
