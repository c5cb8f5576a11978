/**
 * Connection sessions: the real SmartShunt capture reconnects many times on handle 0x0040; each
 * connect -> disconnect is one session, checked against tshark's own connection events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanAtt } from '../../src/pipeline.js';
import { SHARED_CAPTURES, tshark } from '../helpers/tshark.js';
import { tsharkSessions } from '../helpers/sessions.js';
import { parseCapture } from '../../src/capture/index.js';
import { extractAtt } from '../../src/bluetooth/index.js';
import { writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';

const SHUNT = path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop');

test('SmartShunt sessions match tshark connect/disconnect events (count, frames, handle, device)', async () => {
  const expected = tsharkSessions(SHUNT);
  assert.equal(expected.length, 8);
  const scan = await scanAtt(SHUNT);
  const perSession = new Map<number, number[]>();
  for await (const batch of scan.batches()) for (const p of batch) perSession.set(p.session!, [...(perSession.get(p.session!) ?? []), p.frame]);
  const sessions = scan.extractor.sessions();
  const got = sessions.map((s) => ({ start: s.startFrame, end: s.endFrame, connection: s.connection, device: s.device }));
  assert.deepEqual(got, expected);
  assert.deepEqual(sessions.map((s) => s.session), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(sessions.map((s) => s.end), ['disconnect', 'disconnect', 'disconnect', 'disconnect', 'disconnect', 'disconnect', 'disconnect', 'disconnect']);
  // Every PDU lies inside its session's frames, and the counts agree with tshark's ATT frames per session.
  const att = tshark(['-r', SHUNT, '-Y', 'btatt', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number);
  for (const s of sessions) {
    const frames = perSession.get(s.session) ?? [];
    assert.ok(frames.every((f) => f > s.startFrame && f < s.endFrame!), `session ${s.session}`);
    assert.equal(frames.length, att.filter((f) => f > s.startFrame && f < s.endFrame!).length, `session ${s.session} ATT count`);
    assert.equal(s.attPdus, frames.length);
  }
  // Session 7 (frames 1857-1862) connected and disconnected with no ATT at all.
  assert.equal(sessions[6]!.attPdus, 0);
});

test('sessions start without a connection event, end at HCI Reset and at a new connection on the handle', async () => {
  let t = 1_700_000_000_000_000;
  const acl = (h: number, att: number[]): HciPacket => ({ type: 2, dir: 'sent', timeUs: (t += 1000), data: Uint8Array.of(h & 0xff, (h >> 8) | 0x00, att.length + 4, 0, att.length, 0, 4, 0, ...att) });
  const leConn = (h: number, addr: number): HciPacket => ({ type: 4, dir: 'received', timeUs: (t += 1000), data: Uint8Array.of(0x3e, 19, 0x01, 0, h & 0xff, h >> 8, 0, 0, addr, 2, 3, 4, 5, 6, 0x18, 0, 0, 0, 0x48, 0, 0) });
  const reset: HciPacket = { type: 1, dir: 'sent', timeUs: (t += 1000), data: Uint8Array.of(0x03, 0x0c, 0) };
  const read = [0x0a, 0x03, 0x00];
  const packets: HciPacket[] = [acl(0x40, read), reset, acl(0x40, read), leConn(0x40, 1), acl(0x40, read), leConn(0x40, 9), acl(0x40, read)];
  const { records } = await parseCapture(writeBtsnoop(packets));
  const { pdus, extractor } = extractAtt(records);
  assert.deepEqual(pdus.map((p) => [p.frame, p.session]), [[1, 1], [3, 2], [5, 3], [7, 4]]);
  assert.deepEqual(
    extractor.sessions().map((s) => [s.session, s.startFrame, s.connected, s.end, s.endFrame, s.device]),
    [
      [1, 1, false, 'reset', 2, undefined],
      [2, 3, false, 'reconnect', 4, undefined],
      [3, 4, true, 'reconnect', 6, '06:05:04:03:02:01'],
      [4, 6, true, 'end-of-capture', 7, '06:05:04:03:02:09'],
    ],
  );
});

test('across files: a session goes on into a log that starts within 60 s (rotation), and ends at a longer gap', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-sessions-'));
  const read = [0x0a, 0x03, 0x00];
  const acl = (t: number): HciPacket => ({ type: 2, dir: 'sent', timeUs: t, data: Uint8Array.of(0x40, 0x00, read.length + 4, 0, read.length, 0, 4, 0, ...read) });
  const conn: HciPacket = { type: 4, dir: 'received', timeUs: 1_700_000_000_000_000, data: Uint8Array.of(0x3e, 19, 0x01, 0, 0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0x18, 0, 0, 0, 0x48, 0, 0) };
  const a = path.join(dir, 'a.btsnoop');
  writeFileSync(a, writeBtsnoop([conn, acl(1_700_000_000_001_000)]));
  for (const [gapS, sessions] of [[1, [1, 1]], [3600, [1, 2]]] as const) {
    const b = path.join(dir, `b${gapS}.btsnoop`);
    writeFileSync(b, writeBtsnoop([acl(1_700_000_000_001_000 + gapS * 1e6)]));
    const scan = await scanAtt([a, b]);
    const pdus = [];
    for await (const batch of scan.batches()) pdus.push(...batch);
    assert.deepEqual(pdus.map((p) => [p.file, p.frame, p.session]), [[a, 2, 1], [b, 1, sessions[1]]]);
    const s = scan.extractor.sessions();
    if (gapS === 1) assert.deepEqual(s.map((x) => [x.session, x.file, x.endFile, x.end]), [[1, a, b, 'end-of-capture']]);
    else assert.deepEqual(s.map((x) => [x.session, x.file, x.end, x.connected]), [[1, a, 'file-gap', true], [2, b, 'end-of-capture', false]]);
  }
});
