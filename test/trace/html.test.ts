// The HTML trace view in a real browser: headless Chromium (Debian package, installed by
// .ci/run) driven by playwright-core — open the page, step through, screenshot, check what it
// shows: machine state as tables with the step's changes marked, stale TLB entries, the sticky
// lane header, the current row kept in view, keyboard stepping, a five-lane trace in 1280 px.
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, main } from '../../src/cli/main.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
// In CI the browser is installed by .ci/run: a missing browser there is a failure, not a skip.
const browserTest = available || process.env.CI ? it : it.skip;
const io: Io = { out: () => {}, err: () => {}, isTTY: false };
const root = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'mmcheck-html-'));

/** A five-lane trace (three CPUs, two IPI actors) of a fixture model, made fresh for the test. */
const fiveLanes = path.join(__dirname, 'fixtures/five-lanes.ts');
const fiveLaneTrace = path.join(dir, 'five-lanes-wrprotect.json');

let browser: Browser | undefined;
beforeAll(async () => {
  await main(['explore', fiveLanes, '--out', dir], io);
  if (!available && !process.env.CI) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => browser?.close());

async function open(trace: string, width: number, model?: string): Promise<Page> {
  const html = path.join(dir, `${path.basename(trace, '.json')}.html`);
  expect(await main(['replay', trace, ...(model ? ['--model', model] : []), '--html', html], io)).toBe(0);
  const page = await browser!.newPage({ viewport: { width, height: 800 } });
  await page.goto(`file://${html}`);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  expect(statSync(file).size).toBeGreaterThan(10_000);
}

describe('replay --html', () => {
  browserTest('shows the swim lane, steps through the state as a table and marks what changed', async () => {
    const example = path.join(root, 'examples/lost-update.ts');
    await main(['explore', example, '--variant', 'plain', '--out', dir], io);
    const page = await open(path.join(dir, 'lost-update-plain.json'), 1280, example);
    expect(await page.locator('#verdict').textContent()).toContain('invariant no-lost-update');
    expect(await page.locator('table.lane th').allTextContents()).toEqual(['#', 'cpu0', 'cpu1']);
    expect(await page.locator('tr.violation td.op').textContent()).toContain('store stats.tx := 1');
    const tx = page.locator('#state table.kv tr', { hasText: 'stats.tx' }).locator('td');
    expect(await tx.textContent()).toBe('0');
    expect(await page.locator('#state').textContent()).not.toContain('{');
    await page.locator('#slider').fill('3');
    expect(await page.locator('#stepno').textContent()).toBe('3');
    expect(await tx.textContent()).toBe('1');
    expect(await tx.getAttribute('class')).toBe('changed');
    expect(await page.locator('#changes li').allTextContents()).toEqual(['stats.tx: 0 → 1']);
    expect(await page.locator('tr.current td.n').textContent()).toBe('3');
    await page.locator('#row1').click();
    expect(await page.locator('#stepno').textContent()).toBe('1');
    expect(await page.locator('#state .changed').count()).toBe(0); // a load changes nothing
    await shot(page, 'lost-update.png');
    await page.close();
  });

  browserTest('fits a five-lane trace into 1280 px with TLBs as tables and a stale entry marked', async () => {
    const page = await open(fiveLaneTrace, 1280, fiveLanes);
    expect(await page.locator('table.lane thead th').allTextContents()).toEqual(['#', 'cpu0', 'cpu1', 'cpu2', 'ipi→cpu1', 'ipi→cpu2']);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.keyboard.press('End');
    expect(Number(await page.locator('#stepno').textContent())).toBe(await page.locator('table.lane tbody tr').count());
    // The write-protect step: that page-table cell, and only page-table state, is marked ...
    const wrprotect = await page.locator('tr[data-step]', { hasText: 'ptep_set_wrprotect' }).getAttribute('data-step');
    await page.locator('#slider').fill(wrprotect!);
    expect(await page.locator('#state .changed').allTextContents()).toEqual(['P RO A NX']);
    expect(await page.locator('#state table.words tr', { hasText: 'O (pte)' }).locator('td.changed').count()).toBe(1);
    // ... and cpu0 still caches 0x0 → P RW from O[0], which now says RO: a stale entry.
    const cpu0 = page.locator('#state section.cpu', { hasText: 'cpu0' });
    expect(await cpu0.locator('table.tlb thead th').allTextContents()).toEqual(['va', 'pfn', 'rights', 'D', 'size', 'cache', 'source entry', '']);
    expect(await cpu0.locator('table.tlb tbody tr.stale td').allTextContents()).toEqual(['0x0', 'P', 'RW', '', '4K', 'WB', 'O[0]', 'STALE']);
    await shot(page, 'five-lanes-stale.png');
    // The IPI pending on cpu1 after the flush is sent is shown with the CPU.
    await page.locator('#slider').fill(String(Number(wrprotect) + 1));
    expect(await page.locator('#state section.cpu', { hasText: 'cpu1' }).locator('.facts').textContent()).toContain('IPI pending: flush_tlb_all from cpu0');
    await page.close();
  });

  browserTest('steps with the keys, keeps the current row in view and the lane header on top', async () => {
    const page = await open(fiveLaneTrace, 1280, fiveLanes);
    await page.setViewportSize({ width: 1280, height: 500 }); // short enough that the lane scrolls
    const step = async () => Number(await page.locator('#stepno').textContent());
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('j');
    expect(await step()).toBe(2);
    await page.keyboard.press('k');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft'); // not below 0
    expect(await step()).toBe(0);
    await page.locator('#slider').focus();
    await page.keyboard.press('ArrowRight'); // on the slider too: one step, not two
    expect(await step()).toBe(1);
    await page.keyboard.press('End');
    const wrap = await page.locator('#lanewrap').boundingBox();
    const row = await page.locator('tr.current').boundingBox();
    const header = await page.locator('table.lane thead th').first().boundingBox();
    expect(row!.y).toBeGreaterThanOrEqual(header!.y + header!.height - 2); // not under the header (borders overlap)
    expect(row!.y + row!.height).toBeLessThanOrEqual(wrap!.y + wrap!.height + 1);
    expect(await page.locator('#lanewrap').evaluate((e) => e.scrollTop)).toBeGreaterThan(0);
    expect(Math.abs(header!.y - wrap!.y)).toBeLessThanOrEqual(2); // sticky: still at the top
    expect(await page.evaluate(() => window.scrollY)).toBe(0); // the pane scrolls, not the page
    await page.keyboard.press('Home');
    expect(await step()).toBe(0);
    await page.keyboard.press('j'); // back at the top: row 1 below the sticky header, not under it
    const first = await page.locator('tr.current').boundingBox();
    const head = await page.locator('table.lane thead th').first().boundingBox();
    expect(first!.y).toBeGreaterThanOrEqual(head!.y + head!.height - 2);
    await shot(page, 'five-lanes-keys.png');
    await page.close();
  });
});
