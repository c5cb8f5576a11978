/**
 * Profile choice as Android gives it: the GAP Device Name is read (handle 0x0003) before any
 * discovery; SmartSolar and SmartShunt share the handle layout 0x21/0x24/0x27, so only the name
 * tells them apart; a product id (register 0x0100) wins over both. Each choice says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aclFragments, att, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';
import { profiles } from '../helpers/decode.js';
import { scanVictron } from '../../src/pipeline.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-profile-'));
const DEV = 'c0:ff:ee:00:20:27';

/** Android: connect, read 0x0003, then the app's Victron traffic straight on the cached handles. */
function androidSession(name: string, opts: { productId?: string; reconnect?: boolean } = {}): HciPacket[] {
  const pk: HciPacket[] = [];
  let t = 1_706_000_000_000_000;
  const ev = (data: Uint8Array) => pk.push({ type: 4, dir: 'received', data, timeUs: (t += 1000) });
  const send = (pdu: Uint8Array) => aclFragments(0x0040, pdu, 27, 4, 0b00).forEach((f) => pk.push({ type: 2, dir: 'sent', data: f, timeUs: (t += 1000) }));
  const recv = (pdu: Uint8Array) => aclFragments(0x0040, pdu, 27).forEach((f) => pk.push({ type: 2, dir: 'received', data: f, timeUs: (t += 1000) }));
  ev(leConnectionComplete(0x0040, DEV));
  send(att.readReq(0x0003));
  recv(att.readRsp(Buffer.from(name)));
  send(att.writeCmd(0x21, hex('fa80ff')));
  send(att.writeCmd(0x27, hex('050381190100'))); // get 0x0100
  // Battery voltage 0xED8D = 13.27 V, a register both profiles know.
  recv(att.notify(0x27, hex('080319ed8d422f05')));
  if (opts.productId) recv(att.notify(0x27, hex(`08031901004400${opts.productId}ff`)));
  ev(disconnectionComplete(0x0040));
  if (opts.reconnect) {
    // The next session reads nothing: the device is known by its address.
    ev(leConnectionComplete(0x0040, DEV));
    send(att.writeCmd(0x21, hex('fa80ff')));
    recv(att.notify(0x27, hex('080319ed8d422f05')));
    ev(disconnectionComplete(0x0040));
  }
  return pk;
}

async function run(packets: HciPacket[]) {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.btsnoop`);
  writeFileSync(file, writeBtsnoop(packets));
  const scan = await scanVictron(file, { profiles });
  const recs = [];
  for await (const b of scan.batches()) recs.push(...b);
  return { recs, chosen: scan.decoder.sessionProfiles() };
}

test('a Device Name read before discovery chooses SmartSolar on the SmartShunt handle layout', async () => {
  const { recs, chosen } = await run(androidSession('SmartSolar HQ2027ABCDE'));
  const v = recs.find((r) => r.register === 0xed8d)!;
  assert.equal(v.profile, 'smartsolar');
  assert.equal(chosen.length, 1);
  assert.equal(chosen[0]!.profile, 'smartsolar');
  assert.equal(chosen[0]!.name, 'SmartSolar HQ2027ABCDE');
  assert.equal(chosen[0]!.reason, 'GAP device name "SmartSolar HQ2027ABCDE" (read in frame 3, handle 0x0003 before discovery)');
  assert.deepEqual(chosen[0]!.handles, { control: 0x21, lastData: 0x24, data: 0x27 });
});

test('without a name the shared layout says so; a product id wins over the name', async () => {
  const none = await run(androidSession('\u0001\u0002'));
  assert.equal(none.chosen[0]!.profile, 'smartshunt');
  assert.match(none.chosen[0]!.reason!, /^handle layout Control 0x0021, LastData 0x0024, Data 0x0027 \(shared by smartshunt, .*smartsolar.*: first one taken, no product id or name seen\)$/);
  // SmartShunt 500A/50mV is product 0xA389: the name says SmartSolar, the product id wins.
  const { recs, chosen } = await run(androidSession('SmartSolar HQ2027ABCDE', { productId: '89a3', reconnect: true }));
  assert.equal(chosen[0]!.profile, 'smartshunt');
  assert.match(chosen[0]!.reason!, /^product id 0xA389 \(register 0x0100, frame \d+, instance 3\)$/);
  assert.equal(recs.filter((r) => r.register === 0xed8d)[0]!.profile, 'smartsolar', 'before the product id arrived');
  // The reconnection reads nothing, yet knows the device: same profile, same reason.
  assert.equal(chosen.length, 2);
  assert.equal(chosen[1]!.session, 2);
  assert.equal(chosen[1]!.profile, 'smartshunt');
  assert.equal(chosen[1]!.reason, chosen[0]!.reason);
  assert.equal(recs.filter((r) => r.register === 0xed8d).at(-1)!.profile, 'smartshunt');
});
