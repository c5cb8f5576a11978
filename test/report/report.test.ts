/**
 * `vgatt report`: the text report's tables, bounded memory, and the HTML page rendered in a real
 * browser (Debian's chromium driven by playwright-core): tables and one uPlot chart per numeric register.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ReportBuilder } from '../../src/report/index.js';
import type { VictronRecord } from '../../src/victron/index.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';

const OUT = path.join(REPO, 'test/out');
mkdirSync(OUT, { recursive: true });

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function chromiumPath(): string {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(p)) return p;
  throw new Error('chromium is not installed (apt-get install chromium); .ci/run installs it');
}

test('text report: devices, register table, unknowns with frames', () => {
  const r = vgatt('report', path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Connection 0x0040 fd:d4:50:0f:6c:1b {2}profile smartshunt/);
  assert.match(r.out, /0xED8D {4}Battery voltage +V +1 +13\.27 +13\.27 +13\.27 +13\.27/);
  assert.match(r.out, /0x0120 {4}Uptime +s +3 +1810 +1812 +1810 +1812/);
  assert.match(r.out, /frame 92: unknown bytes: transfer cut short by the disconnection .*\[080319ed8d42\]/);
});

test('memory is bounded by registers, not messages', () => {
  const b = new ReportBuilder('x', 'y');
  const base: VictronRecord = { kind: 'message', frame: 1, frames: [1], timeUs: 0, connection: 1, direction: 'device-to-host', type: 8, instance: 3, register: 0xed8d, registerName: 'Battery voltage', raw: Uint8Array.of(0x2f, 0x05), value: 0, bytes: new Uint8Array(0), ranges: [], handle: 0x27 };
  for (let i = 0; i < 200_000; i++) b.add({ ...base, frame: i + 1, timeUs: i * 1000, value: i % 1000 });
  const rep = b.build();
  const s = rep.connections[0]!.registers[0]!;
  assert.equal(s.count, 200_000);
  assert.deepEqual([s.min, s.max, s.last], [0, 999, 999]);
  assert.ok(s.points.length <= 4000 && s.points.length >= 2000, `${s.points.length} points`);
});

test('HTML report renders in chromium: tables and one chart per numeric register', async () => {
  const html = path.join(OUT, 'report-smartshunt.html');
  const r = vgatt('report', path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop'), '-o', html);
  assert.equal(r.code, 0, r.err);
  // A fresh profile directory each run; no sandbox as root; nothing reaches for the network.
  const browser = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'vgatt-chromium-')), {
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1300, height: 900 },
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('file://' + html);
    const rows = await page.locator('table.registers tr[data-register]').count();
    assert.ok(rows >= 10, `register rows: ${rows}`);
    assert.equal(await page.locator('table.registers tr[data-register="0xED8D"] td').nth(1).innerText(), 'Battery voltage');
    const plots = (await page.evaluate('window.vgattPlots')) as { id: string; series: number; points: number }[];
    const figures = await page.locator('figure.chart').count();
    assert.equal(plots.length, figures);
    assert.ok(plots.length >= 5, `charts: ${plots.length}`);
    for (const p of plots) {
      assert.equal(p.series, 1, `${p.id}: one series`);
      const expected = Number(await page.locator(`#${p.id}`).getAttribute('data-points'));
      assert.equal(p.points, expected, `${p.id}: points`);
      assert.equal(await page.locator(`#${p.id} canvas`).count(), 1, `${p.id}: drawn on a canvas`);
    }
    assert.ok((await page.locator('table.issues tr.unknown').count()) >= 1, 'unknown bytes are listed');
    assert.deepEqual(errors, []);
    await page.screenshot({ path: path.join(OUT, 'report-smartshunt.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
