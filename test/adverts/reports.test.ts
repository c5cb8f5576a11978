/**
 * LE advertising reports -> adverts: hand-built events (legacy and extended, several reports per event,
 * extended chains, damage) checked against hand-computed values and against tshark on the same files
 * (btsnoop written here, pcapng written by editcap), and every report of the real captures in
 * ../shared/captures checked against tshark's dissection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCapture, parseCapture } from '../../src/capture/index.js';
import { AdvertParser, extractAdverts, parseAdvertisingData, parseAdvertisingReports, parseVictronManufacturerData, type Advert } from '../../src/adverts/index.js';
import { adStructures, hex, leAdvertisingReport, leConnectionComplete, leExtendedAdvertisingReport, writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';
import { SHARED_CAPTURES, tshark } from '../helpers/tshark.js';

const SHUNT = 'fd:d4:50:0f:6c:1b';
const MPPT = 'c4:ea:11:22:33:44';
// SmartShunt advert of victron-ble's test suite (keshavdv/victron-ble, tests/test_battery_monitor.py,
// test_end_to_end_parse): manufacturer data after the company id.
const SHUNT_MD = hex('100289a302b040af925d09a4d89aa0128bdef48c6298a9');
// BlueSolar MPPT 75|15 advert of victron-ble (tests/test_solar_charger.py, test_end_to_end_parse).
const MPPT_MD = hex('100242a0016207adceb37b605d7e0ee21b24df5c');
const victronAd = (md: Uint8Array) => adStructures([0x01, hex('06')], [0xff, Uint8Array.from([0xe1, 0x02, ...md])]);

function session(): HciPacket[] {
  let t = 1_700_000_000_000_000;
  const ev = (data: Uint8Array): HciPacket => ({ type: 4, dir: 'received', data, timeUs: (t += 100_000) });
  return [
    // 1: two reports in one event: the SmartShunt advert and its scan response with the name.
    ev(leAdvertisingReport([
      { address: SHUNT, eventType: 0x00, data: victronAd(SHUNT_MD), rssi: -71 },
      { address: SHUNT, eventType: 0x04, data: adStructures([0x09, 'SmartShunt HQ2023']), rssi: -70 },
    ])),
    // 2: an extended report (legacy bit set) from the MPPT, public address, TX power 4 dBm, RSSI unknown.
    ev(leExtendedAdvertisingReport([{ address: MPPT, addressType: 0, eventType: 0x0013, sid: 3, txPower: 4, rssi: 127, data: victronAd(MPPT_MD) }])),
    // 3-4: an extended chain: the first part says "incomplete, more to come", the second completes it.
    ev(leExtendedAdvertisingReport([{ address: MPPT, addressType: 0, eventType: 0x0020, sid: 1, rssi: -80, data: adStructures([0x09, 'BlueSolar MPPT 75|15 long name part']).subarray(0, 20) }])),
    ev(leExtendedAdvertisingReport([{ address: MPPT, addressType: 0, eventType: 0x0000, sid: 1, rssi: -79, data: adStructures([0x09, 'BlueSolar MPPT 75|15 long name part']).subarray(20) }])),
    // 5: not an advertising report.
    ev(leConnectionComplete(0x40, SHUNT)),
    // 6: shortened local name only, non-connectable, public identity address.
    ev(leAdvertisingReport([{ address: '00:11:22:33:44:55', addressType: 2, eventType: 0x03, data: adStructures([0x08, 'Short']), rssi: -100 }])),
  ];
}

function checkSession(adverts: Advert[]): void {
  assert.equal(adverts.length, 5);
  const [a, b, c, d, e] = adverts as [Advert, Advert, Advert, Advert, Advert];
  assert.deepEqual([a.frame, a.kind, a.eventTypeName, a.address, a.addressType, a.rssi], [1, 'legacy', 'ADV_IND', SHUNT, 'random', -71]);
  assert.deepEqual(a.structures.map((s) => s.type), [0x01, 0xff]);
  assert.equal(a.manufacturer[0]!.companyId, 0x02e1);
  assert.equal(Buffer.from(a.manufacturer[0]!.data).toString('hex'), '100289a302b040af925d09a4d89aa0128bdef48c6298a9');
  assert.deepEqual({ ...a.victron!, encrypted: Buffer.from(a.victron!.encrypted!).toString('hex') }, {
    prefix: '1002',
    productId: 0xa389,
    recordType: 0x02,
    iv: 0x40b0,
    keyCheck: 0xaf,
    encrypted: '925d09a4d89aa0128bdef48c6298a9',
  });
  assert.deepEqual([b.frame, b.eventTypeName, b.localName, b.victron, b.rssi], [1, 'SCAN_RSP', 'SmartShunt HQ2023', undefined, -70]);
  assert.deepEqual([c.frame, c.kind, c.address, c.addressType, c.rssi, c.txPower, c.sid, c.dataStatus], [2, 'extended', MPPT, 'public', null, 4, 3, 'complete']);
  assert.equal(c.eventTypeName, 'connectable, scannable, legacy');
  assert.deepEqual([c.victron!.productId, c.victron!.recordType, c.victron!.iv, c.victron!.keyCheck], [0xa042, 0x01, 0x0762, 0xad]);
  assert.deepEqual([d.frame, d.frames, d.localName, d.rssi, d.dataStatus], [4, [3, 4], 'BlueSolar MPPT 75|15 long name part', -79, 'complete']);
  assert.deepEqual([e.frame, e.addressType, e.eventTypeName, e.localName, e.rssi], [6, 'public-identity', 'ADV_NONCONN_IND', 'Short', -100]);
}

test('legacy and extended reports, several per event and chained, give their adverts', () => {
  checkSession(extractAdverts(session().map((p, i) => ({ frame: i + 1, fileOffset: 0, timeUs: p.timeUs, packetType: p.type, direction: 'controller-to-host', data: p.data, originalLength: p.data.length, truncated: false, adapter: 0 }))));
});

test('the same adverts from btsnoop and from the pcapng editcap makes of it, as tshark sees them', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-adverts-'));
  const bt = path.join(dir, 's.btsnoop');
  const ng = path.join(dir, 's.pcapng');
  writeFileSync(bt, writeBtsnoop(session()));
  execFileSync('editcap', ['-F', 'pcapng', bt, ng]);
  for (const f of [bt, ng]) {
    const reader = await openCapture(f);
    const p = new AdvertParser();
    const got: Advert[] = [];
    for await (const r of reader.records()) got.push(...p.push(r));
    checkSession(got);
    // tshark's view of the same reports: address, RSSI, company data (chains are not joined by tshark).
    const rows = tsharkReports(f);
    assert.deepEqual(rows.get(1)!.addresses, [SHUNT, SHUNT]);
    assert.deepEqual(rows.get(1)!.rssi, [-71, -70]);
    assert.deepEqual(rows.get(1)!.data, ['100289a302b040af925d09a4d89aa0128bdef48c6298a9']);
    assert.deepEqual(rows.get(2)!.addresses, [MPPT]);
    assert.deepEqual(rows.get(2)!.data, ['100242a0016207adceb37b605d7e0ee21b24df5c']);
    assert.deepEqual([rows.get(2)!.txPower, rows.get(2)!.sid, rows.get(2)!.rssi], [[4], [3], [127]]);
    assert.deepEqual([rows.get(4)!.rssi, rows.get(4)!.sid], [[-79], [1]]);
    assert.deepEqual(rows.get(6)!.addresses, ['00:11:22:33:44:55']);
  }
});

interface TsharkReports {
  addresses: string[];
  rssi: number[];
  companies: number[];
  data: string[];
  names: string[];
  txPower: number[];
  sid: number[];
}

function tsharkReports(file: string): Map<number, TsharkReports> {
  const out = tshark(['-r', file, '-Y', 'bthci_evt.le_meta_subevent == 0x02 || bthci_evt.le_meta_subevent == 0x0d', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'bthci_evt.bd_addr', '-e', 'bthci_evt.rssi', '-e', 'btcommon.eir_ad.entry.company_id', '-e', 'btcommon.eir_ad.entry.data', '-e', 'btcommon.eir_ad.entry.device_name', '-e', 'bthci_evt.tx_power', '-e', 'bthci_evt.advertising_sid']);
  const map = new Map<number, TsharkReports>();
  const list = (s: string | undefined) => (s ? s.split('|') : []);
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, addr, rssi, company, data, names, tx, sid] = line.split('\t');
    map.set(Number(frame), { addresses: list(addr), rssi: list(rssi).map(Number), companies: list(company).map((c) => parseInt(c, 16)), data: list(data).map((d) => d.replace(/:/g, '')), names: list(names), txPower: list(tx).map(Number), sid: list(sid).map(Number) });
  }
  return map;
}

for (const file of ['smartshunt-bluez-2020-part1.btsnoop', 'govee-h5100-android.btsnoop', 'govee-linux-dlt201.pcap']) {
  test(`every advertising report of ${file} as tshark dissects it`, async () => {
    const f = path.join(SHARED_CAPTURES, file);
    const expected = tsharkReports(f);
    const reader = await openCapture(f);
    const p = new AdvertParser();
    const byFrame = new Map<number, Advert[]>();
    for await (const r of reader.records()) for (const a of p.push(r)) byFrame.set(a.frame, [...(byFrame.get(a.frame) ?? []), a]);
    assert.deepEqual([...byFrame.keys()], [...expected.keys()], 'frames with reports');
    assert.ok(byFrame.size > 50);
    let victron = 0;
    for (const [frame, ads] of byFrame) {
      const e = expected.get(frame)!;
      assert.deepEqual(ads.map((a) => a.address), e.addresses, `frame ${frame}: addresses`);
      assert.deepEqual(ads.map((a) => a.rssi), e.rssi, `frame ${frame}: RSSI`);
      const md = ads.flatMap((a) => a.manufacturer);
      assert.deepEqual(md.map((m) => m.companyId), e.companies, `frame ${frame}: company ids`);
      assert.deepEqual(md.map((m) => Buffer.from(m.data).toString('hex')), e.data.slice(0, md.length), `frame ${frame}: manufacturer data`);
      // tshark's device_name field is both the complete and the shortened name.
      assert.deepEqual(ads.filter((a) => a.localName !== undefined).map((a) => a.localName), e.names, `frame ${frame}: names`);
      for (const a of ads) assert.equal(a.problem, undefined, `frame ${frame}: no problem`);
      victron += ads.filter((a) => a.victron).length;
    }
    if (file.startsWith('smartshunt')) assert.ok(victron > 0, 'Victron adverts in the SmartShunt capture');
  });
}

test('the SmartShunt capture: the 2020 SmartShunt advertises its product id without Instant Readout data', async () => {
  const { records } = await parseCapture(readShared('smartshunt-bluez-2020-part1.btsnoop'));
  const ads = extractAdverts(records).filter((a) => a.victron);
  // Frame 15 (tshark): Manufacturer Specific, Company ID 0x02e1, Data 100289a3.
  const f15 = ads.find((a) => a.frame === 15)!;
  assert.deepEqual(f15.victron, { prefix: '1002', productId: 0xa389, problem: 'too short' });
  // Frame 5: data 0241af77d6973bb69dfc59ac6ce07b10d0de5338755c: another Victron record, not a product advertisement.
  assert.deepEqual(ads.find((a) => a.frame === 5)!.victron, { prefix: '0241', problem: 'not a product advertisement' });
  // Frame 6: another device (e7:79:e6:1d:ef:04), data 1000d0a3: product 0xA3D0 (Orion Smart 12/12-30 non-isolated).
  const f6 = ads.find((a) => a.frame === 6)!;
  assert.deepEqual([f6.address, f6.victron!.prefix, f6.victron!.productId], ['e7:79:e6:1d:ef:04', '1000', 0xa3d0]);
});

function readShared(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(SHARED_CAPTURES, name)));
}

test('an event cut short keeps the reports before the damage and names the byte offset', () => {
  const full = leAdvertisingReport([
    { address: SHUNT, data: victronAd(SHUNT_MD), rssi: -71 },
    { address: MPPT, data: victronAd(MPPT_MD), rssi: -60 },
  ]);
  const cut = full.subarray(0, full.length - 10);
  const ev = parseAdvertisingReports(cut)!;
  assert.equal(ev.reports.length, 1);
  assert.equal(ev.reports[0]!.address, SHUNT);
  // Report 2 starts after 4 header bytes + report 1 (9 + 30 data + 1 RSSI) = 44; its data at 44 + 9 = 53, of 71 bytes.
  assert.equal(ev.problem, 'LE Advertising Report: report 2 of 2 needs 27 data bytes and RSSI at byte offset 53, only 18 left');
  // Num_Reports says 3 but the event holds 2.
  const more = Uint8Array.from(full);
  more[3] = 3;
  assert.match(parseAdvertisingReports(more)!.problem!, /report 3 of 3 cut short at byte offset 81 \(0 of 9 header bytes\)/);
  const p = new AdvertParser();
  const ads = p.push({ frame: 7, fileOffset: 0, timeUs: 0, packetType: 4, direction: 'controller-to-host', data: cut, originalLength: cut.length, truncated: true, adapter: 0 });
  assert.equal(ads.length, 1);
  assert.equal(p.problems[0]!.frame, 7);
  // Other events are not adverts.
  assert.equal(parseAdvertisingReports(leConnectionComplete(1, SHUNT)), undefined);
  assert.equal(parseAdvertisingReports(hex('0e0401030c00')), undefined);
});

test('AD structures: a length past the end, zero-length padding, names', () => {
  const ad = parseAdvertisingData(hex('020106 05ff e1021002 0a09536d61727453'));
  assert.deepEqual(ad.structures.map((s) => [s.type, s.offset]), [[0x01, 0], [0xff, 3]]);
  assert.equal(ad.problem, 'AD structure at offset 9 has length 10, only 7 bytes left');
  assert.equal(Buffer.from(ad.manufacturer[0]!.data).toString('hex'), '1002');
  const padded = parseAdvertisingData(hex('03084142 0000000000'));
  assert.deepEqual([padded.localName, padded.structures.length, padded.problem], ['AB', 1, undefined]);
});

test('Victron clear fields: too short, not a product advertisement', () => {
  assert.deepEqual(parseVictronManufacturerData(hex('1002')), { prefix: '1002', problem: 'too short' });
  assert.deepEqual(parseVictronManufacturerData(hex('100289a302b0')), { prefix: '1002', productId: 0xa389, recordType: 2, problem: 'too short' });
  assert.deepEqual(parseVictronManufacturerData(hex('100289a302b040')), { prefix: '1002', productId: 0xa389, recordType: 2, iv: 0x40b0, problem: 'too short' });
  const f = parseVictronManufacturerData(hex('100289a302b040af'))!;
  assert.deepEqual([f.keyCheck, f.encrypted!.length, f.problem], [0xaf, 0, undefined]);
  assert.equal(parseVictronManufacturerData(hex('10')), undefined);
});

test('an extended chain that never ends is given back truncated, not kept growing', () => {
  const p = new AdvertParser();
  const out: Advert[] = [];
  const part = new Uint8Array(200).fill(0x41);
  for (let i = 0; i < 10; i++) {
    const data = leExtendedAdvertisingReport([{ address: MPPT, eventType: 0x0020, sid: 2, rssi: -50, data: part }]);
    out.push(...p.push({ frame: i + 1, fileOffset: 0, timeUs: 0, packetType: 4, direction: 'controller-to-host', data, originalLength: data.length, truncated: false, adapter: 0 }));
  }
  assert.equal(out.length, 1);
  assert.equal(out[0]!.dataStatus, 'truncated');
  assert.equal(out[0]!.data.length, 1800);
  assert.deepEqual(out[0]!.frames, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(p.pending(), 1);
});
