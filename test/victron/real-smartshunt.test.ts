/**
 * The real SmartShunt capture (birdie1/victron, see ../shared/captures/README.md): the device side
 * frames completely, the replay script's malformed host transfer is shown as unknown, and a dozen
 * messages are pinned by frame, register and value, each checked by hand against its bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SHARED_CAPTURES } from '../helpers/tshark.js';
import { decodeAll } from '../helpers/decode.js';
import { victronText } from '../../src/output/victron.js';

const file = path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop');

test('real SmartShunt capture: framing, unknowns, pinned values', async () => {
  const recs = await decodeAll(file);
  const device = recs.filter((r) => r.direction === 'device-to-host');
  assert.ok(device.length > 1000, `device records: ${device.length}`);
  assert.deepEqual(device.filter((r) => r.kind === 'unknown'), [], 'no unknown bytes on the device side');
  // Frames 64-65: the replay script put a full piece on LastData (0x24); its tail 05 01 and the
  // orphan 81 19 01 09 that follows are unknown; the next message (05 01 81 19 01 0a) is intact.
  const u64 = recs.find((r) => r.kind === 'unknown' && r.frame === 64)!;
  assert.equal(Buffer.from(u64.bytes).toString('hex'), '0501');
  const u65 = recs.find((r) => r.kind === 'unknown' && r.frame === 65)!;
  assert.equal(Buffer.from(u65.bytes).toString('hex'), '81190109');
  assert.ok(recs.some((r) => r.frame === 65 && r.kind === 'message' && r.register === 0x010a && r.instance === 1));
  const volts = recs.filter((r) => r.type === 0x08 && r.register === 0xed8d).map((r) => r.value as number);
  assert.ok(volts.length >= 5 && volts.every((v) => v > 10 && v < 16), `battery voltages ${volts}`);
  assert.ok(recs.every((r) => r.profile === 'smartshunt'), 'profile chosen from the handle layout / GAP name');

  const at = (frame: number, register?: number) => recs.find((r) => r.frame === frame && r.kind === 'message' && (register === undefined || r.register === register))!;
  const hexOf = (b?: Uint8Array) => Buffer.from(b ?? []).toString('hex');
  // Hand-checked: bytes from `tshark -x`, values by the register's type and scale.
  assert.deepEqual(at(216).value, [[0, 0], [1, 0], [3, 1]]); // 02 9f 00 00 01 00 03 01 ff
  assert.deepEqual([at(221).answered, at(221).response, at(221).request], [3, 0, 204]); // 07 00 03 00 answers 03 00 of frame 204
  assert.deepEqual([at(226).register, at(226).response, at(226).request], [0x93, 1, 205]); // 09 00 18 93 01 answers the keep-alive set
  assert.equal(at(241, 0xec3f).value, 1); // 08 00 19 ec3f 41 01
  assert.deepEqual([hexOf(at(249).raw), at(249).value, at(249).unit], ['f8ff', -0.8, 'A']); // ED8F sn16 -8 x 0.1 A
  assert.deepEqual([hexOf(at(250).raw), at(250).value], ['9afcffff', -0.87]); // ED8C sn32 -870 mA
  assert.deepEqual([hexOf(at(251).raw), at(251).value, at(251).unit], ['3010', 4144, 'minutes']); // 0FFE 0x1030
  assert.deepEqual([hexOf(at(252).raw), at(252).value], ['feff', -0.02]); // ED7D sn16 -2 x 0.01 V
  assert.deepEqual([hexOf(at(256).raw), at(256).value], ['d0ed0200', 191952]); // 0308 0x0002edd0 s
  assert.deepEqual([hexOf(at(259).raw), at(259).value], ['f4ff', -12]); // ED8E -12 W
  assert.deepEqual([hexOf(at(445).raw), at(445).value, at(445).request], ['1805', 13.04, 224]); // ED8D 0x0518, asked in frame 224
  assert.deepEqual([hexOf(at(1070).raw), at(1070).value], ['1a05', 13.06]); // ED8D 0x051a
  const ec31 = at(248, 0xec31);
  assert.deepEqual(ec31.frames, [247, 248], 'a 33-byte value over two notifications');
  assert.equal((ec31.value as Record<string, unknown>)['Rssi Device_2'], -42);
  // Product ids keep their number in the value and read as hex with the product's name: 0x89 0xa3 = 0xA389.
  assert.equal((ec31.value as Record<string, unknown>)['Product ID Device_1'], 0xa389);
  assert.match(victronText(ec31)!, /Product ID Device_1=0xA389 SmartShunt 500A\/50mV, .*Product ID Device_2=0xA056 SmartSolar Charger MPPT 100\/30/);
  // 0xEC12 (BLE network id, 2 bytes) is 41 89: not text, so hex rather than "A" and a lone 0x89 byte.
  assert.deepEqual([hexOf(at(242, 0xec12).raw), at(242, 0xec12).value, victronText(at(242, 0xec12))], ['4189', '4189', '0x4189']);
  // 0x0100 of instance 1: 00 | 00 fe | fe -> identifier 0, product id 0xFE00 (not in the table).
  assert.match(victronText(at(244, 0x0100))!, /^Identifier=0, Product Id=0xFE00, /);
});
