import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeControl } from '../../src/victron/control.js';
import { fromHex } from '../../src/util/cursor.js';
import { controlText, victronText } from '../../src/output/victron.js';

test('Control opcodes of protocol.md, with their parameters', () => {
  const fa = decodeControl(fromHex('fa80ff'), 'host-to-device', false);
  assert.deepEqual(fa, { name: 'chunk size negotiation', params: { a: 0x80, b: 0xff }, known: true });
  assert.equal(controlText(fa, fromHex('fa80ff'), 'host-to-device'), 'chunk size negotiation: 0x80 0xff');
  assert.deepEqual(decodeControl(fromHex('f980'), 'host-to-device', false).params, { credit: 0x80 });
  assert.deepEqual(controlText(decodeControl(fromHex('f941'), 'host-to-device', false), fromHex('f941'), 'host-to-device'), 'ready to receive: 65 free chunk(s)');
  const f901 = decodeControl(fromHex('f901'), 'device-to-host', false);
  assert.deepEqual([f901.name, f901.params, f901.unexpectedDirection], ['ready to receive', { credit: 1 }, undefined]);
  assert.deepEqual(decodeControl(fromHex('f8'), 'device-to-host', false), { name: 'clear receive buffer', params: {}, known: true });
  assert.equal(controlText(decodeControl(fromHex('f8'), 'device-to-host', false), fromHex('f8'), 'device-to-host'), 'clear the receive buffer');
  const e1 = decodeControl(fromHex('f703'), 'device-to-host', false);
  assert.deepEqual([e1.name, e1.params, controlText(e1, fromHex('f703'), 'device-to-host')], ['error', { code: 3 }, 'error code 3']);
  assert.deepEqual(decodeControl(fromHex('f70300'), 'device-to-host', false).params, { code: 3 });
  assert.deepEqual(decodeControl(fromHex('f70201'), 'device-to-host', false).params, { code: 0x0102 });
});

test('a read of Control is negotiation data', () => {
  const r = decodeControl(fromHex('00040001de4a00'), 'device-to-host', true);
  assert.equal(r.name, 'negotiation data');
  assert.equal(r.known, true);
  assert.deepEqual(r.params, { hex: '00040001de4a00', length: 7 });
  // Even when it starts like an opcode.
  assert.equal(decodeControl(fromHex('f901'), 'device-to-host', true).name, 'negotiation data');
});

test('unknown bytes and wrong lengths are unknown, with their hex', () => {
  for (const hex of ['0100', 'fa80', 'fa80ff00', 'f9', 'f90101', 'f800', 'f7', 'f7010203', '']) {
    const r = decodeControl(fromHex(hex), 'device-to-host', false);
    assert.deepEqual(r, { name: 'unknown control', params: { hex }, known: false }, hex);
    assert.equal(controlText(r, fromHex(hex), 'device-to-host'), `unknown Control bytes ${hex}`);
  }
});

test('opcodes seen the other way than the app sends them are flagged, still decoded', () => {
  const fa = decodeControl(fromHex('fa80ff'), 'device-to-host', false);
  assert.equal(fa.known, true);
  assert.equal(fa.unexpectedDirection, true);
  assert.match(controlText(fa, fromHex('fa80ff'), 'device-to-host'), /unexpected: the app's code has it app -> device only/);
  assert.equal(decodeControl(fromHex('f8'), 'host-to-device', false).unexpectedDirection, true);
  assert.equal(decodeControl(fromHex('f703'), 'host-to-device', false).unexpectedDirection, true);
  assert.equal(decodeControl(fromHex('f980'), 'device-to-host', false).unexpectedDirection, undefined);
});

test('without a direction nothing is flagged; a first read is negotiation data', () => {
  assert.equal(decodeControl(fromHex('fa80ff')).name, 'chunk size negotiation');
  assert.equal(decodeControl(fromHex('fa80ff')).unexpectedDirection, undefined);
  assert.equal(decodeControl(fromHex('00040001de4a00'), undefined, true).name, 'negotiation data');
  assert.equal(decodeControl(fromHex('f8'), undefined, false).name, 'clear receive buffer');
});

test('decoder: a Control write in several ACL fragments keeps all its frames; a direction the app never uses is flagged in the record', async () => {
  const { VictronDecoder } = await import('../../src/victron/index.js');
  const { profiles } = await import('../helpers/decode.js');
  const d = new VictronDecoder({ profiles });
  const uuid = '306b0002-b081-4037-83dc-e59fcc3cdfd0';
  const pdu = (frames: number[], direction: 'host-to-device' | 'device-to-host', opcode: number, value: string) => ({
    frame: frames[frames.length - 1]!, frames, timeUs: frames[0]!, connection: 0x40, device: 'aa:bb:cc:dd:ee:ff', direction,
    opcode, opcodeName: '', handle: 0x21, uuid, value: fromHex(value), fields: {}, truncated: false, raw: new Uint8Array(0),
  });
  const [write] = d.pushAtt(pdu([5, 6], 'host-to-device', 0x52, 'fa80ff'));
  assert.equal(write!.kind, 'control');
  assert.deepEqual(write!.frames, [5, 6]);
  assert.equal(write!.frame, 6);
  // 0xfa (chunk size negotiation) is only ever sent by the app: from the device it is decoded and flagged.
  const [odd] = d.pushAtt(pdu([9], 'device-to-host', 0x1b, 'fa80ff'));
  assert.equal(odd!.kind, 'control');
  assert.match(victronText(odd!)!, /^chunk size negotiation: 0x80 0xff \(unexpected: the app's code has it app -> device only\)$/);
});
