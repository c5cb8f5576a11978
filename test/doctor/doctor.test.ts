/**
 * `vgatt doctor` on each shared capture: the findings and exit statuses a user gets, with the
 * evidence checked against tshark (connections, advertising Victron devices, ACL counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, SHARED_CAPTURES, tshark } from '../helpers/tshark.js';
import { tsharkSessions } from '../helpers/sessions.js';
import { parseCapture } from '../../src/capture/index.js';
import { writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';
import { buildZip, splitBtsnoop } from '../helpers/bugreport.js';
import { doctorToText, type DoctorReport } from '../../src/doctor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-doctor-'));
const cap = (name: string) => path.join(SHARED_CAPTURES, name);

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The JSON through the CLI; the text from the same report (the CLI's text path is checked once, on the SmartShunt). */
function doctor(file: string): { code: number | null; report: DoctorReport; text: string } {
  const j = vgatt('doctor', file, '--format', 'json');
  const report = JSON.parse(j.out) as DoctorReport;
  return { code: j.code, report, text: doctorToText(report) };
}

const codes = (r: DoctorReport) => r.findings.map((f) => f.code);
const finding = (r: DoctorReport, code: string) => r.findings.find((f) => f.code === code)!;

/** tshark: addresses that advertise Victron manufacturer data (company 0x02E1), with their counts. */
function victronAdvertisers(file: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of tshark(['-r', file, '-Y', 'btcommon.eir_ad.entry.company_id == 0x02e1', '-T', 'fields', '-e', 'bthci_evt.bd_addr']).trim().split('\n').filter(Boolean)) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
}

test('the real SmartShunt capture: Victron GATT per session with profile and why, a session without ATT, encryption, other Victron devices advertising (exit 0)', () => {
  const file = cap('smartshunt-bluez-2020-part1.btsnoop');
  const { code, report, text } = doctor(file);
  assert.equal(code, 0);
  assert.equal(report.victron, true);
  assert.deepEqual(codes(report), ['victron-gatt', 'adverts-only', 'connections-without-att', 'encrypted']);
  const sessions = tsharkSessions(file);
  assert.deepEqual(report.sessions.map((s) => s.frames), sessions.map((s) => `${s.start}-${s.end}`));
  const v = report.sessions.filter((s) => s.victron);
  assert.deepEqual(v.map((s) => s.session), [1, 2, 3, 4, 5, 6, 8]);
  for (const s of v) {
    assert.equal(s.victron!.profile, 'smartshunt');
    assert.match(s.victron!.reason!, /^GAP device name "SmartShunt HQ20234NXYN"/);
    assert.deepEqual(s.victron!.handles, { control: 0x21, lastData: 0x24, data: 0x27 });
  }
  assert.deepEqual(finding(report, 'connections-without-att').details, ['session 7: fd:d4:50:0f:6c:1b on handle 0x0040, frames 1857-1862, 0.3 s, ended by disconnect (reason 0x3e)']);
  // tshark's Encryption Change events, one per session that has one.
  const enc = tshark(['-r', file, '-Y', 'bthci_evt.code == 0x08', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number);
  assert.deepEqual(report.sessions.filter((s) => s.encryptedFrame !== undefined).map((s) => s.encryptedFrame), enc);
  // The SmartShunt advertises too, but it is connected: only the two others are "seen only in advertisements".
  const adv = victronAdvertisers(file);
  assert.deepEqual([...adv.keys()].sort(), ['e7:79:e6:1d:ef:04', 'f9:8e:1c:ec:9c:72', 'fd:d4:50:0f:6c:1b']);
  assert.deepEqual(report.victronAdverts.map((d) => [d.address, d.adverts]).sort(), [...adv].sort());
  assert.match(text, /e7:79:e6:1d:ef:04, product 0xA3D0 Orion Smart 12V\/12V-30A Buck-Boost Converter: 33 advert\(s\)/);
  assert.match(text, /^\[ok\] Victron GATT data in 7 session\(s\)\.$/m);
  const cli = vgatt('doctor', file);
  assert.equal(cli.code, 0);
  assert.equal(cli.out, text);
});

test('the Govee Android log: GATT of another device, Victron devices only advertising with name, product and record type (exit 3)', () => {
  const file = cap('govee-h5100-android.btsnoop');
  const { code, report, text } = doctor(file);
  assert.equal(code, 3);
  assert.equal(report.victron, false);
  assert.deepEqual(codes(report), ['no-victron', 'other-gatt', 'adverts-only', 'adverts-no-key']);
  // The BMV-712's product adverts (tshark: manufacturer data 10 02 81 a3 02 .. .. ac ...) need key 0xac..; the log holds none.
  assert.deepEqual(finding(report, 'adverts-no-key').details, ['df:80:c6:ad:51:89: key check byte 0xac; no key in the capture (no 0xEC65 value with that first byte)']);
  assert.equal(report.sessions.length, tsharkSessions(file).length);
  assert.match(finding(report, 'other-gatt').details[1]!, /^session 2: c2:35:33:30:25:50, 10302 ATT PDU\(s\), frames 837-18241; services 1800, 1801, 494e5445-4c4c-495f-524f-434b535f4857/);
  const adv = victronAdvertisers(file);
  assert.deepEqual(report.victronAdverts.map((d) => [d.address, d.adverts]).sort(), [...adv].sort());
  const bmv = report.victronAdverts.find((d) => d.address === 'df:80:c6:ad:51:89')!;
  assert.deepEqual([bmv.name, bmv.productId, bmv.productName, bmv.recordTypes], ['Aeolus SmartBMV', 0xa381, 'BMV-712 Smart', [{ type: 2, name: 'Battery monitor' }]]);
  assert.match(text, /df:80:c6:ad:51:89 "Aeolus SmartBMV", product 0xA381 BMV-712 Smart, record type 0x02 \(Battery monitor\): 33 advert\(s\)/);
});

test('adverts-only Govee pcap: only HCI commands and events, no ACL (exit 3)', () => {
  const file = cap('govee-linux-dlt201.pcap');
  const { code, report } = doctor(file);
  assert.equal(code, 3);
  assert.deepEqual(codes(report), ['no-victron', 'no-acl']);
  const acl = tshark(['-r', file, '-Y', 'hci_h4.type == 0x02']).trim();
  assert.equal(acl, '');
  const cmds = tshark(['-r', file, '-Y', 'hci_h4.type == 0x01', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  const evts = tshark(['-r', file, '-Y', 'hci_h4.type == 0x04', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  assert.deepEqual([report.hci.commands, report.hci.events, report.hci.acl], [cmds, evts, 0]);
  assert.match(finding(report, 'no-acl').details[1]!, /only scanned/);
});

test('Wireshark pcapng and the BLE UART battery monitor: other GATT services, no Victron (exit 3)', () => {
  const govee = doctor(cap('govee-h5074-wireshark.pcapng'));
  assert.equal(govee.code, 3);
  assert.deepEqual(codes(govee.report), ['no-victron', 'other-gatt']);
  const uart = doctor(cap('bms-nordic-uart.pcapng'));
  assert.equal(uart.code, 3);
  assert.deepEqual(codes(uart.report), ['no-victron', 'other-gatt']);
  assert.match(finding(uart.report, 'other-gatt').details[0]!, /6e400001-b5a3-f393-e0a9-e50e24dcca9e/);
  // The pcapng starts mid-connection: one session without a connection event, every ATT PDU in it.
  const att = tshark(['-r', cap('bms-nordic-uart.pcapng'), '-Y', 'btatt', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  assert.deepEqual(uart.report.sessions.map((s) => s.attPdus), [att]);
});

test('not a capture (exit 1) and an Android filtered log (how to switch to the full one)', async () => {
  const bad = doctor(path.join(SHARED_CAPTURES, 'README.md'));
  assert.equal(bad.code, 1);
  assert.deepEqual(codes(bad.report), ['not-a-capture']);
  assert.match(bad.text, /^\[error\] Not a capture that can be read\.\n {4}.*README\.md: not a capture file: unrecognised first bytes 23205265616c2063 at byte offset 0/m);
  // The shared Android log as the filtered mode writes it: ACL packets cut to 14 bytes.
  const { records } = await parseCapture(readFileSync(cap('govee-h5100-android.btsnoop')));
  const packets: HciPacket[] = records.map((r) => ({ type: r.packetType!, dir: r.direction === 'controller-to-host' ? 'received' : 'sent', data: r.data, timeUs: r.timeUs, ...(r.packetType === 2 ? { keep: 14 } : {}) }));
  const filtered = path.join(dir, 'btsnoop_hci.log.filtered');
  writeFileSync(filtered, writeBtsnoop(packets));
  const f = doctor(filtered);
  assert.equal(f.code, 3);
  assert.equal(codes(f.report)[0], 'filtered-log');
  assert.match(finding(f.report, 'filtered-log').details.join('\n'), /Enable Bluetooth HCI snoop log > Enabled \(not "Filtered"\)/);
});

test('decode and report on a capture without Victron traffic: one line pointing at doctor, no empty table', () => {
  for (const cmd of ['decode', 'report']) {
    const r = vgatt(cmd, cap('govee-h5074-wireshark.pcapng'));
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.equal(r.err, `vgatt: no Victron traffic in ${cap('govee-h5074-wireshark.pcapng')}; run 'vgatt doctor ${cap('govee-h5074-wireshark.pcapng')}' to see what it holds and why\n`);
  }
});

test('a bug report zip with the rotated pair: the session Android\'s rotation split is one session across both logs', async () => {
  const [last, current] = splitBtsnoop(readFileSync(cap('govee-h5100-android.btsnoop')), 9000);
  const zip = path.join(dir, 'bugreport.zip');
  const logs = 'FS/data/misc/bluetooth/logs';
  writeFileSync(zip, await buildZip([{ name: `${logs}/btsnoop_hci.log.last`, data: last }, { name: `${logs}/btsnoop_hci.log`, data: current }]));
  const { code, report } = doctor(zip);
  assert.equal(code, 3);
  assert.deepEqual(report.inputs.map((i) => [i.path, i.records]), [[`${zip}:${logs}/btsnoop_hci.log.last`, 9000], [`${zip}:${logs}/btsnoop_hci.log`, 9509]]);
  // tshark on the whole log: session 2 runs from frame 837 to 18241, i.e. 9241 of the second file.
  assert.deepEqual(tsharkSessions(cap('govee-h5100-android.btsnoop')).map((s) => [s.start, s.end]), [[467, 834], [837, 18241], [18289, 18401]]);
  const att = tshark(['-r', cap('govee-h5100-android.btsnoop'), '-Y', 'btatt && frame.number > 837 && frame.number < 18241', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
  const s2 = report.sessions[1]!;
  assert.deepEqual([s2.frames, s2.file, s2.endFile, s2.attPdus], ['837-9241', `${zip}:${logs}/btsnoop_hci.log.last`, `${zip}:${logs}/btsnoop_hci.log`, att]);
});

test('Instant Readout adverts: doctor says which devices the capture holds a key for (0xEC65 read by the app) and which need --key', async () => {
  const { readoutCapture, SHUNT, MPPT } = await import('../helpers/readout-capture.js');
  const { packets, keyFrame } = readoutCapture();
  const file = path.join(dir, 'readout.btsnoop');
  writeFileSync(file, writeBtsnoop(packets));
  const { code, report } = doctor(file);
  assert.equal(code, 0); // the SmartShunt's GATT session is Victron data
  const f = finding(report, 'adverts-no-key');
  // The vectors' check bytes are the first bytes of their keys (victron-ble's vectors): 0xaf SmartShunt, 0xad MPPT.
  const shunt = report.victronAdverts.find((d) => d.address === SHUNT.addr)!;
  assert.deepEqual([shunt.keyChecks, shunt.keySource], [[0xaf], `frame ${keyFrame}`]);
  const mppt = report.victronAdverts.find((d) => d.address === MPPT.addr)!;
  assert.deepEqual([mppt.keyChecks, mppt.keySource], [[0xad], undefined]);
  assert.match(f.title, /^4 Victron device\(s\) send encrypted Instant Readout adverts and the capture holds no key for them/);
  assert.ok(f.details!.includes(`${SHUNT.addr}: key check byte 0xaf; key taken from frame ${keyFrame}`), f.details!.join('\n'));
  assert.ok(f.details!.includes(`${MPPT.addr}: key check byte 0xad; no key in the capture (no 0xEC65 value with that first byte)`), f.details!.join('\n'));
});
