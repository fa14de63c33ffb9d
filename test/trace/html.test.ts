// The HTML trace view in a real browser: headless Chromium (Debian package, installed by
// .ci/run) driven by playwright-core — open the page, step through, screenshot, check it.
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type Io, main } from '../../src/cli/main.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
// In CI the browser is installed by .ci/run: a missing browser there is a failure, not a skip.
const browserTest = available || process.env.CI ? it : it.skip;

describe('replay --html', () => {
  browserTest('shows the swim lane, steps through machine states and highlights the violation', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmcheck-html-'));
    const io: Io = { out: () => {}, err: () => {}, isTTY: false };
    await main(['explore', path.resolve(__dirname, '../../examples/lost-update.ts'), '--variant', 'plain', '--out', dir], io);
    const html = path.join(dir, 'trace.html');
    expect(await main(['replay', path.join(dir, 'lost-update-plain.json'), '--model', path.resolve(__dirname, '../../examples/lost-update.ts'), '--html', html], io)).toBe(0);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`);
      expect(await page.locator('#verdict').textContent()).toContain('invariant no-lost-update');
      expect(await page.locator('table.lane th').allTextContents()).toEqual(['#', 'cpu0', 'cpu1']);
      expect(await page.locator('tr.violation td.op').textContent()).toContain('store stats.tx := 1');
      expect(await page.locator('#state').textContent()).toContain('"stats.tx": 0');
      await page.locator('#slider').fill('3');
      expect(await page.locator('#stepno').textContent()).toBe('3');
      expect(await page.locator('#state').textContent()).toContain('"stats.tx": 1');
      expect(await page.locator('tr.current td.n').textContent()).toBe('3');
      await page.locator('#row1').click();
      expect(await page.locator('#stepno').textContent()).toBe('1');
      const shot = path.join(dir, 'trace.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(1000);
    } finally {
      await browser.close();
    }
  });
});
