import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/tshark.js';

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const sample = path.join(REPO, 'captures/smartshunt-orion-session.btsnoop');

test('decode --format ndjson: the public fields', () => {
  const r = vgatt('decode', sample, '--format', 'ndjson');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  const v = rows.find((x) => x.type === 8 && x.register === 0xed8d);
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  assert.deepEqual(pick(v, ['kind', 'connection', 'device', 'direction', 'type', 'typeName', 'instance', 'register', 'registerName', 'raw', 'value', 'unit', 'profile']), {
    kind: 'message', connection: 64, device: 'fd:d4:50:0f:6c:1b', direction: 'device-to-host', type: 8, typeName: 'value', instance: 3, register: 0xed8d, registerName: 'Battery voltage', raw: '2f05', value: 13.27, unit: 'V', profile: 'smartshunt',
  });
  assert.match(v.time, /^2026-06-03T18:00:00\.\d{6}Z$/);
  assert.ok(Array.isArray(v.frames) && v.frames.includes(v.frame));
  // A get naming several registers gives one record per register, sharing frame and instance.
  const gets = rows.filter((x) => x.type === 5 && x.frame === rows.find((y: { type: number }) => y.type === 5).frame);
  assert.ok(gets.length >= 2 && new Set(gets.map((g: { instance: number }) => g.instance)).size === 1);
  assert.ok(rows.some((x) => x.kind === 'control' && x.typeName === 'chunk size negotiation'));
  assert.ok(rows.some((x) => x.kind === 'unknown' && x.reason.includes('disconnection') && x.bytes === '080319ed8d42'));
  const reply = rows.find((x) => x.type === 7);
  assert.equal(typeof reply.request, 'number');
  assert.equal(reply.response, 0);
});

test('decode text is a readable timeline; csv has a header', () => {
  const t = vgatt('decode', sample);
  assert.equal(t.code, 0);
  assert.match(t.out, /<--\s+value inst 3 0xed8d Battery voltage = 13\.27 V {2}raw 2f05/);
  assert.match(t.out, /Requests never answered/);
  const c = vgatt('decode', sample, '--format', 'csv');
  assert.match(c.out.split('\n')[0]!, /^kind,frame,frames,time,connection/);
});

test('--profile forces a profile; a bad profile is reported with file and pointer', () => {
  const r = vgatt('decode', sample, '--format', 'ndjson', '--profile', 'common');
  const v = r.out.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.register === 0xed8d && x.type === 8);
  assert.equal(v.registerName, 'DC Channel 1 Voltage');
  assert.equal(v.profile, 'common');
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-p-'));
  writeFileSync(path.join(dir, 'x.json'), '{"id":"x","displayName":"X","registers":[{"id":"12","name":"a","source":"s","fields":[]}]}');
  const bad = vgatt('decode', sample, '--profiles', dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /x\.json: \/registers\/0\/id: must match pattern/);
  const unknown = vgatt('decode', sample, '--profile', 'toaster');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown profile 'toaster'/);
});
