/**
 * The device family profiles on bytes real devices sent, with the readings computed by hand.
 * - SmartSolar: payloads.json (a SmartSolar MPPT, 2026-06-03), VE.Smart values as they came.
 * - Orion Smart / Orion XS: the instant-readout advertisement of an Orion Smart 12/12-18 (0xA3C0) in
 *   keshavdv/victron-ble tests/test_dcdc_converter.py, decrypted here with its published key: the record's fields are
 *   the little-endian VREG encodings (state un8, error un8, input voltage un16 0.01 V, output voltage sn16, off reason un32).
 * - Blue Smart: the advertisement of a Blue Smart IP22 12/30 (0xA330) in keshavdv/victron-ble tests/test_ac_charger.py.
 * - Phoenix: no public VE.Smart or VE.Direct HEX trace exists; the readings are VE.Direct text blocks from three
 *   Phoenix inverters (serials HQ2017JGK6S, HQ2311PZ2NR, HQ2152UFKWY) quoted in public VE.Direct parsers' tests; their
 *   checksums hold (sum of all bytes = 0 mod 256). AC_OUT_V (0.01 V), AC_OUT_I (0.1 A), MODE and CS have the units and
 *   numbering of VREGs 0x2200, 0x2201, 0x0200, 0x0201, so the VREG bytes are those numbers, little-endian.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { chooseProfile, decodeRegisterValue, loadProfiles } from '../../src/profiles/index.js';
import { hex } from '../helpers/capture-writer.js';
import { registerText } from '../../src/output/registers.js';

const profiles = loadProfiles();
const get = (id: string) => profiles.find((p) => p.id === id)!;
/** The decoded value, and the text a formatter makes of it. */
const dec = (profile: string, reg: number, bytes: string | Uint8Array) => {
  const def = get(profile).register(reg);
  const b = typeof bytes === 'string' ? hex(bytes) : bytes;
  return { ...decodeRegisterValue(def, b), text: registerText(def, b) };
};
const le16 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff]);

/** Victron instant readout: 10 00, product id (LE), record type, IV (LE), key check byte, AES-128-CTR payload. */
function decryptAdvert(advHex: string, keyHex: string): { productId: number; record: Buffer } {
  const a = Buffer.from(advHex, 'hex');
  const key = Buffer.from(keyHex, 'hex');
  assert.equal(a[7], key[0], 'key check byte');
  const iv = Buffer.alloc(16);
  iv.writeUInt16LE(a.readUInt16LE(5), 0);
  const d = createDecipheriv('aes-128-ctr', key, iv);
  return { productId: a.readUInt16LE(2), record: Buffer.concat([d.update(a.subarray(8)), d.final()]) };
}

test('SmartSolar: load output, device mode, history total and today from the real SmartSolar payloads', () => {
  // value-load-voltage 08 03 19 eda9 42 5b00: 0x005b = 91 -> 0.91 V
  assert.deepEqual(dec('smartsolar', 0xeda9, '5b00'), { value: 0.91, text: '0.91 V', unit: 'V' });
  assert.equal(get('smartsolar').register(0xeda9)!.name, 'Load output voltage');
  // value-state-0200 08 03 19 0200 41 01: mode 1 = on
  assert.deepEqual(dec('smartsolar', 0x0200, '01'), { value: 1, text: 'On' });
  assert.deepEqual(dec('smartsolar', 0xeda8, '01'), { value: 1, text: 'Output on' });
  // value-history-104f: 34 bytes. 01 version, 00 error db, errors 12 00 00 00 (0x12 = 18), f7dc0100 = 122103 ->
  // 1221.03 kWh (user and system), 6b14 = 5227 -> 52.27 V, e80a = 2792 -> 27.92 V, 1e = 30 days, 15 bytes undefined.
  const total = dec('smartsolar', 0x104f, '010012000000f7dc0100f7dc01006b14e80a1e0100ffffffffffffffffffffffffff');
  assert.equal(total.problem, undefined);
  assert.deepEqual(total.value, {
    Version: 1,
    'Error database id': 0,
    'Error 0': 18,
    'Error 1': 0,
    'Error 2': 0,
    'Error 3': 0,
    'Total yield user': 1221.03,
    'Total yield system': 1221.03,
    'Panel voc max': 52.27,
    'Battery voltage max': 27.92,
    'Number of available days': 30,
    'Undefined (not in registers.json)': '0100' + 'ff'.repeat(13),
  });
  assert.match(total.text, /Error database id=Chargers, Error 0=Charger excessive current, Error 1=No error/);
  assert.match(total.text, /Total yield user=1221\.03 kWh/);
  // value-history-1050: yield 0x94 = 148 -> 1.48 kWh, battery max 0x0aa2 -> 27.22 V, min 0x0970 -> 24.16 V,
  // bulk 0x0353 = 851 min, absorption 0x82 = 130 min, float 0, max power 0x212 = 530 W, max battery current
  // 0xbf = 191 -> 19.1 A, max panel voltage 0x1379 = 4985 -> 49.85 V, day sequence 0x5c = 92.
  const today = dec('smartsolar', 0x1050, '0094000000000000' + '00a20a7009000000000053038200000012020000bf0079135c00');
  const v = today.value as Record<string, number>;
  assert.equal(get('smartsolar').register(0x1050)!.name, 'History day 0 (today)');
  assert.equal(get('smartsolar').register(0x1053)!.name, 'History day -3');
  assert.deepEqual([v.Yield, v.Consumed, v['Battery voltage max'], v['Battery voltage min']], [1.48, 0, 27.22, 24.16]);
  assert.deepEqual([v['Time Bulk'], v['Time Absorption'], v['Time Float'], v['Max power'], v['Battery current max'], v['Panel voc max'], v['Day sequence number']], [851, 130, 0, 530, 19.1, 49.85, 92]);
  assert.match(today.text, /Time Bulk=851 minutes/);
  // value-trend-ec20: 0xEC20 is the VE.Smart networking reception list: received registers, four 8-byte entries.
  const rx = dec('smartsolar', 0xec20, '8dedffffffffffffecedffffffffffff3eecffffffffffff8cedffffffffffff');
  assert.match(rx.text, /^Received VE_REG_1=0xED8D, .*Received VE_REG_2=0xEDEC, .*Received VE_REG_3=0xEC3E, .*Received VE_REG_4=0xED8C/);
  assert.equal((rx.value as Record<string, number>)['Received VE_REG_1'], 0xed8d);
});

test('SmartSolar: per-tracker history 0x10A0-0x10BE and the trend registers have complete layouts', () => {
  const t = get('smartsolar').register(0x10a3)!;
  assert.equal(t.name, 'Tracker history day -3');
  // version 01, day 0x005c, energy 1..4 (0x0094 = 1.48 kWh, then n/a), peak power 1..4 (0x0212 = 530 W), Voc max 1..4 (0x1379 = 49.85 V)
  const d = dec('smartsolar', 0x10a3, '015c00' + '9400ffffffffffff' + '1202ffffffffffff' + '7913ffffffffffff');
  assert.equal(d.problem, undefined);
  const v = d.value as Record<string, number | null>;
  assert.deepEqual([v['Day sequence number'], v['Energy tracker 1'], v['Energy tracker 2'], v['Peak power tracker 1'], v['Voc max tracker 1']], [92, 1.48, null, 530, 49.85]);
  // 0xEC5B: trend 2, newest time reference 0x00012345 = 74565, 3 samples, every 0x012c = 300 s, then the samples.
  const trend = dec('smartsolar', 0xec5b, '02' + '45230100' + '03' + '2c01' + '0a000b000c00');
  assert.deepEqual(trend.value, { 'Trend index': 2, 'Time reference of newest sample': 74565, 'Number of samples': 3, Interval: 300, Samples: '0a000b000c00' });
  assert.match(trend.text, /Interval=300 s/);
  assert.equal(get('smartsolar').register(0xec4a)!.name, 'Trend 0 configuration');
  // 0xEC5D names registers: ED8D shown as a register number, FFFF not available.
  assert.match(dec('smartsolar', 0xec5d, '8ded' + 'bbed' + 'ffff'.repeat(6)).text, /TREND_0=0xED8D, .*TREND_1=0xEDBB, .*TREND_2=Not Available/);
});

test('Orion Smart and Orion XS: the registers of a real Orion instant readout', () => {
  const { productId, record } = decryptAdvert('1000c0a304121d64ca8d442b90bbdf6a8cba', '64ba49f1a8562e45197a8e1fe50d7658');
  assert.equal(productId, 0xa3c0);
  assert.equal(record.subarray(0, 10).toString('hex'), '00002305ff7f80000000');
  assert.equal(chooseProfile(profiles, { productId })!.id, 'orion');
  assert.equal(chooseProfile(profiles, { productId: 0xa3f0 })!.id, 'orion-xs');
  assert.equal(chooseProfile(profiles, { name: 'Orion XS 12/12-50A' })!.id, 'orion-xs');
  assert.equal(chooseProfile(profiles, { name: 'Orion Smart HQ20326VVVJ' })!.id, 'orion');
  for (const p of ['orion', 'orion-xs']) {
    assert.deepEqual(dec(p, 0x0201, record.subarray(0, 1)), { value: 0, text: 'Off' });
    assert.deepEqual(dec(p, 0xedda, record.subarray(1, 2)), { value: 0, text: 'No error' });
    // 0x0523 = 1315 -> 13.15 V
    assert.deepEqual(dec(p, 0xedbb, record.subarray(2, 4)), { value: 13.15, text: '13.15 V', unit: 'V' });
    // 0x7fff is "Not Available" for the sn16 output voltage (victron-ble reads it as 0 V: see docs/protocol-notes.md)
    assert.deepEqual(dec(p, 0xed8d, record.subarray(4, 6)), { value: null, text: 'Not Available', unit: 'V' });
    // off reason 0x00000080: bit 7, engine shutdown detection
    const off = dec(p, 0x0207, record.subarray(6, 10));
    assert.equal(off.text, 'Engine shutdown detection');
  }
  assert.equal(get('orion-xs').register(0xedbd)!.name, 'Input current');
  assert.match(get('orion-xs').register(0xed26)!.source, /DISAGREEMENT/);
});

test('Blue Smart: the registers of a real Blue Smart IP22 instant readout', () => {
  const { productId, record } = decryptAdvert('100030a308f926c1b5170a0d2280335bf12d5ed083', 'c129cf8f75c3fe5a1655b481e205fb7d');
  assert.equal(productId, 0xa330);
  assert.equal(chooseProfile(profiles, { productId })!.id, 'bluesmart');
  assert.equal(chooseProfile(profiles, { name: 'Blue Smart IP22 Charger' })!.id, 'bluesmart');
  // 06 00 45 85 00 ...: state 6, error 0, then 13-bit voltage 0x0545 = 1349 and 11-bit current (0x008545 >> 13) = 4.
  assert.equal(record.subarray(0, 5).toString('hex'), '0600458500');
  const bits = record.readUIntLE(2, 3);
  const volts = bits & 0x1fff;
  const amps = (bits >> 13) & 0x7ff;
  assert.deepEqual([volts, amps], [1349, 4]);
  // Temperature: the 7 bits after three voltage/current pairs (byte 11 low bits) minus 40: 0x3d - 40 = 21 C.
  const temp = (record[11]! & 0x7f) - 40;
  assert.equal(temp, 21);
  assert.deepEqual(dec('bluesmart', 0x0201, record.subarray(0, 1)), { value: 6, text: 'Storage' });
  assert.deepEqual(dec('bluesmart', 0xedda, record.subarray(1, 2)), { value: 0, text: 'No error' });
  assert.deepEqual(dec('bluesmart', 0xed8d, le16(volts)), { value: 13.49, text: '13.49 V', unit: 'V' });
  assert.deepEqual(dec('bluesmart', 0xed8f, le16(amps)), { value: 0.4, text: '0.4 A', unit: 'A' });
  assert.deepEqual(dec('bluesmart', 0xeddb, le16(temp * 100)), { value: 21, text: '21.00 °C', unit: '°C' });
  assert.equal(get('bluesmart').register(0xed8d)!.name, 'Output 1 voltage');
  assert.deepEqual(dec('bluesmart', 0x0200, '04'), { value: 4, text: 'Off' });
});

/** A VE.Direct text block: its fields, after checking the checksum (all bytes sum to 0 mod 256). */
function veDirectBlock(text: string): Record<string, string> {
  const bytes = Buffer.from(text, 'latin1');
  assert.equal(bytes.reduce((s, b) => (s + b) & 0xff, 0), 0, 'VE.Direct checksum');
  return Object.fromEntries(text.split('\r\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

test('Phoenix: AC output, mode and state of three real Phoenix inverters (VE.Direct readings as VREG bytes)', () => {
  const blocks = [
    '\r\nPID\t0xA279\r\nFW\t0121\r\nSER#\tHQ2017JGK6S\r\nMODE\t2\r\nCS\t9\r\nAC_OUT_V\t12003\r\nAC_OUT_I\t2\r\nV\t13308\r\nAR\t0\r\nWARN\t0\r\nOR\t0x00000000\r\nChecksum\t\x05',
    '\r\nPID\t0xA241\r\nFW\t0126\r\nSER#\tHQ2311PZ2NR\r\nMODE\t2\r\nCS\t9\r\nAC_OUT_V\t22998\r\nAC_OUT_I\t0\r\nAC_OUT_S\t8\r\nV\t11877\r\nAR\t0\r\nWARN\t0\r\nOR\t0x00000000\r\nChecksum\t\xF3',
    '\r\nPID\t0xA2F1\r\nFW\t0124\r\nSER#\tHQ2152UFKWY\r\nMODE\t2\r\nCS\t9\r\nAC_OUT_V\t23007\r\nAC_OUT_I\t1\r\nAC_OUT_S\t38\r\nV\t13232\r\nAR\t0\r\nWARN\t0\r\nOR\t0x00000000\r\nChecksum\t\xB1',
  ].map(veDirectBlock);
  // Hand-computed: 12003 = 0x2ee3 -> 120.03 V, 2 -> 0.2 A; 22998 -> 229.98 V, 0 A; 23007 -> 230.07 V, 1 -> 0.1 A.
  const expected = [
    ['0xA279 Phoenix Inverter 12V 1200VA 120V', 'e32e', 120.03, '0200', 0.2],
    ['0xA241 Phoenix Inverter 12V 375VA 230V', 'd659', 229.98, '0000', 0],
    ['0xA2F1 Phoenix Inverter 12V 1200VA 230V', 'df59', 230.07, '0100', 0.1],
  ] as const;
  for (const [i, b] of blocks.entries()) {
    const [name, vHex, volts, iHex, amps] = expected[i]!;
    const pid = parseInt(b.PID!, 16);
    assert.equal(chooseProfile(profiles, { productId: pid })!.id, 'phoenix');
    // 0x0100 as a device sends it: identifier 00, product id LE, flags ff
    const prod = dec('phoenix', 0x0100, Buffer.from([0, pid & 0xff, pid >> 8, 0xff]));
    assert.match(prod.text, new RegExp(`Product Id=${name.replace(/[|()]/g, '\\$&')}`));
    assert.equal((prod.value as Record<string, number>)['Product Id'], pid, 'the value keeps the number');
    assert.equal(le16(Number(b.AC_OUT_V)).toString('hex'), vHex);
    assert.deepEqual(dec('phoenix', 0x2200, vHex), { value: volts, text: `${volts.toFixed(2)} V`, unit: 'V' });
    assert.equal(le16(Number(b.AC_OUT_I)).toString('hex'), iHex);
    assert.deepEqual(dec('phoenix', 0x2201, iHex), { value: amps, text: `${amps.toFixed(1)} A`, unit: 'A' });
    assert.deepEqual(dec('phoenix', 0x0200, Buffer.from([Number(b.MODE)])), { value: 2, text: 'On' });
    assert.deepEqual(dec('phoenix', 0x0201, Buffer.from([Number(b.CS)])), { value: 9, text: 'Inverting' });
  }
  assert.deepEqual(dec('phoenix', 0x0200, '05'), { value: 5, text: 'Eco' });
  assert.deepEqual(dec('phoenix', 0x0200, '04'), { value: 4, text: 'Off' });
  assert.equal(get('phoenix').register(0x2200)!.name, 'AC output voltage');
  assert.equal(chooseProfile(profiles, { name: 'Phoenix Inverter 12V 800VA' })!.id, 'phoenix');
});

test('every register of every shipped profile names its source', () => {
  for (const p of profiles) for (const r of p.profile.registers ?? []) assert.ok(r.source.length > 10, `${p.id} 0x${r.id.toString(16)}`);
});
