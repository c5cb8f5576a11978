/**
 * `vgatt report`: the Instant Readout section, on a capture built around victron-ble's vectors
 * (test/helpers/readout-capture.ts) plus the three VE.Bus adverts of victron-ble tests/test_vebus.py
 * @ 72fdf37e (float, inverting, off) spread over time, so that values change and a silence breaks the line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';
import { adStructures, hex, leAdvertisingReport, writeBtsnoop } from '../helpers/capture-writer.js';
import { MPPT, VEBUS, readoutCapture } from '../helpers/readout-capture.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-report-readout-'));
const { packets, keyFrame } = readoutCapture();
let t = packets.at(-1)!.timeUs;
const vebus = (md: string, dt: number) => packets.push({ type: 4, dir: 'received', data: leAdvertisingReport([{ address: VEBUS.addr, data: adStructures([0xff, Uint8Array.from([0xe1, 0x02, ...hex(md)])]), rssi: -75 }]), timeUs: (t += dt) });
vebus('100380270ce1b2dabd34912a6ecec963899227a220', 1_000_000); // inverting
vebus('100380270c65b8dad9dd594c7f57d1de9e27a3e2ab', 2_000_000); // off
vebus('100380270c1252dad26f0b8eb39162074d140df410', 90_000_000); // float, after a 90 s silence
const FILE = path.join(tmp, 'report.btsnoop');
writeFileSync(FILE, writeBtsnoop(packets));
const N = packets.length;

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('report text: an Instant Readout section per device, keys from the options and the capture', () => {
  const r = vgatt('report', FILE, '--key', `${MPPT.addr}=${MPPT.key}`, '--key', `${VEBUS.addr}=${VEBUS.key}`);
  assert.equal(r.code, 0, r.err);
  const sec = r.out.slice(r.out.indexOf('Instant Readout (advertisements)'));
  assert.ok(sec.length > 100, r.out);
  assert.match(sec, /fd:d4:50:0f:6c:1b "SmartShunt HQ2023"  0xA389 SmartShunt 500A\/50mV  Battery monitor  frames 2-\d+\n    4 advert\(s\): 4 decoded \(key from frame (\d+)\)/);
  assert.equal(Number(/key from frame (\d+)/.exec(sec)![1]), keyFrame);
  assert.match(sec, /Battery voltage +V +4 +12\.53 V +12\.53 V +12\.53 +12\.53\n/);
  assert.match(sec, /Consumed Ah +Ah +4 +-50\.0 Ah +-50\.0 Ah +-50 +-50\n/);
  assert.match(sec, new RegExp(`d0:00:00:00:00:0c  0x2780  VE\\.Bus  frames 6-${N}\\n    4 advert\\(s\\): 4 decoded \\(key from --key\\)`));
  assert.match(sec, /Battery voltage +V +4 +14\.45 V +14\.45 V +12\.43 +14\.45\n/);
  assert.match(sec, new RegExp(`Device state: 10:00:00 Float \\(frame 6\\) -> 10:00:01 Inverting \\(frame ${N - 2}\\) -> 10:00:03 Off \\(frame ${N - 1}\\) -> 10:01:33 Float \\(frame ${N}\\)`));
  assert.match(sec, /d0:00:00:00:00:04  0xA3C0 Orion Smart 12V\/12V-18A DC-DC Converter  DC\/DC converter  frames 8-8\n    1 advert\(s\): 1 no key \(key starts 0x64…\)/);
});

test('report html: readout tables and charts (steps for enums, the silence breaks the line)', () => {
  const out = path.join(tmp, 'r.html');
  const r = vgatt('report', FILE, '--key', `${VEBUS.addr}=${VEBUS.key}`, '-o', out);
  assert.equal(r.code, 0, r.err);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<section class="instant-readout"><h2>Instant Readout \(advertisements\)<\/h2>/);
  assert.match(html, /<tr data-field="batteryVoltage"><td>Battery voltage<\/td><td>V<\/td><td>4<\/td><td>14\.45 V<\/td><td>14\.45 V<\/td><td>12\.43<\/td><td>14\.45<\/td><\/tr>/);
  const charts = JSON.parse(/window\.vgattCharts = (.*);\n/.exec(html)![1]!) as { id: string; title: string; unit: string; points: [number, number | null][]; status: boolean; labels: Record<string, string> }[];
  const t0 = Date.UTC(2026, 0, 2, 10, 0, 0) / 1000;
  const v = charts.find((c) => c.title === 'Battery voltage' && c.points.some((p) => p[1] === 12.43))!;
  assert.ok(v, JSON.stringify(charts.map((c) => c.id)));
  assert.deepEqual(v.points.map((p) => p[1]), [14.45, 12.43, 12.48, null, 14.45]);
  assert.equal(v.unit, 'V');
  const st = charts.find((c) => c.id === v.id.replace('batteryVoltage', 'deviceState'))!;
  assert.equal(st.status, true);
  assert.deepEqual(st.labels, { '0': 'Off', '5': 'Float', '9': 'Inverting' });
  assert.deepEqual(st.points.map((p) => p[1]), [5, 9, 0, null, 5]);
  assert.ok(Math.abs(st.points[0]![0] - t0) < 1);
  // The SmartShunt, with its key from the capture, is charted too; no chart for devices without a key.
  assert.ok(charts.some((c) => c.title === 'State of charge' && c.points[0]![1] === 50));
  assert.ok(!html.includes('readout-4-'), 'the DC/DC converter has no key: no chart');
});
