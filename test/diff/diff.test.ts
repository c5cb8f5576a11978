/**
 * `vgatt diff` on pairs of captures that differ in one known way each, built with the session
 * writer, plus a pair that differs only in values and times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { att, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop } from '../helpers/capture-writer.js';
import { deviceTransfer, discovery, Session } from '../helpers/session.js';
import { sequenceDiff } from '../../src/diff/index.js';
import { REPO, SHARED_CAPTURES } from '../helpers/tshark.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-diff-'));

interface Variant {
  base?: number;
  extraGet?: boolean;
  /** Gets sent before the others (a newer app reads 0xEC66 and 0xEC65 first). */
  firstGets?: string[];
  keepAlive?: string;
  newType?: boolean;
  pollMs?: number;
  voltage?: number;
  timeShiftUs?: number;
  jitter?: boolean;
}

function capture(name: string, v: Variant = {}): string {
  const s = new Session(1_780_000_000_000_000 + (v.timeShiftUs ?? 0));
  const C = 0x40;
  const base = v.base ?? 31;
  const h = { control: base + 2, lastData: base + 5, data: base + 8 };
  s.ev(leConnectionComplete(C, 'fd:d4:50:0f:6c:1b'));
  discovery(s, C, 'SmartShunt HQ2023', base);
  const w = (role: 'control' | 'lastData' | 'data', x: string) => s.send(C, att.writeCmd(h[role], hex(x)));
  w('control', 'fa80ff');
  w('control', 'f980');
  w('lastData', '01');
  for (const g of v.firstGets ?? []) w('lastData', g);
  w('lastData', '0303');
  w('lastData', v.keepAlive ?? '0600821893421027');
  w('lastData', '05038219ed8d19ed8f');
  if (v.extraGet) w('lastData', '050381190fff');
  if (v.newType) w('lastData', '0a03');
  deviceTransfer(s, C, h, [{ hex: '07000300' }], 20);
  for (let i = 0; i < 6; i++) {
    const volts = Math.round((v.voltage ?? 13.27) * 100) + i;
    const le = Buffer.alloc(2);
    le.writeInt16LE(volts);
    s.t += (v.pollMs ?? 1000) * 1000 + (v.jitter && i % 2 ? 50_000 : 0);
    deviceTransfer(s, C, h, [{ hex: `080319ed8d42${le.toString('hex')}` }, { hex: '080319ed8f42f8ff' }], 20);
  }
  s.ev(disconnectionComplete(C));
  const file = path.join(tmp, `${name}.btsnoop`);
  writeFileSync(file, writeBtsnoop(s.packets));
  return file;
}

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function diffJson(a: string, b: string, ...opts: string[]) {
  const r = vgatt('diff', a, b, '--format', 'json', ...opts);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const j = JSON.parse(r.out);
  const sections = Object.fromEntries(j.devices.flatMap((d: { sections: { title: string; lines: string[] }[] }) => d.sections.map((s) => [s.title, s.lines])));
  return { code: r.code, equivalent: j.equivalent, sections };
}

const base = capture('base');

test('sequenceDiff aligns two request sequences', () => {
  assert.deepEqual(sequenceDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd']), ['  a', '+ x', '- b', '  c', '+ d']);
});

test('a capture equals itself: exit 0', () => {
  const r = vgatt('diff', base, base);
  assert.equal(r.code, 0);
  assert.match(r.out, /protocol-equivalent/);
});

test('one extra register requested', () => {
  const d = diffJson(base, capture('extra', { extraGet: true }));
  assert.equal(d.code, 1);
  assert.deepEqual(d.sections['registers requested'], ['+ 0x0FFF State of charge']);
  assert.ok(d.sections['init sequence (requests after connecting, up to the first value burst)'].includes('+ get values inst 3 0x0FFF State of charge'));
});

test('registers are named next to their numbers: a newer app reads 0xEC66 and 0xEC65 first', () => {
  const d = diffJson(base, capture('newer-app', { firstGets: ['05008119ec66', '05008119ec65'] }));
  assert.deepEqual(d.sections['registers requested'], ['+ 0xEC65 BLE advertisement key', '+ 0xEC66 BLE MAC address']);
  const init: string[] = d.sections['init sequence (requests after connecting, up to the first value burst)'];
  assert.deepEqual(init.slice(0, 3), ['  get devices inst -', '+ get values inst 0 0xEC66 BLE MAC address', '+ get values inst 0 0xEC65 BLE advertisement key']);
  // Handles stay bare numbers.
  const r = vgatt('diff', base, capture('handles2', { base: 0x50 }));
  assert.match(r.out, /- 0x0027 306b0004-/);
});

test('a changed init write', () => {
  const d = diffJson(base, capture('keepalive', { keepAlive: '0600821893421388' }));
  assert.equal(d.code, 1);
  assert.deepEqual(d.sections['init sequence (requests after connecting, up to the first value burst)'].filter((l: string) => l[0] !== ' '), ['+ set values inst 0 0x0093 Connection keep alive = 1388', '- set values inst 0 0x0093 Connection keep alive = 1027']);
  assert.equal(d.sections['registers requested'], undefined);
});

test('a new message type', () => {
  const d = diffJson(base, capture('newtype', { newType: true }));
  assert.deepEqual(d.sections['message types'], ['+ 0x0a']);
});

test('a different poll rate', () => {
  // values every 1000 / 2000 ms, plus the 1.1 ms the session writer puts between two packets
  const d = diffJson(base, capture('slow', { pollMs: 2000 }));
  assert.deepEqual(d.sections['polling intervals (median between values)'], ['- 0xED8D Battery voltage every 1001 ms', '+ 0xED8D Battery voltage every 2001 ms', '- 0xED8F Battery current every 1001 ms', '+ 0xED8F Battery current every 2001 ms']);
  assert.equal(diffJson(base, capture('slow2', { pollMs: 2000 }), '--ignore-timing').equivalent, true);
});

test('different handles for the same UUIDs', () => {
  const d = diffJson(base, capture('handles', { base: 0x50 }));
  const lines: string[] = d.sections['GATT layout (handles and UUIDs)'];
  assert.ok(lines.includes('- 0x0027 306b0004-b081-4037-83dc-e59fcc3cdfd0 [read,write,notify]'));
  assert.ok(lines.includes('+ 0x0058 306b0004-b081-4037-83dc-e59fcc3cdfd0 [read,write,notify]'));
  // Everything above the GATT layer is the same: the decoder found the roles by UUID.
  assert.deepEqual(Object.keys(d.sections), ['GATT layout (handles and UUIDs)']);
});

test('only values and times differ: equal with --ignore-values', () => {
  const other = capture('values', { voltage: 12.5, timeShiftUs: 86_400_000_000, jitter: true });
  const d = diffJson(base, other);
  assert.equal(d.code, 1);
  assert.deepEqual(d.sections['value ranges'], ['- 0xED8D Battery voltage 13.27 .. 13.32', '+ 0xED8D Battery voltage 12.5 .. 12.55']);
  const ignoring = diffJson(base, other, '--ignore-values');
  assert.equal(ignoring.code, 0);
  assert.equal(ignoring.equivalent, true);
});

test('an unreadable capture: exit 2, one line', () => {
  const r = vgatt('diff', base, path.join(tmp, 'missing.btsnoop'));
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1);
});

test('init sequences per session: the two halves of the real SmartShunt capture (editcap -r) have the same one', () => {
  const src = path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop');
  const a = path.join(tmp, 'half1.btsnoop');
  const b = path.join(tmp, 'half2.btsnoop');
  execFileSync('editcap', ['-r', src, a, '1-1217'], { stdio: 'ignore' });
  execFileSync('editcap', ['-r', src, b, '1218-2434'], { stdio: 'ignore' });
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'diff', a, b, '--format', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr); // other things differ (the halves hold other values and a session without its connection event)
  const d = JSON.parse(r.stdout);
  const [sa, sb] = [d.summaries.a[0], d.summaries.b.find((s: { device?: string }) => s.device === 'fd:d4:50:0f:6c:1b')];
  // Session 1 of the first half never got a value burst (the app never enabled notifications): session 2 is the init.
  assert.equal(sa.initSession, 2);
  assert.equal(sa.initSequence.length, 35);
  assert.deepEqual(sa.initSequence.slice(0, 4), ['get devices inst -', 'subscribe inst 0', 'set values inst 0 0x0093 = 1027', 'subscribe inst 1']);
  assert.deepEqual(sb.initSequence, sa.initSequence);
  const dev = d.devices.find((x: { a?: string }) => x.a === 'fd:d4:50:0f:6c:1b (smartshunt)');
  assert.ok(!dev.sections.some((s: { title: string }) => s.title.startsWith('init sequence')), JSON.stringify(dev.sections));
  // tshark's frames of session 1 (20-85) and of session 7, which connected and disconnected at once (second half: 1857-1862 -> 640-645).
  assert.ok(dev.notes.includes('first capture: session 1 (frames 20-85) was cut short by a disconnect before its first value burst (35 request(s))'), dev.notes.join('\n'));
  assert.ok(dev.notes.includes('second capture: session 3 (frames 640-645) was cut short by a disconnect before its first value burst (0 request(s))'), dev.notes.join('\n'));
  const text = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'diff', a, b], { encoding: 'utf8' }).stdout;
  assert.match(text, /note: first capture: session 1 \(frames 20-85\) was cut short by a disconnect before its first value burst/);
});
