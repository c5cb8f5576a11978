/**
 * Every real payload of ../shared/data/payloads.json frames and decodes, and the readings its notes
 * and protocol.md quote come out exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TransferReassembler, decodeControl, type StreamOutput } from '../../src/victron/index.js';
import { decodeRegisterValue } from '../../src/profiles/index.js';
import { hex } from '../helpers/capture-writer.js';
import { REPO } from '../helpers/tshark.js';
import { profiles } from '../helpers/decode.js';

const data = JSON.parse(readFileSync(path.resolve(REPO, '../shared/data/payloads.json'), 'utf8')) as {
  groups: { device: string; writes?: { handle: number; hex: string; commentedOut: boolean; line: number }[]; notifications?: { handle: number | null; hex: string; line: number }[]; payloads?: { name: string; hex: string }[] }[];
};
const smartsolar = profiles.find((p) => p.id === 'smartsolar')!;
const h = (b: Uint8Array) => Buffer.from(b).toString('hex');

function run(pieces: { hex: string; last: boolean }[]): StreamOutput[] {
  const r = new TransferReassembler();
  return pieces.flatMap((p, i) => r.push('k', { bytes: hex(p.hex), frame: i + 1, timeUs: i, role: p.last ? 'lastData' : 'data' }));
}

test('the app init sequences frame completely (except the pieces whose head the source comments out)', () => {
  const lastData: Record<string, number> = { smartshunt: 0x24, orion: 0x1e, smartsolar: 0x24 };
  const control: Record<string, number> = { smartshunt: 0x21, orion: 0x1b, smartsolar: 0x21 };
  // SmartShunt lines 38, 47, 55 and SmartSolar line 24 continue messages begun on commented-out lines.
  const expectedUnknown: Record<string, string[]> = { smartshunt: ['81190325', '81190361', '8119eef6'], orion: [], smartsolar: ['19ecdc'] };
  for (const g of data.groups.filter((x) => x.writes)) {
    const writes = g.writes!.filter((w) => !w.commentedOut);
    for (const w of writes.filter((x) => x.handle === control[g.device])) assert.ok(decodeControl(hex(w.hex)).known, `${g.device} control ${w.hex}`);
    const out = run(writes.filter((x) => x.handle !== control[g.device]).map((w) => ({ hex: w.hex, last: w.handle === lastData[g.device] })));
    assert.deepEqual(out.filter((r) => r.kind === 'unknown').map((r) => h(r.bytes)), expectedUnknown[g.device], g.device);
    assert.ok(out.filter((r) => r.kind === 'message').length >= 10, `${g.device}: messages`);
  }
});

test('the test-vector notifications frame, in the order recorded, per characteristic stream', () => {
  const g = data.groups.find((x) => x.device === 'various')!;
  // Lines 45-71 and 189 are excerpts cut out of longer transfers; 210-211 are one message in two pieces.
  const complete = g.notifications!.filter((n) => ![45, 71, 189, 210, 211].includes(n.line));
  for (const n of complete) {
    const out = run([{ hex: n.hex, last: true }]);
    assert.deepEqual(out.map((r) => r.kind), ['message'], `line ${n.line}: ${n.hex}`);
  }
  const day = run([{ hex: g.notifications!.find((n) => n.line === 210)!.hex, last: false }, { hex: g.notifications!.find((n) => n.line === 211)!.hex, last: false }]);
  assert.deepEqual(day, [], '0x1051 waits for its 34th byte (the source has 33)');
});

test('the SmartSolar payloads decode to the readings their notes state', () => {
  const g = data.groups.find((x) => x.payloads)!;
  const byName = Object.fromEntries(g.payloads!.map((p) => [p.name, p.hex]));
  const value = (name: string, i = 0) => {
    const out = run([{ hex: byName[name]!, last: true }]).filter((r) => r.kind === 'message');
    const m = out[i]!;
    assert.equal(m.kind, 'message');
    const msg = (m as Extract<StreamOutput, { kind: 'message' }>).body;
    return decodeRegisterValue(smartsolar.register(msg.register!), msg.raw!).value;
  };
  assert.equal(value('value-solar-voltage'), 28.03);
  assert.equal(value('value-concat-two', 0), 24.9);
  assert.equal(value('value-concat-two', 1), 28.16);
  const dev = run([{ hex: byName['notify-devices-indef']!, last: true }])[0] as Extract<StreamOutput, { kind: 'message' }>;
  assert.deepEqual(dev.body.devices, [[0, 0], [1, 0], [3, 1]]);
  const ok = (run([{ hex: byName['response-subscribe-ok']!, last: true }])[0] as Extract<StreamOutput, { kind: 'message' }>).body;
  assert.deepEqual([ok.instance, ok.answeredType, ok.response], [0, 3, 0]);
  assert.deepEqual(decodeControl(hex(byName['ctrl-ready-01']!)).params, { credit: 1 });
  assert.deepEqual(decodeControl(hex(byName['ctrl-error-0300']!)).params, { code: 3 });
  // Every payload that is not Control bytes frames as whole messages, nothing left over.
  for (const [name, x] of Object.entries(byName)) {
    if (name.startsWith('ctrl-')) continue;
    const out = run([{ hex: x, last: true }]);
    assert.ok(out.length > 0 && out.every((r) => r.kind === 'message'), `${name}: ${out.map((r) => r.kind)}`);
  }
});
