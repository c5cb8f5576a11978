/**
 * Instant Readout records: the layout table against Victron's document, and public vectors (each
 * cited with its source) decrypted and decoded to the values their authors assert. Where our reading
 * departs from a vector's assertion, the test says why (the document is followed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptReadout } from '../../src/adverts/crypto.js';
import { decodeRecord, loadRecordTable, readBits, recordTable } from '../../src/adverts/records.js';
import { ReadoutDecoder, CaptureKeys, type InstantReadout } from '../../src/adverts/readout.js';
import { parseAdvertisingData, VICTRON_COMPANY_ID, type Advert } from '../../src/adverts/index.js';
import { parseVictronManufacturerData } from '../../src/adverts/victron.js';
import { E2E } from '../helpers/readout-vectors.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const table = recordTable();
const VB = 'keshavdv/victron-ble';

/** An advert carrying manufacturer data `md` (after the company id) from `address`. */
export function advertOf(md: string, address = 'c0:ff:ee:00:00:01', frame = 1): Advert {
  const data = Uint8Array.from([md.length / 2 + 3, 0xff, 0xe1, 0x02, ...hex(md)]);
  const ad = parseAdvertisingData(data);
  return { frame, frames: [frame], timeUs: 0, adapter: 0, kind: 'legacy', eventType: 0, eventTypeName: 'ADV_IND', address, addressType: 'random', rssi: -60, data, structures: ad.structures, manufacturer: ad.manufacturer, victron: parseVictronManufacturerData(ad.manufacturer[0]!.data) };
}

function values(r: InstantReadout): Record<string, unknown> {
  return Object.fromEntries(r.fields.map((f) => [f.id, f.value]));
}

function plain(type: number, payload: string): Record<string, unknown> {
  return Object.fromEntries(decodeRecord(table.records.get(type)!, hex(payload)).fields.map((f) => [f.id, f.value]));
}

test('the shipped table is valid and every field starts where Victron\'s document puts it', () => {
  // Start bits from "extra_manufacturer_data" 2022-12-14 (payload bit 0 = document bit 32), copied by hand.
  const doc: Record<number, number[]> = {
    0x01: [32, 40, 48, 64, 80, 96, 112],
    0x02: [32, 48, 64, 80, 96, 98, 120, 140],
    0x03: [32, 40, 56, 72, 88, 103],
    0x04: [32, 40, 48, 64, 80],
    0x05: [32, 64, 80, 87, 94, 101, 108, 115, 122, 129, 136, 148, 152],
    0x06: [32, 40, 48, 64, 80, 96, 112],
    0x07: [32, 48, 68, 75, 96],
    0x08: [32, 40, 48, 61, 72, 85, 96, 109, 120, 127],
    // The document's Smart BatteryProtect table starts at 8 (8, 16, 24, 32, 48, 64, 80, 96) and its sizes
    // do not add up to it: the fields are in the document's order and sizes from bit 32.
    0x09: [32, 40, 48, 56, 72, 88, 104, 120],
    0x0a: [32, 40, 56, 72, 88, 104, 122, 132, 152],
    0x0b: [32, 40, 48, 64, 78, 80, 96, 112, 128],
    0x0c: [32, 40, 48, 64, 78, 80, 99, 118, 120, 127],
    0x0d: [32, 48, 64, 80, 96, 98],
  };
  for (const [type, starts] of Object.entries(doc)) {
    const def = table.records.get(Number(type))!;
    assert.ok(def, `record 0x${Number(type).toString(16)}`);
    assert.deepEqual(def.fields.map((f) => f.start + 32), starts, def.name);
  }
  assert.equal(table.records.get(0x0f)!.name, 'Orion XS');
  assert.equal(table.records.size, 15);
});

test('a bad table is refused with the JSON pointer of the problem', async () => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-records-'));
  const good = JSON.parse(readFileSync(new URL('../../src/adverts/records.json', import.meta.url), 'utf8'));
  const bad = structuredClone(good);
  bad.records[1].fields[0].enum = 'nosuch';
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify(bad));
  assert.throws(() => loadRecordTable(path.join(dir, 'a.json')), /records\/1\/fields\/0\/enum: no enum 'nosuch'/);
  const bad2 = structuredClone(good);
  bad2.records[1].fields[6].na = '0x2FF';
  writeFileSync(path.join(dir, 'b.json'), JSON.stringify(bad2));
  assert.throws(() => loadRecordTable(path.join(dir, 'b.json')), /records\/1\/fields\/6\/na: 0x2FF does not fit 9 bits/);
  const bad3 = structuredClone(good);
  bad3.records[0].fields[0].bits = 40;
  writeFileSync(path.join(dir, 'c.json'), JSON.stringify(bad3));
  assert.throws(() => loadRecordTable(path.join(dir, 'c.json')), /\/records\/0\/fields\/0\/bits: must be <= 32/);
});

test('bits are read least significant first (victron-ble tests/test_base.py, TestBitReader.test_read)', () => {
  const d = hex('1a2b3c4d5e6f7890');
  const seq = [1, 1, 1, 1, 6, 6, 4, 11, 1, 32];
  let p = 0;
  const got = seq.map((n) => {
    const v = readBits(d, p, n)!;
    p += n;
    return v;
  });
  const signed = (v: number, n: number) => (v >= 2 ** (n - 1) ? v - 2 ** n : v);
  assert.deepEqual([got[0], got[1], got[2], got[3], got[4], signed(got[5]!, 6), signed(got[6]!, 4), got[7], got[8], got[9]], [0, 1, 0, 1, 0x31, 0x0a, -0x04, 0x4d3, 0, 0x90786f5e]);
  assert.equal(readBits(d, 60, 5), undefined, 'past the end');
});

for (const v of E2E) {
  test(`decrypts and decodes: ${v.src}`, () => {
    const address = 'c0:ff:ee:00:00:01';
    const dec = new ReadoutDecoder({ keys: new Map([[address, { key: hex(v.key), source: '--key' }]]) });
    const r = dec.push(advertOf(v.md, address))!;
    assert.equal(r.decoded, true, r.reason);
    assert.equal(r.productId, v.product);
    assert.equal(r.recordType, v.record);
    assert.equal(r.keySource, '--key');
    assert.equal(r.keyFirstByte, hex(v.key)[0]);
    assert.deepEqual(values(r), v.values);
  });
}

test('a wrong key is caught by the check byte (victron-ble tests/test_battery_monitor.py test_key_mismatch)', () => {
  const address = 'c0:ff:ee:00:00:02';
  const dec = new ReadoutDecoder({ keys: new Map([[address, { key: hex('ffffffffffffffffffffffffffffffff'), source: 'keys.json' }]]) });
  const r = dec.push(advertOf('100289a302bb01af129087600b9b97bc2c32867c8238da', address))!;
  assert.deepEqual([r.decoded, r.reason, r.keyCheck, r.keyFirstByte, r.keySource, r.fields.length, r.plaintext], [false, 'key does not match', 0xaf, 0xff, 'keys.json', 0, undefined]);
});

test('no key, unknown record type, too short', () => {
  const dec = new ReadoutDecoder();
  assert.equal(dec.push(advertOf('100242a0016207adceb37b605d7e0ee21b24df5c'))!.reason, 'no key');
  // Record type 0x0e is unassigned: with a key whose first byte matches, the plaintext is given.
  const keyed = new ReadoutDecoder({ keys: new Map([['c0:ff:ee:00:00:01', { key: hex('adeccb947395801a4dd45a2eaa44bf17'), source: '--key' }]]) });
  const u = keyed.push(advertOf('100242a00e6207adceb37b605d7e0ee21b24df5c'))!;
  assert.deepEqual([u.decoded, u.reason, Buffer.from(u.plaintext!).toString('hex')], [false, 'unknown record type', '04006c050e000300130000fe']);
  assert.equal(dec.push(advertOf('100242a00e6207adceb37b60'))!.reason, 'unknown record type');
  assert.equal(dec.push(advertOf('100242a0016207ad'))!.reason, 'too short');
  assert.equal(dec.push(advertOf('100242a00162'))!.reason, 'too short');
  // A record cut inside a field: the fields before it are decoded, the rest listed as missing.
  const cut = keyed.push(advertOf('100242a0016207adceb37b605d7e'))!;
  assert.deepEqual([cut.decoded, Object.keys(values(cut)), cut.missing], [true, ['deviceState', 'chargerError', 'batteryVoltage', 'batteryCurrent'], ['yieldToday', 'pvPower', 'loadCurrent']]);
  assert.equal(VICTRON_COMPANY_ID, 0x02e1);
});

test('decrypted payloads of victron-ble\'s unit tests (cited per case)', () => {
  // tests/test_solar_charger.py @ 08a64d53: test_bulk_charge, test_parse_mppt100 (yield 500 Wh = 0.50 kWh).
  assert.equal(plain(0x01, '0300f80402000200030000fe8c9a5572').deviceState, 'Bulk');
  assert.deepEqual(plain(0x01, '0300fb09650032000901ffff31bc45ad'), { deviceState: 'Bulk', chargerError: 'No error', batteryVoltage: 25.55, batteryCurrent: 10.1, yieldToday: 0.5, pvPower: 265, loadCurrent: null });
  // tests/test_battery_monitor.py @ 72fdf37e: test_aux_midpoint, test_aux_starter.
  assert.equal(plain(0x02, 'ffffe6040000feff010000000080fe0c').midVoltage, 655.34);
  assert.equal(plain(0x02, 'ffffe6040000feff000000000080feac').auxVoltage, -0.02);
  // test_aux_temperature: victron-ble reads aux 0xFFFF as 655.35 K = 382.2 °C; the document's range ends at
  // 655.34 K, and victron-ble's own DC energy meter reads 0xFFFF as no temperature: not available here.
  assert.equal(plain(0x02, 'ffffe6040000ffff020000000080fede').temperature, null);
  // tests/test_dc_energy_meter.py @ 21db7652: test_aux_temperature, test_aux_temperature_none, test_generic_source.
  assert.equal(plain(0x0d, 'fdffe40400008888020000ae28af8a5c').temperature, 76.37);
  assert.equal(plain(0x0d, 'fdffe4040000ffff020000ae28af8a5c').temperature, null);
  assert.deepEqual(plain(0x0d, 'ffff6f0a0000000003000043698118eb'), { monitorMode: 'Generic source', batteryVoltage: 26.71, alarmReason: [], auxInput: 'None', batteryCurrent: 0 });
  // tests/test_ac_charger.py @ d137b168: test_parse.
  const ac = plain(0x08, '060046a500ffffffffffffbdffeb3d1f');
  assert.deepEqual([ac.deviceState, ac.chargerError, ac.batteryVoltage1, ac.batteryCurrent1, ac.batteryCurrent2], ['Storage', 'No error', 13.5, 0.5, null]);
  // tests/test_multirs.py @ ebb813b8: test_parse_not_available.
  const rs = plain(0x0b, '0900ff7f3294ff7fff7fffff1402');
  assert.deepEqual([rs.batteryCurrent, rs.activeAcInPower, rs.acOutPower, rs.pvPower], [null, null, null, null]);
  // tests/test_battery_sense.py @ 08a64d53: test_parse_data_new_model.
  const bs = plain(0x02, 'fffff80400008971feff7fffffffff5c');
  assert.deepEqual([bs.temperature, bs.batteryVoltage], [17.5, 12.72]);
});

test('SmartLithium and Lynx Smart BMS payloads (victron-ble tests @ 72fdf37e)', () => {
  // tests/test_smart_lithium.py: test_parse .. test_parse_5 (byte strings written out in hex).
  const cells4 = [3.31, 3.31, 3.31, 3.31, null, null, null, null];
  const cellsOf = (v: Record<string, unknown>) => [1, 2, 3, 4, 5, 6, 7, 8].map((i) => v[`cell${i}`]);
  const l1 = plain(0x05, '000000060000c7e3f1f8ffffff2c35b5fab478010fd249d2ae5f6956e1f8a965');
  assert.deepEqual([l1.smartLithiumError, l1.balancerStatus, l1.batteryTemperature, l1.batteryVoltage, l1.bmsFlags, cellsOf(l1)], [0, 'Cell imbalance', 13, 13.24, 100663296, cells4]);
  const l2 = plain(0x05, '000000060000c7e3f1f8ffffff2c15b6849aea20977d8ca2b6f932de828a88f9');
  assert.deepEqual([l2.balancerStatus, l2.batteryTemperature, l2.batteryVoltage, cellsOf(l2)], ['Balanced', 14, 13.24, cells4]);
  const l3 = plain(0x05, '000000060000c7e3d1f8ffffff2b35b55be593fd3933e41c3f43ce6641e771a3');
  assert.deepEqual([l3.balancerStatus, l3.batteryTemperature, l3.batteryVoltage, cellsOf(l3)], ['Cell imbalance', 13, 13.23, [3.31, 3.31, 3.31, 3.3, null, null, null, null]]);
  const l4 = plain(0x05, '00000006000047a3d1682c1a8d500acd9664f2f50b85ede868f61dc1aea1ce83');
  assert.deepEqual([l4.balancerStatus, l4.batteryTemperature, l4.batteryVoltage, cellsOf(l4)], ['Unknown', 37, 26.4, [3.31, 3.3, 3.3, 3.3, 3.3, 3.29, 3.3, 3.3]]);
  const l5 = plain(0x05, '000000060000cce592b95c2e997b1ad05025cfa5a6b25b913c5485ee856279ae');
  assert.deepEqual([l5.balancerStatus, l5.batteryTemperature, l5.batteryVoltage, cellsOf(l5)], ['Balanced', 40, 26.83, [3.36, 3.35, 3.35, 3.36, 3.35, 3.35, 3.35, 3.36]]);
  // tests/test_lynx_smart_bms.py: victron-ble asserts consumed 4.4 Ah; the document says consumed Ah =
  // -record value, so -4.4 here (as victron-ble itself does for the battery monitor record).
  const ly = plain(0x0a, '0040388b0afaff951555148ccf0200ffb3eaf174d6fc7a4854b8ec008609e9ca');
  assert.deepEqual(ly, { error: 0, timeToGo: 14400, batteryVoltage: 26.99, batteryCurrent: -0.6, ioStatus: 5525, warningsAlarms: 5205, soc: 99.5, consumedAh: -4.4, batteryTemperature: null });
});

test('keys read from the app\'s traffic: register 0xEC65, 16 bytes, device to app, picked by the check byte', () => {
  const keys = new CaptureKeys();
  const shunt = 'fd:d4:50:0f:6c:1b';
  const msg = (raw: string, frame: number, extra: object = {}) => ({ kind: 'message', type: 0x08, register: 0xec65, raw: hex(raw), device: shunt, frame, direction: 'device-to-host', ...extra });
  assert.equal(keys.add(msg('aff4d0995b7d1e176c0c33ecb9e70dcd', 40)), true);
  assert.equal(keys.add(msg('b0f4d0995b7d1e176c0c33ecb9e70dcd', 41)), true, 'a second key (changed PIN)');
  assert.equal(keys.add(msg('aff4d0995b7d1e176c0c33ecb9e7', 42)), false, 'not 16 bytes');
  assert.equal(keys.add(msg('00f4d0995b7d1e176c0c33ecb9e70dcd', 43, { register: 0xec66 })), false, 'another register');
  assert.equal(keys.add(msg('01f4d0995b7d1e176c0c33ecb9e70dcd', 44, { direction: 'host-to-device' })), false, 'written by the app');
  assert.equal(keys.add(msg('02f4d0995b7d1e176c0c33ecb9e70dcd', 45, { type: 0x06 })), false, 'a set, not a value');
  assert.deepEqual(keys.find(shunt.toUpperCase(), 0xaf), { key: hex('aff4d0995b7d1e176c0c33ecb9e70dcd'), source: 'frame 40' });
  assert.equal(keys.find(shunt, 0xb0)!.source, 'frame 41');
  assert.equal(keys.find(shunt, 0x11), undefined);
  const dec = new ReadoutDecoder({ captureKeys: keys });
  const r = dec.push(advertOf('100289a302b040af925d09a4d89aa0128bdef48c6298a9', shunt))!;
  assert.deepEqual([r.decoded, r.keySource, values(r).batteryVoltage], [true, 'frame 40', 12.53]);
  // A given key that does not match loses to a capture key that does.
  const both = new ReadoutDecoder({ captureKeys: keys, keys: new Map([[shunt, { key: hex('ffffffffffffffffffffffffffffffff'), source: '--key' }]]) });
  assert.equal(both.push(advertOf('100289a302b040af925d09a4d89aa0128bdef48c6298a9', shunt))!.keySource, 'frame 40');
});

test('AES-CTR counter: the IV is a little-endian 128-bit counter, incremented per 16-byte block', () => {
  // Keystream block 0 of the MPPT vector: plaintext 04006c05... xor ciphertext ceb37b60... (hand-checked
  // above through victron-ble's plaintext). Block 1 must use counter iv+1 (little-endian): build a
  // 20-byte ciphertext from the AES-ECB of both counter blocks and check the round trip.
  const key = hex('adeccb947395801a4dd45a2eaa44bf17');
  const ct = hex('ceb37b605d7e0ee21b24df5c');
  assert.equal(Buffer.from(decryptReadout(key, 0x0762, ct)).toString('hex'), '04006c050e000300130000fe');
  const long = new Uint8Array(20).fill(0x55);
  const enc = decryptReadout(key, 0xffff, long);
  assert.deepEqual(decryptReadout(key, 0xffff, enc), long);
  // Block 1 of iv 0xffff is counter 0x10000 (carry into the third byte), not 0x0000.
  assert.notDeepEqual(Buffer.from(enc.subarray(16)).toString('hex'), Buffer.from(decryptReadout(key, 0x0000, long).subarray(0, 4)).toString('hex'));
  assert.deepEqual(enc.subarray(16), decryptReadout(key, 0x10000, long.subarray(16)));
  assert.throws(() => decryptReadout(hex('00'), 1, ct), /16 bytes, not 1/);
});
