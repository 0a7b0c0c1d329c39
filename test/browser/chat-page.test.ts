import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SupervisedProcess } from '../../runtime/supervisor/supervised-process.js';
import { claimSubnet } from '../harness/subnets.js';

// A loopback subnet of this test's own, so a stray local gateway on 127.0.0.1 (or another test's) is never ours.
const HOST = (await claimSubnet()).ip(1);
const PORT = 7272;
const REGISTER_PORT = 1236;
const PAGE_URL = `http://${HOST}:${PORT}/`;
const STARTUP_TIMEOUT_MS = 30_000;
const UI_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

const packageDir = fileURLToPath(new URL('../../../', import.meta.url));
const cliPath = path.join(packageDir, 'dist/runtime/cli.js');
const room = `room-${process.pid}`;
// A name with markup: it must show up as plain text and never run.
const EVE = 'Eve <img src=x onerror=__xss=1>';

let cluster: SupervisedProcess | undefined;
let browser: Browser | undefined;

before(async () => {
  assert.equal(await pageAnswers(), false, `something already serves ${PAGE_URL}; stop it first`);
  cluster = new SupervisedProcess({
    label: 'gwc local',
    command: [process.execPath, cliPath, 'local', '--host', HOST, '--port', String(PORT), '--register-port', String(REGISTER_PORT)],
    cwd: packageDir,
    env: { ...process.env, GWC_LOG_FORMAT: 'json' },
    ownGroup: true,
  });
  await cluster.waitForEvent('ready', { role: 'local' }, STARTUP_TIMEOUT_MS);
  browser = await chromium.launch({
    headless: true,
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  const exit = await cluster?.stop('SIGINT', STOP_TIMEOUT_MS);
  if (exit?.signal === 'SIGKILL') process.stderr.write(`warning: the local cluster did not stop on SIGINT within ${STOP_TIMEOUT_MS} ms, killed it\n`);
});

test('two users chat in a room, privately too, and see each other leave', async (t) => {
  assert.ok(browser);
  const ann = await openChat(browser, 'Ann');
  const bob = await openChat(browser, 'Bob');
  const eve = await openChat(browser, EVE);

  for (const page of [ann, bob, eve]) await waitForUsers(page, ['Ann', 'Bob', EVE]);

  await say(bob, 'hello from <b>Bob</b>');
  await messageShown(ann, 'hello from <b>Bob</b>');
  await messageShown(eve, 'hello from <b>Bob</b>');
  assert.equal(await ann.getByTestId('message-list').locator('b, img').count(), 0, 'user text was rendered as HTML');

  await ann.getByTestId('target-select').selectOption({ label: 'Bob' });
  await say(ann, 'a secret for Bob');
  await messageShown(bob, 'a secret for Bob');
  await messageShown(ann, 'a secret for Bob');
  // Eve hears Ann's next public message, sent after the private one, but never the private one.
  await ann.getByTestId('target-select').selectOption('all');
  await say(ann, 'back to everyone');
  await messageShown(eve, 'back to everyone');
  assert.equal(await eve.getByTestId('message-list').getByText('a secret for Bob').count(), 0, 'private message leaked');
  assert.equal(await eve.evaluate(() => (globalThis as Record<string, unknown>).__xss), undefined, 'user markup ran');

  const screenshot = path.join(mkdtempSync(path.join(tmpdir(), 'gwc-chat-')), 'chat.png');
  await ann.screenshot({ path: screenshot });
  t.diagnostic(`screenshot: ${screenshot}`);

  await eve.context().close();
  await waitForUsers(ann, ['Ann', 'Bob']);
  await messageShown(ann, `${EVE} left`);
});

async function openChat(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const page = await context.newPage();
  await page.goto(PAGE_URL);
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('room-input').fill(room);
  await page.getByTestId('login-button').click();
  await withLog(`${name} joining`, page.getByTestId('message-input').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS }));
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('send-button').click();
}

async function messageShown(page: Page, text: string): Promise<void> {
  const message = page.getByTestId('message-list').locator('li').filter({ hasText: text }).first();
  await withLog(`message ${JSON.stringify(text)}`, message.waitFor({ timeout: UI_TIMEOUT_MS }));
}

/** Waits until the user list holds exactly these names, in any order. */
async function waitForUsers(page: Page, names: string[]): Promise<void> {
  const expected = [...names].sort();
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let shown: string[] = [];
  while (Date.now() < deadline) {
    shown = (await page.getByTestId('user-list').locator('li').allTextContents()).map((name) => name.replace(/ \(you\)$/, '')).sort();
    if (JSON.stringify(shown) === JSON.stringify(expected)) return;
    await delay(100);
  }
  assert.deepEqual(shown, expected, `user list never matched\n${logTail()}`);
}

async function withLog<T>(what: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}\n${logTail()}`);
  }
}

async function pageAnswers(): Promise<boolean> {
  try {
    const response = await fetch(PAGE_URL, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

function logTail(): string {
  return `--- last lines of the local cluster's output ---\n${cluster?.lastLines(40).join('\n') ?? ''}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
