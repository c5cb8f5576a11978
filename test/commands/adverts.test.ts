/**
 * `vgatt adverts` end to end: a capture built around victron-ble's public vectors (LE advertising
 * reports written by the capture writer, then editcap to pcapng), keys given on the command line, in
 * a keys file, and read by the app from register 0xEC65 in the same capture. Every value is checked;
 * tshark confirms the frames and manufacturer data bytes we start from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, tshark } from '../helpers/tshark.js';
import { writeBtsnoop } from '../helpers/capture-writer.js';
import { DCDC, MPPT, SBP, SHUNT, VEBUS, readoutCapture } from '../helpers/readout-capture.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-adverts-cli-'));

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const { packets, keyFrame } = readoutCapture();
const BT = path.join(tmp, 'readout.btsnoop');
const NG = path.join(tmp, 'readout.pcapng');
writeFileSync(BT, writeBtsnoop(packets));
execFileSync('editcap', ['-F', 'pcapng', BT, NG]);
const KEYS = path.join(tmp, 'keys.json');
writeFileSync(KEYS, JSON.stringify({ [VEBUS.addr.toUpperCase()]: VEBUS.key, [SBP.addr]: 'ff' + SBP.key.slice(2) }));
const LAST = packets.length;

test('tshark sees the advertising reports and manufacturer data we start from', () => {
  const out = tshark(['-r', NG, '-Y', 'btcommon.eir_ad.entry.company_id == 0x02e1', '-T', 'fields', '-e', 'frame.number', '-e', 'bthci_evt.bd_addr', '-e', 'btcommon.eir_ad.entry.data']);
  const rows = out.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(rows.map((r) => Number(r[0])), [2, 3, 4, 5, 6, 7, 8, LAST]);
  assert.deepEqual(rows.map((r) => r[2]!.replace(/:/g, '')), [SHUNT.md, SHUNT.md, SHUNT.md, MPPT.md, VEBUS.md, SBP.md, DCDC.md, SHUNT.md]);
  // The key value is in the app's traffic: the device's notifications up to keyFrame hold 0xEC65 and the 16 bytes.
  const notified = tshark(['-r', NG, '-Y', `btatt.opcode == 0x1b && frame.number <= ${keyFrame}`, '-T', 'fields', '-e', 'btatt.value']).replace(/[:\n]/g, '');
  assert.ok(notified.endsWith('080019ec6550' + SHUNT.key), notified);
});

for (const file of [BT, NG]) {
  const kind = path.extname(file);
  test(`adverts --format ndjson (${kind}): every advert, keys from --key, --keys and the capture`, () => {
    const r = vgatt('adverts', file, '--key', `${MPPT.addr}=${MPPT.key}`, '--keys', KEYS, '--format', 'ndjson');
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((x) => x.frame), [2, 3, 4, 5, 6, 7, 8, LAST]);
    const [s2, s3, , mppt, vebus, sbp, dcdc, sLast] = rows;
    assert.deepEqual(
      { kind: s2.kind, time: s2.time, device: s2.device, addressType: s2.addressType, rssi: s2.rssi, name: s2.name, prefix: s2.prefix, productId: s2.productId, productName: s2.productName, recordType: s2.recordType, recordTypeName: s2.recordTypeName, iv: s2.iv, keyCheck: s2.keyCheck, decoded: s2.decoded, keySource: s2.keySource, keyFirstByte: s2.keyFirstByte },
      { kind: 'instant-readout', time: '2026-01-02T10:00:00.001400Z', device: SHUNT.addr, addressType: 'random', rssi: -71, name: 'SmartShunt HQ2023', prefix: '1002', productId: 0xa389, productName: 'SmartShunt 500A/50mV', recordType: 2, recordTypeName: 'Battery monitor', iv: 0x40b0, keyCheck: 0xaf, decoded: true, keySource: `frame ${keyFrame}`, keyFirstByte: 0xaf },
    );
    assert.deepEqual(s2.values, { timeToGo: null, batteryVoltage: 12.53, alarmReason: [], auxInput: 'None', batteryCurrent: 0, consumedAh: -50, soc: 50 });
    assert.deepEqual(s2.units, { timeToGo: 'min', batteryVoltage: 'V', batteryCurrent: 'A', consumedAh: 'Ah', soc: '%' });
    assert.deepEqual(s2.fields.find((f: { id: string }) => f.id === 'batteryVoltage'), { id: 'batteryVoltage', name: 'Battery voltage', raw: 1253, value: 12.53, unit: 'V', text: '12.53 V' });
    assert.equal(s2.raw, SHUNT.md);
    assert.equal(s2.plaintext, 'ffffe50400000000030000f40140df');
    assert.equal(s3.rssi, -73, 'repeated adverts are all kept in NDJSON');
    assert.deepEqual(sLast.values, s2.values);
    assert.deepEqual([mppt.addressType, mppt.rssi, mppt.productName, mppt.recordTypeName, mppt.keySource], ['public', -60, 'BlueSolar Charger MPPT 75/15', 'Solar charger', '--key']);
    assert.deepEqual(mppt.values, { deviceState: 'Absorption', chargerError: 'No error', batteryVoltage: 13.88, batteryCurrent: 1.4, yieldToday: 0.03, pvPower: 19, loadCurrent: 0 });
    assert.deepEqual([vebus.productId, vebus.recordTypeName, vebus.keySource], [0x2780, 'VE.Bus', KEYS]);
    assert.deepEqual(vebus.values, { deviceState: 'Float', veBusError: 0, batteryCurrent: 23.2, batteryVoltage: 14.45, activeAcIn: 'AC in 1', activeAcInPower: 1459, acOutPower: 1046, alarm: 'No alarm', batteryTemperature: 32, soc: null });
    assert.deepEqual([sbp.decoded, sbp.reason, sbp.keyCheck, sbp.keyFirstByte, sbp.values], [false, 'key does not match', 0xfa, 0xff, undefined]);
    assert.deepEqual([dcdc.decoded, dcdc.reason, dcdc.productName, dcdc.recordTypeName], [false, 'no key', 'Orion Smart 12V/12V-18A DC-DC Converter', 'DC/DC converter']);
    for (const k of [SHUNT.key, MPPT.key, VEBUS.key, SBP.key.slice(2)]) {
      assert.ok(!r.out.includes(k.slice(2, 10)) && !r.err.includes(k.slice(2, 10)), 'a key is never printed beyond its first byte');
    }
    assert.match(r.err, new RegExp(`key for ${SHUNT.addr} taken from frame ${keyFrame} \\(register 0xEC65 read by the app\\)`));
  });
}

test('adverts text: identical adverts of a device are one line with count and span; reasons are said', () => {
  const r = vgatt('adverts', NG, '--key', `${MPPT.addr}=${MPPT.key}`, '--keys', KEYS);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^frame\(s\)/);
  // One line per device: the SmartShunt's four identical adverts (before and after the connection) fold.
  assert.equal(lines.length, 1 + 5, r.out);
  assert.match(lines[1]!, new RegExp(`^2-${LAST} x4`));
  assert.match(lines[1]!, /^\S+ x4 +2026-01-02 10:00:00\.001400 \+0\.0\d\d s +fd:d4:50:0f:6c:1b +-73\.\.-71 0xA389 SmartShunt 500A\/50mV "SmartShunt HQ2023"  Battery monitor \(0x02\): Time to go not available, Battery voltage 12\.53 V, Alarm reason No alarm, Aux input None, Battery current 0\.000 A, Consumed Ah -50\.0 Ah, State of charge 50\.0 %  \[key 0xAF… from frame \d+\]$/);
  assert.match(lines[2]!, /^5 .* c4:ea:11:22:33:44 +-60 +0xA042 BlueSolar Charger MPPT 75\/15  Solar charger \(0x01\): Device state Absorption, Charger error No error, Battery voltage 13\.88 V, Battery current 1\.4 A, Yield today 0\.03 kWh, PV power 19 W, Load current 0\.0 A  \[key 0xAD… from --key\]$/);
  assert.match(lines[4]!, /^7 .*Smart BatteryProtect \(0x09\): key does not match \(key 0xFF… from .*keys\.json, advert wants 0xFA…\)$/);
  assert.match(lines[5]!, /^8 .*DC\/DC converter \(0x04\): no key \(key starts 0x64…; give --key d0:00:00:00:00:04=<32 hex digits>\)$/);
  assert.match(r.err, /8 Victron advert\(s\) from 5 device\(s\): 6 decoded, 1 key does not match, 1 no key/);
});

test('adverts csv: one row per field, a row with the reason otherwise', () => {
  const r = vgatt('adverts', BT, '--key', `${MPPT.addr}=${MPPT.key}`, '--format', 'csv', '--no-capture-keys');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines[0], 'frame,time,device,rssi,name,productId,productName,recordType,recordTypeName,decoded,reason,keySource,field,fieldName,value,unit,text');
  assert.equal(lines[1], '2,2026-01-02T10:00:00.001400Z,fd:d4:50:0f:6c:1b,-71,SmartShunt HQ2023,0xA389,SmartShunt 500A/50mV,0x02,Battery monitor,false,no key,,,,,,');
  assert.ok(lines.includes('5,2026-01-02T10:00:00.003500Z,c4:ea:11:22:33:44,-60,,0xA042,BlueSolar Charger MPPT 75/15,0x01,Solar charger,true,,--key,batteryVoltage,Battery voltage,13.88,V,13.88 V'), r.out);
  assert.ok(lines.includes('5,2026-01-02T10:00:00.003500Z,c4:ea:11:22:33:44,-60,,0xA042,BlueSolar Charger MPPT 75/15,0x01,Solar charger,true,,--key,deviceState,Device state,Absorption,,Absorption'));
  assert.equal(lines.filter((l) => l.startsWith('5,')).length, 7);
});

test('adverts: bad keys are one clear line, exit 1, and the key is not echoed', () => {
  const bad = vgatt('adverts', BT, '--key', `${MPPT.addr}=${MPPT.key.slice(0, 30)}`);
  assert.equal(bad.code, 1);
  assert.equal(bad.err.trim(), `vgatt: error: --key ${MPPT.addr}: the key for ${MPPT.addr} is not 32 hex digits (16 bytes)`);
  const noEq = vgatt('adverts', BT, '--key', MPPT.key);
  assert.equal(noEq.code, 1);
  assert.ok(!noEq.err.includes(MPPT.key), noEq.err);
  assert.match(noEq.err, /expected ADDRESS=HEX/);
  const addr = vgatt('adverts', BT, '--key', `zz:ea:11:22:33:44=${MPPT.key}`);
  assert.match(addr.err, /'zz:ea:11:22:33:44' is not a Bluetooth address/);
  const missing = vgatt('adverts', BT, '--keys', path.join(tmp, 'nope.json'));
  assert.equal(missing.err.trim(), `vgatt: error: ${path.join(tmp, 'nope.json')}: no such file`);
  const broken = path.join(tmp, 'broken.json');
  writeFileSync(broken, '["x"]');
  assert.match(vgatt('adverts', BT, '--keys', broken).err, /expected an object/);
});

test('adverts on a capture without Victron adverts says so', () => {
  const r = vgatt('adverts', path.join(REPO, 'test/fixtures/att-session.btsnoop'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /no Victron advert in 0 advert\(s\) from 0 device\(s\)/);
});

test('a real Android log (../shared/captures/govee-h5100-android.btsnoop) holds a neighbour\'s BMV-712 Smart Instant Readout adverts', () => {
  const file = path.join(REPO, '../shared/captures/govee-h5100-android.btsnoop');
  const r = vgatt('adverts', file, '--format', 'ndjson', '--no-capture-keys');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  // tshark's view: every manufacturer data entry of company 0x02E1, with its advertiser and bytes.
  const ts = tshark(['-r', file, '-Y', 'btcommon.eir_ad.entry.company_id == 0x02e1', '-T', 'fields', '-e', 'frame.number', '-e', 'bthci_evt.bd_addr', '-e', 'btcommon.eir_ad.entry.data', '-e', 'bthci_evt.rssi'])
    .trim().split('\n').map((l) => l.split('\t'));
  assert.equal(rows.length, 50);
  assert.deepEqual(rows.map((x) => [x.frame, x.device, x.raw, x.rssi]), ts.map(([f, a, d, rssi]) => [Number(f), a, d!.replace(/:/g, ''), Number(rssi)]));
  // Frame 438, read by hand from tshark's bytes 10 02 | 81 a3 | 02 | d4 e6 | ac | 4e2a...: BMV-712 Smart, battery monitor, IV 0xE6D4, key starts 0xAC.
  const f438 = rows.find((x) => x.frame === 438);
  assert.deepEqual([f438.prefix, f438.productId, f438.productName, f438.recordType, f438.recordTypeName, f438.iv, f438.keyCheck, f438.decoded, f438.reason], ['1002', 0xa381, 'BMV-712 Smart', 2, 'Battery monitor', 0xe6d4, 0xac, false, 'no key']);
  // The scan response names it from frame 760 on; two other devices send only their product id.
  assert.equal(rows.find((x) => x.frame === 3999).name, 'Aeolus SmartBMV');
  const reasons: Record<string, number> = {};
  for (const x of rows) reasons[x.reason] = (reasons[x.reason] ?? 0) + 1;
  assert.deepEqual(Object.keys(reasons).sort(), ['no key', 'not a product advertisement', 'too short']);
  assert.deepEqual(rows.filter((x) => x.reason === 'too short').map((x) => x.raw).filter((v, i, a) => a.indexOf(v) === i).sort(), ['100005a3', '10000ac0']);
});
