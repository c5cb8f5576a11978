/**
 * Request pairing (`request`, `latencyMs`, the unanswered list) on the sample capture, against values
 * worked out by hand from tshark's view of it:
 *   tshark -r captures/smartshunt-orion-session.btsnoop -Y 'btatt.opcode == 0x52 || btatt.opcode == 0x1b' \
 *     -T fields -e frame.number -e frame.time_epoch -e btatt.handle -e btatt.value -e bthci_acl.chandle
 * A reply pairs with the oldest pending request of its instance and register (protocol.md); the
 * latency is the difference of the two frames' times (the frame that completes each message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aclFragments, att, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';
import { scanVictron } from '../../src/pipeline.js';
import { REPO } from '../helpers/tshark.js';
import { profiles } from '../helpers/decode.js';
import type { VictronRecord } from '../../src/victron/index.js';

test('pairing on smartshunt-orion-session: request frame and latency of each reply, by hand from tshark times', async () => {
  const scan = await scanVictron(path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'), { profiles });
  const recs: VictronRecord[] = [];
  for await (const b of scan.batches()) recs.push(...b);
  const replies = recs.filter((r) => r.kind === 'message' && (r.type === 0x07 || r.type === 0x08 || r.type === 0x09));
  const got = replies.map((r) => [r.frame, r.connection, r.type, r.instance, r.register ?? null, r.request ?? null, r.latencyMs ?? null]);
  assert.deepEqual(got, [
    // frame 57 (0x24, 1780509600.054300): response to the subscribe 03 00 of frame 36 (.035000): 19.3 ms;
    // value response for 0x0093 to the set values of frame 37 (.035900): 18.4 ms.
    [57, 0x40, 0x07, 0, null, 36, 19.3],
    [57, 0x40, 0x09, 0, 0x93, 37, 18.4],
    // frame 82 (.077000): 0xED8D and 0xED8C, asked in the get values completed by frame 45 (.043100): 33.9 ms.
    [82, 0x40, 0x08, 3, 0xed8d, 45, 33.9],
    [82, 0x40, 0x08, 3, 0xed8c, 45, 33.9],
    // frame 83 (.078100): 0xED8E was never asked (unsolicited); 0xED7D was, in frame 46 (.044000): 34.1 ms.
    [83, 0x40, 0x08, 3, 0xed8e, null, null],
    [83, 0x40, 0x08, 3, 0xed7d, 46, 34.1],
    // frame 84 (.079200) completes 0x0FFF (begun in 83), asked in frame 44 (.042200): 37.0 ms.
    [84, 0x40, 0x08, 3, 0x0fff, 44, 37],
    // frame 87, the Orion (connection 0x41, .082500): 0x0120 never asked; 0xEDBB asked in frame 66 (.062400):
    // 20.1 ms; 0xEDDB never asked (0xEDDA was); the second 0xEDBB finds its request already answered.
    [87, 0x41, 0x08, 0, 0x0120, null, null],
    [87, 0x41, 0x08, 0, 0xedbb, 66, 20.1],
    [87, 0x41, 0x08, 0, 0xeddb, null, null],
    [87, 0x41, 0x08, 0, 0x0120, null, null],
    [87, 0x41, 0x08, 0, 0xeddb, null, null],
    [87, 0x41, 0x08, 0, 0x0120, null, null],
    [87, 0x41, 0x08, 0, 0xedbb, null, null],
    // frame 89 (.084300): 0xED8F from frame 45 (.043100): 41.2 ms. Frame 90: 0x0308 never asked.
    [89, 0x40, 0x08, 3, 0xed8f, 45, 41.2],
    [90, 0x40, 0x08, 3, 0x0308, null, null],
    // frame 91 (.086500): instance 1, 0x0100, asked three times in frame 41 (.039500): the oldest, 47.0 ms.
    [91, 0x40, 0x08, 1, 0x0100, 41, 47],
  ]);
  // The unanswered list: requests with no reply, by frame; the answered ones are not in it.
  const un = scan.decoder.unanswered().map((u) => `${u.frame} ${u.connection} ${u.instance} ${u.register?.toString(16)}`);
  for (const x of ['38 64 0 109', '44 64 3 110', '63 65 0 109', '41 64 1 100', '41 64 1 100']) assert.ok(un.includes(x), `${x} unanswered`);
  assert.equal(un.filter((x) => x === '41 64 1 100').length, 2, 'two of the three gets of 0x0100 stay unanswered');
  for (const x of ['45 64 3 ed8d', '45 64 3 ed8c', '46 64 3 ed7d', '44 64 3 fff', '45 64 3 ed8f', '66 65 0 edbb']) assert.ok(!un.includes(x), `${x} is answered`);
  assert.equal(scan.decoder.unansweredTotal(), un.length);
});

test('a request asked again and again keeps its latest 8: the older ones are unanswered with their own frames, an answer pairs with the oldest kept', async () => {
  const pk: HciPacket[] = [];
  let t = 1_706_000_000_000_000;
  const ev = (data: Uint8Array) => pk.push({ type: 4, dir: 'received', data, timeUs: (t += 1000) });
  const send = (pdu: Uint8Array) => aclFragments(0x0040, pdu, 27, 4, 0b00).forEach((f) => pk.push({ type: 2, dir: 'sent', data: f, timeUs: (t += 1000) }));
  const recv = (pdu: Uint8Array) => aclFragments(0x0040, pdu, 27).forEach((f) => pk.push({ type: 2, dir: 'received', data: f, timeUs: (t += 1000) }));
  ev(leConnectionComplete(0x0040, 'c0:ff:ee:00:20:28'));
  send(att.writeCmd(0x21, hex('fa80ff')));
  const asked: number[] = [];
  // Ten gets of 0xED8D (battery voltage), then one value, then ten more gets of it.
  for (let i = 0; i < 10; i++) {
    send(att.writeCmd(0x27, hex('05038119ed8d')));
    asked.push(pk.length);
  }
  recv(att.notify(0x27, hex('080319ed8d422f05')));
  const answeredIn = pk.length;
  for (let i = 0; i < 10; i++) {
    send(att.writeCmd(0x27, hex('05038119ed8d')));
    asked.push(pk.length);
  }
  ev(disconnectionComplete(0x0040));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'vgatt-pairing-')), 'repeat.btsnoop');
  writeFileSync(file, writeBtsnoop(pk));
  const scan = await scanVictron(file, { profiles });
  const recs: VictronRecord[] = [];
  for await (const b of scan.batches()) recs.push(...b);
  const value = recs.find((r) => r.type === 0x08)!;
  // One packet per millisecond: the latency in ms is the difference of the frame numbers.
  assert.deepEqual([value.frame, value.request, value.latencyMs], [answeredIn, asked[2], answeredIn - asked[2]!]);
  // Dropped while full: the 1st and 2nd, then the 4th to 13th; left at the disconnection: the last 8.
  const unanswered = scan.decoder.unanswered().map((u) => u.frame);
  assert.deepEqual(unanswered, asked.filter((_, i) => i !== 2));
  assert.ok(scan.decoder.unanswered().every((u) => u.register === 0xed8d && u.instance === 3 && u.typeName === 'get values'));
  assert.equal(scan.decoder.unansweredTotal(), 19);
});
