// The dashboard in real headless Chromium (Debian's, driven by playwright-core) against a real
// running daemon: a pending decision (from collections made by real Anki), "Sync both" through
// the page, live updates over SSE until done, axe-core finds no serious or critical violation,
// also at 400 px wide. Screenshots go to test-artifacts/face/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFaceDaemon, type FaceDaemon } from './support/face-daemon.js';

// Code inside page.evaluate runs in the browser; this project compiles without the DOM library.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any, MutationObserver: any;
type HTMLProgressElement = { value: number };

const ART = 'test-artifacts/face';
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let fd: FaceDaemon;
let browser: Browser;
let context: BrowserContext;
const problems: string[] = [];

async function signedInPage(width: number, focus?: string): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${width}px console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${width}px page error: ${e.message}`));
  const session = await fd.api<{ path: string }>('POST', '/api/v1/session', {});
  expect(session.status).toBe(200);
  await page.goto(`${fd.daemon.url}${session.body.path}${focus ? `&focus=${encodeURIComponent(focus)}` : ''}`);
  return page;
}

async function axeCheck(page: Page): Promise<Array<{ id: string; impact: string; nodes: number }>> {
  // Through the DevTools protocol, which the page's CSP does not govern; the page itself stays CSP-clean.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } }).axe.run();
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return result;
}

describe('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (listed in .ci/apt-packages.txt)`);
    mkdirSync(ART, { recursive: true });
    [fd, browser] = await Promise.all([startFaceDaemon({ stepMs: 600 }), chromium.launch({ executablePath: CHROMIUM, args: FLAGS })]);
    context = await browser.newContext();
    fd.phone.plug();
  });

  afterAll(async () => {
    await browser?.close();
    await fd?.stop();
  });

  it('shows the pending decision with both sides, the guard wording and the charts, CSP-clean and accessible (1024 px)', async () => {
    const page = await signedInPage(1024);
    const card = page.locator('article.decision');
    await card.waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#status-line').textContent()).toContain('Needs you');
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Pixel 7 (AnkiDroid 2.19) — Both changed');
    expect(text).toContain('Phone has 23 new reviews, desktop has 5');
    // The guard's numbers come from the real loss comparison over the real collections.
    expect(text).toMatch(/5 reviews made on this computer since \d{1,2} \w{3} will be lost/);
    expect(text).toMatch(/23 reviews made on the phone since \d{1,2} \w{3} and 2 notes added or edited on the phone will be lost/);
    await expect.poll(() => page.getByRole('button', { name: 'Sync both (recommended)' }).count()).toBe(1);
    expect(await page.locator('svg.chart').count()).toBe(2);
    expect(await page.locator('svg.chart rect.bar').count()).toBe(28);
    // The base's history (12 days, some of it today) plus the 5 new desktop reviews, today.
    expect(await page.locator('svg.chart').first().getAttribute('aria-label')).toContain(`Reviews per day on this computer, last 14 days: ${fd.phone.files.baseReviews + 5} in all`);
    await page.screenshot({ path: `${ART}/dashboard-decision-1024.png`, fullPage: true });
    const violations = await axeCheck(page);
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.close();
  });

  it('is usable at 400 px: no sideways scrolling, the decision buttons in view, no serious axe violation', async () => {
    const decisions = await fd.api<{ decisions: Array<{ id: string }> }>('GET', '/api/v1/decisions');
    const id = (decisions.body.decisions[0] as { id: string }).id;
    // A notification's click lands on the decision: login with focus → the card is focused.
    const page = await signedInPage(400, id);
    await page.locator('article.decision').waitFor({ timeout: 15_000 });
    expect(page.url()).toContain(`focus=${encodeURIComponent(id)}`);
    await page.locator('article.decision.focused').waitFor({ timeout: 5_000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`decision-${id}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(400);
    // Live updates may re-render the card between two reads: ask until the button is laid out.
    const syncBoth = page.getByRole('button', { name: 'Sync both (recommended)' });
    await expect
      .poll(async () => {
        const box = await syncBoth.boundingBox();
        return box !== null && box.x >= 0 && box.x + box.width <= 400;
      }, { timeout: 15_000 })
      .toBe(true);
    await page.screenshot({ path: `${ART}/dashboard-decision-400.png`, fullPage: true });
    const violations = await axeCheck(page);
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.close();
  });

  it('asks for confirmation before an overwrite, with the guard wording, and cancelling changes nothing', async () => {
    const page = await signedInPage(1024);
    await page.getByRole('button', { name: /Copy desktop → phone…/ }).click();
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toMatch(/23 reviews made on the phone since .* will be lost/);
    await page.screenshot({ path: `${ART}/dashboard-confirm.png` });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const jobs = await fd.api<{ jobs: unknown[] }>('GET', '/api/v1/jobs');
    expect(jobs.body.jobs).toEqual([]);
    // Without the page, straight at the API: refused with the guard's sentence.
    const d = await fd.api<{ decisions: Array<{ id: string }> }>('GET', '/api/v1/decisions');
    const refused = await fd.api<{ error: { code: string; message: string } }>('POST', `/api/v1/decisions/${encodeURIComponent((d.body.decisions[0] as { id: string }).id)}/actions/copy-desktop-to-phone`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ANKIBRIDGE_ERR_DECISION_CONFIRMATION_REQUIRED');
    expect(refused.body.error.message).toMatch(/23 reviews made on the phone since/);
    await page.close();
  });

  it('"Sync both" starts the job and the page follows it live over SSE until done', async () => {
    const page = await signedInPage(1024);
    await page.locator('article.decision').waitFor();
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    // Record what the page shows as it changes, without reloading it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const note = () => {
        const s = document.getElementById('status-line')?.textContent ?? '';
        const bar = document.querySelector('progress') as HTMLProgressElement | null;
        const line = `${s} | ${bar ? bar.value : '-'}`;
        if (seen[seen.length - 1] !== line) seen.push(line);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      setInterval(note, 50);
    });
    await page.getByRole('button', { name: 'Sync both (recommended)' }).click();
    await page.locator('progress').first().waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#status-line').textContent(), { timeout: 10_000 }).toMatch(/Working: Sync both/);
    await page.screenshot({ path: `${ART}/dashboard-working.png`, fullPage: true });
    await expect.poll(() => page.locator('#history li').first().textContent(), { timeout: 20_000 }).toMatch(/Sync both \(dashboard\)\s*done/);
    await expect.poll(() => page.locator('#decisions').textContent(), { timeout: 10_000 }).toContain('No phone needs a decision');
    await expect.poll(() => page.locator('#backups li[data-backup]').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator('#status-line').textContent()).toMatch(/Idle/);
    await page.screenshot({ path: `${ART}/dashboard-done.png`, fullPage: true });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(navigations).toBe(0);
    expect(seen.some((s) => /Working: Sync both \(\d+ %\)/.test(s))).toBe(true);
    // Intermediate progress was shown (not just the end state).
    expect(seen.some((s) => / \| 0\.[1-9]/.test(s))).toBe(true);
    const history = await fd.api<{ jobs: Array<{ kind: string; origin: string; state: string; result: { reviewsUnion: number } }> }>('GET', '/api/v1/history');
    const merge = history.body.jobs.find((j) => j.kind === 'usb.merge');
    expect(merge).toMatchObject({ origin: 'dashboard', state: 'succeeded' });
    // The base's reviews + 5 on the desktop + 23 on the phone: none lost (the real merge's union).
    expect(merge?.result.reviewsUnion).toBe(fd.phone.files.baseReviews + 28);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('restores a backup from the page, behind a confirmation, as a job it follows to the end', async () => {
    const page = await signedInPage(1024);
    const row = page.locator('#backups li[data-backup]', { hasText: 'desktop, pre-merge' });
    await row.waitFor();
    await row.getByRole('button', { name: /Restore the backup from/ }).click();
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toMatch(/The current one is backed up first/);
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect.poll(() => page.locator('#history li').first().textContent(), { timeout: 20_000 }).toMatch(/Restore backup \(dashboard\)\s*(done|failed)/);
    await page.screenshot({ path: `${ART}/dashboard-restored.png`, fullPage: true });
    const history = await fd.api<{ jobs: Array<{ kind: string; state: string; error: unknown; result: unknown }> }>('GET', '/api/v1/history');
    const restore = history.body.jobs.find((j) => j.kind === 'restore');
    expect(restore, JSON.stringify(restore)).toMatchObject({ state: 'succeeded' });
    await page.close();
  });
});
