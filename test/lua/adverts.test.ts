/**
 * The generated dissector's Instant Readout part, inside tshark 4.0 (registered on
 * btcommon.eir_ad.manufacturer_company_id for 0x02E1), shows for every Victron advert what
 * `vgatt adverts` shows: clear fields always; with the keys in the preference victron.keys, every
 * decoded value (one filter field per record field: victron.ir.battery_voltage, ...); otherwise the
 * same reason. The capture holds every public vector of test/helpers/readout-vectors.ts, each from its
 * own address, plus adverts that cannot be decoded for each reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, tshark } from '../helpers/tshark.js';
import { adStructures, hex, leAdvertisingReport, leExtendedAdvertisingReport, writeBtsnoop, type HciPacket } from '../helpers/capture-writer.js';
import { E2E } from '../helpers/readout-vectors.js';
import { MPPT, SBP, SHUNT, VEBUS, readoutCapture } from '../helpers/readout-capture.js';
import { recordTable } from '../../src/adverts/records.js';

const LUA = path.join(REPO, 'dissector/victron.lua');
const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-lua-adverts-'));
const { packets } = readoutCapture();
let t = packets.at(-1)!.timeUs;
const victronAd = (md: string) => adStructures([0x01, hex('06')], [0xff, Uint8Array.from([0xe1, 0x02, ...hex(md)])]);
const push = (data: Uint8Array) => packets.push({ type: 4, dir: 'received', data, timeUs: (t += 1000) } as HciPacket);
const keys: Record<string, string> = { [SHUNT.addr]: SHUNT.key, [MPPT.addr]: MPPT.key, [VEBUS.addr]: VEBUS.key, [SBP.addr]: 'ff' + SBP.key.slice(2) };
E2E.forEach((v, i) => {
  const addr = `e2:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`;
  keys[addr] = v.key;
  // Every other vector in an extended report, two reports in one legacy event for the rest.
  if (i % 2) push(leExtendedAdvertisingReport([{ address: addr, rssi: -50 - i, data: victronAd(v.md) }]));
  else push(leAdvertisingReport([{ address: 'aa:bb:cc:dd:ee:ff', data: adStructures([0x09, 'other']), rssi: -99 }, { address: addr, data: victronAd(v.md), rssi: -50 - i }]));
});
keys['e3:00:00:00:00:01'] = E2E[0]!.key;
push(leAdvertisingReport([{ address: 'e3:00:00:00:00:01', data: victronAd('100242a00e6207adceb37b605d7e0ee21b24df5c'), rssi: -60 }])); // unknown record type 0x0e
push(leAdvertisingReport([{ address: 'e3:00:00:00:00:02', data: victronAd('100289a3'), rssi: -60 }])); // too short
push(leAdvertisingReport([{ address: 'e3:00:00:00:00:03', data: victronAd('0241af77d6973bb69dfc59ac6ce07b10'), rssi: -60 }])); // not a product advertisement
const FILE = path.join(tmp, 'adverts.btsnoop');
writeFileSync(FILE, writeBtsnoop(packets));
const KEYS = path.join(tmp, 'keys.json');
writeFileSync(KEYS, JSON.stringify(keys));
const PREF = Object.entries(keys).map(([a, k]) => `${a}=${k}`).join(',');

const snake = (id: string) => id.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const ids = [...new Set([...recordTable().records.values()].flatMap((r) => r.fields.flatMap((f) => (f.cases ? Object.values(f.cases).map((c) => c.id) : [f.id]))))];
const CLEAR = ['device', 'product_id', 'record_type', 'iv', 'key_check', 'reason', 'decrypted'];

interface View {
  clear: Record<string, string>;
  values: Record<string, string>;
}

/** Per frame, tshark's victron.ir fields (one Victron advert per frame in this capture). */
function luaViews(args: string[]): Map<number, View> {
  const fields = [...CLEAR.map((c) => `victron.ir.${c}`), ...ids.map((id) => `victron.ir.${snake(id)}`)];
  const out = tshark(['-X', `lua_script:${LUA}`, ...args, '-r', FILE, '-Y', 'btcommon.eir_ad.entry.company_id == 0x02e1', '-T', 'fields', '-E', 'occurrence=f', '-e', 'frame.number', ...fields.flatMap((f) => ['-e', f])]);
  const m = new Map<number, View>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const v: View = { clear: {}, values: {} };
    CLEAR.forEach((c, i) => {
      if (cols[1 + i]) v.clear[c] = cols[1 + i]!;
    });
    ids.forEach((id, i) => {
      const c = cols[1 + CLEAR.length + i];
      if (c) v.values[id] = c;
    });
    m.set(Number(cols[0]), v);
  }
  return m;
}

/** The same view from `vgatt adverts --format ndjson`. */
function tsViews(extra: string[]): Map<number, View> {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'adverts', FILE, '--no-capture-keys', '--format', 'ndjson', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = new Map<number, View>();
  for (const line of r.stdout.trim().split('\n')) {
    const o = JSON.parse(line);
    const v: View = { clear: { device: o.device }, values: {} };
    if (o.productId !== undefined) v.clear.product_id = '0x' + o.productId.toString(16).padStart(4, '0');
    if (o.recordType !== undefined) v.clear.record_type = '0x' + o.recordType.toString(16).padStart(2, '0');
    if (o.iv !== undefined) v.clear.iv = '0x' + o.iv.toString(16).padStart(4, '0');
    if (o.keyCheck !== undefined) v.clear.key_check = '0x' + o.keyCheck.toString(16).padStart(2, '0');
    if (o.reason) v.clear.reason = o.reason;
    if (o.plaintext) v.clear.decrypted = o.plaintext;
    for (const f of o.fields ?? []) {
      if (f.value === null) continue;
      // Wireshark's view: numbers as tshark prints doubles, enums and flags as their text, hex fields as 0x%08x.
      v.values[f.id] = typeof f.value === 'number' ? (f.text.startsWith('0x') ? '0x' + f.raw.toString(16).padStart(8, '0') : String(f.value)) : f.text;
    }
    m.set(o.frame, v);
  }
  return m;
}

function same(lua: Map<number, View>, ts: Map<number, View>): void {
  assert.deepEqual([...lua.keys()], [...ts.keys()], 'frames with Victron adverts');
  for (const [frame, v] of ts) assert.deepEqual(lua.get(frame), v, `frame ${frame}`);
}

test('with victron.keys set, the dissector decodes every advert as vgatt adverts does (every vector, every field)', () => {
  const ts = tsViews(['--keys', KEYS]);
  const decoded = [...ts.values()].filter((v) => Object.keys(v.values).length > 0).length;
  assert.equal(decoded, 6 + E2E.length, 'decoded adverts: the SmartShunt 4 times, the MPPT, the VE.Bus device and every vector');
  same(luaViews(['-o', `victron.keys:${PREF}`]), ts);
  // Two passes (as the GUI) show the same: nothing here depends on other frames.
  same(luaViews(['-2', '-o', `victron.keys:${PREF}`]), ts);
  // Values straight from the vectors' authors, read back from Wireshark's own fields.
  const lua = luaViews(['-o', `victron.keys:${PREF}`]);
  const mppt = [...lua.values()].find((v) => v.clear.device === 'e2:00:00:00:00:01')!;
  assert.deepEqual(mppt.values, { deviceState: 'Absorption', chargerError: 'No error', batteryVoltage: '13.88', batteryCurrent: '1.4', yieldToday: '0.03', pvPower: '19', loadCurrent: '0' });
});

test('without keys the dissector shows the clear fields and the same reasons', () => {
  const ts = tsViews([]);
  const lua = luaViews([]);
  same(lua, ts);
  const reasons = [...lua.values()].map((v) => v.clear.reason);
  assert.deepEqual([...new Set(reasons)].sort(), ['no key', 'not a product advertisement', 'too short', 'unknown record type']);
  const shunt = [...lua.values()].find((v) => v.clear.device === SHUNT.addr)!;
  assert.deepEqual(shunt.clear, { device: SHUNT.addr, product_id: '0xa389', record_type: '0x02', iv: '0x40b0', key_check: '0xaf', reason: 'no key' });
});

test('a key whose first byte is not the check byte is not used: key does not match', () => {
  const lua = luaViews(['-o', `victron.keys:${SBP.addr}=ff${SBP.key.slice(2)}`]);
  const sbp = [...lua.values()].find((v) => v.clear.device === SBP.addr)!;
  assert.equal(sbp.clear.reason, 'key does not match');
  assert.deepEqual(sbp.values, {});
});
