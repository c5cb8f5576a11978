import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCapture } from '../../src/capture/index.js';
import { extractAtt, decodeAttPdu } from '../../src/bluetooth/index.js';
import type { BluetoothEvent } from '../../src/bluetooth/types.js';
import { toHex } from '../../src/util/cursor.js';
import { hex, writeBtsnoop } from '../helpers/capture-writer.js';
import { atomicSession, CONN_A, CONN_B, DEVICE_A, DEVICE_B } from '../helpers/scenario.js';

async function scenario() {
  const { records } = await parseCapture(writeBtsnoop(atomicSession()));
  const events: BluetoothEvent[] = [];
  const { pdus, extractor } = extractAtt(records, { onEvent: (e) => events.push(e) });
  return { pdus, extractor, events };
}

test('decodeAttPdu: error response and MTU, by the Core spec layout', () => {
  const e = decodeAttPdu(hex('01 0a 2100 02'));
  assert.equal(e.handle, 0x21);
  assert.deepEqual(e.fields, { requestOpcode: 0x0a, requestOpcodeName: 'Read Request', errorCode: 2, errorName: 'Read Not Permitted' });
  assert.deepEqual(decodeAttPdu(hex('02 f700')).fields, { mtu: 247 });
  const short = decodeAttPdu(hex('1b 27'));
  assert.match(short.problem!, /handle: need 2 byte\(s\) at offset 1/);
});

test('connections and peer addresses come from the LE (enhanced) connection complete events', async () => {
  const { pdus, events } = await scenario();
  const a = pdus.filter((p) => p.connection === CONN_A);
  const b = pdus.filter((p) => p.connection === CONN_B);
  assert.ok(a.length > 20 && b.length >= 5);
  assert.ok(a.every((p) => p.device === DEVICE_A));
  assert.ok(b.every((p) => p.device === DEVICE_B));
  assert.deepEqual(events.filter((e) => e.kind === 'connect').map((e) => e.kind === 'connect' && [e.connection, e.device, e.role, e.addressType]), [
    [CONN_A, DEVICE_A, 'central', 'random'],
    [CONN_B, DEVICE_B, 'central', 'random'],
  ]);
  assert.equal(events.filter((e) => e.kind === 'disconnect').length, 2);
});

test('a notification in 3 ACL fragments, interleaved with another connection, is one PDU at its last frame', async () => {
  const { pdus } = await scenario();
  const n = pdus.find((p) => p.opcode === 0x1b && p.handle === 0x27)!;
  assert.equal(n.frames.length, 3);
  assert.equal(n.frame, n.frames[2]);
  // Frames in between: B's first fragment, an event, B's second fragment.
  assert.deepEqual([n.frames[1]! - n.frames[0]!, n.frames[2]! - n.frames[1]!], [3, 2]);
  assert.equal(n.value!.length, 74);
  assert.equal(toHex(n.value!).slice(0, 14), '08031910514822');
  assert.equal(n.uuid, '306b0004-b081-4037-83dc-e59fcc3cdfd0');
  assert.equal(n.direction, 'device-to-host');
  const bn = pdus.filter((p) => p.connection === CONN_B && p.opcode === 0x1b);
  assert.equal(toHex(bn[0]!.value!), '0800190120441207000008001902014203');
  assert.equal(bn[0]!.uuid, '306b0004-b081-4037-83dc-e59fcc3cdfd1', 'UUIDs are per connection: B has its own layout');
});

test('raw is the whole ATT PDU (made when read), value a view of the same bytes; the other fields are own properties in their order', async () => {
  const { pdus } = await scenario();
  const long = pdus.find((p) => p.opcode === 0x1b && p.handle === 0x27)!;
  const single = pdus.find((p) => p.opcode === 0x1b && p.connection === CONN_B)!;
  const write = pdus.find((p) => p.opcode === 0x52)!;
  for (const p of [long, single, write]) {
    assert.equal(toHex(p.raw), toHex(Uint8Array.of(p.opcode, p.handle! & 0xff, p.handle! >> 8)) + toHex(p.value!));
    assert.equal(p.value!.buffer, p.raw.buffer);
    assert.equal(p.value!.byteOffset, p.raw.byteOffset + 3);
    assert.deepEqual(p.fields, { handles: [p.handle] });
  }
  assert.equal(long.raw.length, 77);
  assert.deepEqual(Object.keys(single), ['frame', 'frames', 'timeUs', 'connection', 'session', 'direction', 'opcode', 'opcodeName', 'fields', 'truncated', 'device', 'handle', 'uuid', 'value']);
  const req = pdus.find((p) => p.opcode === 0x0a)!;
  assert.equal(toHex(req.raw), '0a0300');
});

test('responses carry the handle of their request, as Wireshark shows them', async () => {
  const { pdus } = await scenario();
  const read = pdus.find((p) => p.opcode === 0x0b)!;
  assert.equal(read.handle, 3);
  assert.equal(read.uuid, '2a00');
  assert.equal(Buffer.from(read.value!).toString('latin1'), 'SmartShunt HQ20234');
  assert.equal(pdus.find((p) => p.opcode === 0x0d)!.handle, 3);
  assert.deepEqual((pdus.find((p) => p.opcode === 0x0f)!.fields as { handles: number[] }).handles, [3, 5]);
  const wr = pdus.find((p) => p.opcode === 0x13)!;
  assert.equal(wr.handle, 0x28);
  assert.equal(wr.uuid, '2902');
  assert.equal(pdus.find((p) => p.opcode === 0x1e)!.handle, 0x24);
});

test('prepared writes are reassembled at execute', async () => {
  const { pdus } = await scenario();
  const exec = pdus.find((p) => p.opcode === 0x18)!;
  assert.deepEqual(exec.fields.longWrites, [{ handle: 0x27, value: '0102030405060708090a0b0c0d0e0f10111213' }]);
  const signed = pdus.find((p) => p.opcode === 0xd2)!;
  assert.equal(toHex(signed.value!), '0300');
  assert.equal(signed.fields.signature, 'ab'.repeat(12));
});

test('an orphan continuation fragment gives a diagnostic, and the next PDU is intact', async () => {
  const { pdus, events } = await scenario();
  const d = events.filter((e) => e.kind === 'diagnostic');
  assert.equal(d.length, 1);
  assert.match(d[0]!.kind === 'diagnostic' ? d[0]!.message : '', /continuation fragment on connection 0x0040 with no start/);
  const last = pdus.filter((p) => p.connection === CONN_B).at(-1)!;
  assert.equal(toHex(last.value!), '080019edbb42c504');
});

test('the GATT database learned from discovery, per connection', async () => {
  const { extractor } = await scenario();
  const dbs = extractor.gattDatabases();
  assert.equal(dbs.length, 2);
  const a = dbs.find((d) => d.connection === CONN_A)!;
  assert.equal(a.device, DEVICE_A);
  assert.deepEqual(a.services.map((s) => [s.startHandle, s.endHandle, s.uuid]), [
    [1, 5, '1800'],
    [6, 9, '1801'],
    [0x1f, 0x29, '306b0001-b081-4037-83dc-e59fcc3cdfd0'],
  ]);
  const ve = a.services[2]!.characteristics;
  assert.deepEqual(ve.map((c) => [c.declarationHandle, c.valueHandle, c.uuid.slice(0, 8)]), [
    [0x20, 0x21, '306b0002'],
    [0x23, 0x24, '306b0003'],
    [0x26, 0x27, '306b0004'],
  ]);
  assert.deepEqual(ve[2]!.propertyNames, ['read', 'write', 'notify']);
  assert.deepEqual(ve[2]!.descriptors, [{ handle: 0x28, uuid: '2902' }, { handle: 0x29, uuid: '2901' }]);
  const b = dbs.find((d) => d.connection === CONN_B)!;
  assert.deepEqual(b.services.map((s) => [s.startHandle, s.uuid]), [[0x30, '306b0001-b081-4037-83dc-e59fcc3cdfd1']]);
});
