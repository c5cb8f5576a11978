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
import { writeFileSync } from 'node:fs';
import { ReportBuilder, reportToText } from '../../src/report/index.js';
import { chartSpec, reportToHtml } from '../../src/report/html.js';
import type { VictronRecord } from '../../src/victron/index.js';
import type { RegisterDef } from '../../src/profiles/index.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';
import { tsharkSessions } from '../helpers/sessions.js';

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
  assert.match(r.out, /Device fd:d4:50:0f:6c:1b {2}profile smartshunt {2}1 session\n/);
  assert.match(r.out, /0xED8D {4}Battery voltage +V +1 +13\.27 +13\.27 +13\.27 +13\.27/);
  assert.match(r.out, /0x0120 {4}Uptime +s +3 +1810 +1812 +1810 +1812/);
  assert.match(r.out, /frame 92: unknown bytes: transfer cut short by the disconnection .*\[080319ed8d42\]/);
});

test('text report: the SmartShunt sessions under their device, as tshark sees the connections', () => {
  const file = path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop');
  const r = vgatt('report', file);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Device fd:d4:50:0f:6c:1b {2}profile smartshunt {2}8 sessions$/m);
  assert.match(r.out, /^ {2}profile smartshunt: GAP device name "SmartShunt HQ20234NXYN" \(read in frame 34, handle 0x0003 before discovery\) \(session 1\)$/m);
  const rows = r.out.split('\n').filter((l) => /^ {4}\d+ +0x/.test(l)).map((l) => l.trim().split(/ {2,}/));
  const expected = tsharkSessions(file);
  assert.deepEqual(rows.map((x) => [Number(x[0]), parseInt(x[1]!, 16), x[3]]), expected.map((s, i) => [i + 1, s.connection, `${s.start}-${s.end}`]));
  // Totals are the sum of the sessions; session 7 connected and dropped with no Victron traffic.
  const total = /total: (\d+) messages, (\d+) control, (\d+) unknown/.exec(r.out)!.slice(1).map(Number);
  assert.deepEqual(total, [0, 1, 2].map((k) => rows.reduce((a, x) => a + Number(x[6 + k]), 0)));
  assert.deepEqual(rows[6]!.slice(6, 10), ['0', '0', '0', '0']);
  assert.ok(rows.every((x) => x.at(-1) === 'disconnect'));
});

test('memory is bounded by registers, not messages', () => {
  const b = new ReportBuilder('x', 'y');
  const base: VictronRecord = { kind: 'message', frame: 1, frames: [1], timeUs: 0, connection: 1, direction: 'device-to-host', type: 8, instance: 3, register: 0xed8d, registerName: 'Battery voltage', raw: Uint8Array.of(0x2f, 0x05), value: 0, bytes: new Uint8Array(0), ranges: [], handle: 0x27 };
  for (let i = 0; i < 200_000; i++) b.add({ ...base, frame: i + 1, timeUs: i * 1000, value: i % 1000 });
  const rep = b.build();
  const s = rep.connections[0]!.registers[0]!;
  assert.equal(s.count, 200_000);
  assert.deepEqual([s.min, s.max, s.last], [0, 999, 999]);
  // At most 4,000 buckets of their lowest and highest reading (ChartSeries): the extremes stay on the chart.
  assert.ok(s.points.length <= 8000 && s.points.length >= 2000, `${s.points.length} points`);
  const drawn = s.points.map((p) => p[1] as number);
  assert.deepEqual([Math.min(...drawn), Math.max(...drawn)], [0, 999]);
});

const rec = (over: Partial<VictronRecord>): VictronRecord => ({ kind: 'message', frame: 1, frames: [1], timeUs: 0, connection: 1, direction: 'device-to-host', type: 8, instance: 3, register: 0xed8d, registerName: 'Battery voltage', unit: 'V', raw: Uint8Array.of(0x2f, 0x05), value: 13.27, bytes: new Uint8Array(0), ranges: [], handle: 0x27, ...over });

/** A report with: a polled register with a 60 s silence and a new session, a status register, a single reading. */
function chartsReport() {
  const b = new ReportBuilder('synthetic', 'test');
  const t0 = 1_780_000_000_000_000;
  let frame = 1;
  // Battery voltage every 1 s: 10 values, 60 s of silence, 5 values, then a new session 0.5 s later.
  for (let i = 0; i < 10; i++) b.add(rec({ frame: frame++, timeUs: t0 + i * 1e6, value: 13 + i / 100 }));
  for (let i = 0; i < 5; i++) b.add(rec({ frame: frame++, timeUs: t0 + 70e6 + i * 1e6, value: 13.2 }));
  b.add(rec({ frame: frame++, timeUs: t0 + 74.5e6, value: 13.3, session: 2 }));
  // Device state: Bulk, Bulk, Absorption, Float, Float every 2 s.
  const states: [number, string][] = [[3, 'Bulk'], [3, 'Bulk'], [4, 'Absorption'], [5, 'Float'], [5, 'Float']];
  // Its definition gives the labels (the text a formatter makes from it).
  const def: RegisterDef = { id: 0x0201, name: 'Device state', fields: [{ name: 'Device state', type: 'un8', enum: Object.fromEntries(states.map(([v, text]) => [String(v), text])) }], source: 'test' };
  states.forEach(([v], i) => b.add(rec({ frame: frame++, timeUs: t0 + i * 2e6, register: 0x0201, registerName: 'Device state', unit: undefined, raw: Uint8Array.of(v), value: v, def })));
  // One reading of the load voltage.
  b.add(rec({ frame: frame++, timeUs: t0 + 5e6, register: 0xeda9, registerName: 'Load output voltage', raw: Uint8Array.of(0x5b, 0), value: 0.91 }));
  return b.build();
}

test('charts: lines break at silences and sessions, status registers step with their changes, one reading has a sensible axis', () => {
  const rep = chartsReport();
  const regs = Object.fromEntries(rep.connections[0]!.registers.map((s) => [s.register, s]));
  const volts = regs[0xed8d]!;
  // 60 s after 1 s polling: 3 x 1 s < 61 s -> a break; the new session -> a break.
  assert.equal(volts.breaks, 2);
  assert.deepEqual(volts.points.filter((p) => p[1] === null).map((p) => p[0]), [1_780_000_000_000 + 39_500, 1_780_000_000_000 + 74_250]);
  assert.equal(volts.status, false);
  const state = regs[0x0201]!;
  assert.equal(state.status, true);
  assert.deepEqual(state.changes.map((c) => [c.value, c.text]), [[3, 'Bulk'], [4, 'Absorption'], [5, 'Float']]);
  assert.deepEqual(state.labels, { '3': 'Bulk', '4': 'Absorption', '5': 'Float' });
  assert.match(reportToText(rep), /0x0201 Device state: \d\d:\d\d:\d\d Bulk \(frame 17\) -> \d\d:\d\d:\d\d Absorption \(frame 19\) -> \d\d:\d\d:\d\d Float \(frame 20\)/);
  const one = chartSpec('x', regs[0xeda9]!);
  assert.deepEqual(one.xRange, [1_780_000_005 - 60, 1_780_000_005 + 60]);
  assert.deepEqual(one.yRange, [0.91 - 1, 0.91 + 1]);
  assert.equal(chartSpec('y', volts).xRange, undefined);
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
    assert.equal(await page.locator('table.sessions tr[data-session]').count(), 8, 'one row per session');
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

    // The synthetic charts: a single reading spans 2 minutes (not years), the status register is stepped and
    // lists its changes, the polled register's line has two breaks.
    const synthetic = path.join(OUT, 'report-charts.html');
    writeFileSync(synthetic, reportToHtml(chartsReport()));
    await page.goto('file://' + synthetic);
    const ps = (await page.evaluate('window.vgattPlots')) as { id: string; status: boolean; xSpan: number; gaps: number }[];
    const byId = Object.fromEntries(ps.map((p) => [p.id, p]));
    assert.equal(byId['chart-0-eda9']!.xSpan, 120);
    assert.equal(byId['chart-0-201']!.status, true);
    assert.equal(byId['chart-0-ed8d']!.gaps, 2);
    assert.equal(await page.locator('#chart-0-201 table.changes tr').count(), 4);
    assert.equal(await page.locator('figure.chart canvas').count(), 3);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: path.join(OUT, 'report-charts.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
