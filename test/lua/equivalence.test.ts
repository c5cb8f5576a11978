/**
 * The generated dissector, inside tshark, shows the same records as `vgatt decode` for every kind
 * (values, gets, sets, responses, value responses, device lists, control, padding, unknown), frame by
 * frame, in one pass, in two passes (`tshark -2`) and in two passes with a display filter
 * (`-2 -Y victron`), on every sample capture, fixture and shared real capture, and on two devices with
 * overlapping default layouts interleaved in one log, with and without discovery.
 *
 * Where a record shows: in the frame of its last byte, as vgatt decode reports it. A record that only
 * a later event completes (a disconnection, the end of the capture, a later piece that shows where a
 * run of unknown bytes ends) needs a pass that knows the future: tshark -2 with a filter or the GUI
 * (plain -2 does not dissect in its first pass). One pass, and plain -2, show exactly the others.
 * Also: the committed dissector is the generator's current output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateLua } from '../../src/lua/generate.js';
import { capturesIn, REPO, SHARED_CAPTURES, tshark } from '../helpers/tshark.js';
import { profiles } from '../helpers/decode.js';
import { att, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop } from '../helpers/capture-writer.js';
import { discovery, Session } from '../helpers/session.js';
import { COLUMN_FIELDS, decodeView, LUA, luaColumnView, luaView, only, type FrameView } from './records.js';

function same(lua: Map<number, FrameView>, ts: Map<number, FrameView>, what: string): void {
  const frames = (m: Map<number, FrameView>) => [...m.keys()].sort((a, b) => a - b);
  for (const frame of new Set([...frames(lua), ...frames(ts)])) {
    assert.deepEqual(lua.get(frame) ?? {}, ts.get(frame) ?? {}, `${what}: frame ${frame}`);
  }
}

async function equivalent(file: string): Promise<void> {
  const ts = await decodeView(file);
  same(luaView(file, []), ts.onTime, 'one pass');
  same(luaView(file, ['-2']), ts.onTime, 'two passes');
  same(luaView(file, ['-2', '-Y', 'victron']), ts.all, 'two passes, -Y victron');
  // Summary output (no visible tree: the path of the GUI's packet list and of display filters)
  same(luaColumnView(file, []), only(ts.onTime, COLUMN_FIELDS), 'one pass, unseen tree (custom columns)');
}

test('dissector/victron.lua is the generator output of the shipped profiles', () => {
  assert.equal(readFileSync(LUA, 'utf8'), generateLua(profiles), 'stale: run `npx vgatt lua -o dissector/victron.lua`');
});

// Every capture we ship, every fixture, and the real SmartShunt session.
const files = [...capturesIn(path.join(REPO, 'captures')), ...capturesIn(path.join(REPO, 'test/fixtures')), path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop')];

for (const file of files) {
  test(`Lua dissector equals vgatt decode, every record kind: ${path.basename(file)}`, async () => {
    const ts = await decodeView(file);
    assert.ok(ts.all.size > 0, 'the capture has Victron records');
    await equivalent(file);
  });
}

// Two devices at once whose default layouts overlap: SmartShunt (Control 0x21, LastData 0x24, Data
// 0x27) and Orion (Control 0x1b, LastData 0x1e, Data 0x21): 0x21 is Control on one, Data on the other.
const SHUNT = 0x0040;
const ORION = 0x0041;
const SHUNT_VALUES = ['080319ed8d422f05', '080319ed8c4446fcffff', '080319ed8e42f3ff', '0803190fff421027'];
const ORION_VALUES = ['080019edbb42c504', '080019eddb425401', '08001901204412070000', '080019edbb42c604'];

function twoDevices(withDiscovery: boolean): string {
  const s = new Session(Date.UTC(2026, 5, 4, 9, 0, 0) * 1000);
  s.ev(leConnectionComplete(SHUNT, 'fd:d4:50:0f:6c:1b'));
  if (withDiscovery) discovery(s, SHUNT, 'SmartShunt HQ20234NXYN', 31);
  s.send(SHUNT, att.writeCmd(0x21, hex('fa80ff')));
  s.send(SHUNT, att.writeCmd(0x21, hex('f980')));
  s.ev(leConnectionComplete(ORION, 'e2:2b:9c:41:07:aa'));
  if (withDiscovery) discovery(s, ORION, 'Orion Smart', 25);
  s.send(ORION, att.writeCmd(0x1b, hex('fa80ff')));
  s.send(ORION, att.writeCmd(0x1b, hex('f980')));
  // gets, each split over Data and LastData, interleaved
  s.send(SHUNT, att.writeCmd(0x27, hex('05038119ed')));
  s.send(ORION, att.writeCmd(0x21, hex('05008119ed')));
  s.send(SHUNT, att.writeCmd(0x24, hex('8d')));
  s.send(ORION, att.writeCmd(0x1e, hex('bb')));
  for (let round = 0; round < 3; round++) {
    // each device's values as one transfer cut into 7-byte pieces; pieces of the two alternate
    const cut = (msgs: string[]) => {
      const b = hex(msgs.join(''));
      const out: Uint8Array[] = [];
      for (let i = 0; i < b.length; i += 7) out.push(b.subarray(i, i + 7));
      return out;
    };
    const a = cut(SHUNT_VALUES);
    const o = cut(ORION_VALUES);
    for (let i = 0; i < Math.max(a.length, o.length); i++) {
      if (i < a.length) s.recv(SHUNT, att.notify(i === a.length - 1 ? 0x24 : 0x27, a[i]!));
      if (i < o.length) s.recv(ORION, att.notify(i === o.length - 1 ? 0x1e : 0x21, o[i]!));
      // the SmartShunt grants a credit on its Control (0x21) in the middle of its transfer
      if (i === 1) s.recv(SHUNT, att.notify(0x21, hex('f901')));
    }
    s.recv(SHUNT, att.notify(0x21, hex('f901')));
    s.recv(ORION, att.notify(0x1b, hex('f901')));
  }
  // a transfer the disconnection cuts short, then the Orion's last value
  s.recv(SHUNT, att.notify(0x27, hex('080319ed')));
  s.ev(disconnectionComplete(SHUNT));
  s.recv(ORION, att.notify(0x1e, hex(ORION_VALUES[0]!)));
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-lua-two-'));
  const file = path.join(dir, `two-devices-${withDiscovery ? 'discovery' : 'no-discovery'}.btsnoop`);
  writeFileSync(file, writeBtsnoop(s.packets));
  return file;
}

for (const withDiscovery of [true, false]) {
  test(`two devices with overlapping default layouts, interleaved, ${withDiscovery ? 'both with discovery' : 'no discovery'}: every value of both, as vgatt decode`, async () => {
    const file = twoDevices(withDiscovery);
    const ts = await decodeView(file);
    const values = [...ts.all.values()].flatMap((v) => v['register'] ?? []);
    // 3 rounds of 4 values per device, and the Orion's last one: vgatt decode loses none
    assert.equal(values.length, 25);
    assert.equal(values.filter((r) => r === '0xed8d').length, 3);
    assert.equal(values.filter((r) => r === '0xedbb').length, 7);
    await equivalent(file);
  });
}

// Damaged transfers: the resynchronisation rules of src/victron/stream.ts (issue 13). Pieces on a
// SmartShunt's Data (0x27), the last of each transfer on LastData (0x24); app writes the same way.
const DATA = 0x27;
const LAST = 0x24;
/** Each transfer: its pieces (hex), the last one on LastData unless `open` leaves the transfer waiting. */
const DAMAGED: { d2h?: string[]; h2d?: string[]; open?: boolean }[] = [
  // a malformed value met while waiting to resynchronise does not take the get values before it
  { d2h: ['c0 050381190110 0803', '19ed8d05 0803190fff421027'] },
  // a run that does not frame continues into the next piece, never parsed from its first byte there
  { d2h: ['087d', '0a140a 050381190110 0803190fff421027'] },
  // an unknown run over three pieces, valid messages in the next piece (still on Data)
  { d2h: ['c0', 'c1', 'c2', '050381190110 0803190fff421027', '080319ed8d422f05'] },
  // a damaged byte mid-stream (the byte string head of the 2nd value is 1c): 7-byte pieces
  { d2h: ['080319ed8d422f', '050803' + '19ed8c1c', '46fcffff080319', 'ed8e42f3ff0803', '190fff421027'] },
  // a message spanning pieces after damage
  { d2h: ['c0c1 0803', '19ed8d', '422f05 080319ed8e42f3ff', '0803190fff421027'] },
  // clean messages, then a damage of their own: it does not cost them
  { d2h: ['c0 080319ed8d422f05 c1 0803190fff421027', '080319ed8e42f3ff'] },
  // LastData while the run waits for more: the incomplete message is unknown
  { d2h: ['c0 0803', '19'] },
  // an app write after damage, spanning pieces
  { h2d: ['c0 05038119ed', '8d'] },
  // a run the disconnection cuts short
  { d2h: ['c0c1'], open: true },
];

function damaged(): string {
  const s = new Session(Date.UTC(2026, 5, 4, 10, 0, 0) * 1000);
  const connect = () => {
    s.ev(leConnectionComplete(SHUNT, 'fd:d4:50:0f:6c:1b'));
    s.send(SHUNT, att.writeCmd(0x21, hex('fa80ff')));
    s.send(SHUNT, att.writeCmd(0x21, hex('f980')));
  };
  s.ev(leConnectionComplete(SHUNT, 'fd:d4:50:0f:6c:1b'));
  discovery(s, SHUNT, 'SmartShunt HQ20234NXYN', 31);
  s.send(SHUNT, att.writeCmd(0x21, hex('fa80ff')));
  s.send(SHUNT, att.writeCmd(0x21, hex('f980')));
  for (const t of DAMAGED) {
    for (const [dir, pieces] of [['d2h', t.d2h], ['h2d', t.h2d]] as const) {
      pieces?.forEach((p, i) => {
        const h = i === pieces.length - 1 && !t.open ? LAST : DATA;
        if (dir === 'd2h') s.recv(SHUNT, att.notify(h, hex(p)));
        else s.send(SHUNT, att.writeCmd(h, hex(p)));
      });
    }
  }
  s.ev(disconnectionComplete(SHUNT));
  connect();
  // more than 64 KiB without a resynchronisation point: dropped as unknown, and what follows still resynchronises
  for (let i = 0; i < 130; i++) s.recv(SHUNT, att.notify(DATA, hex('c0'.repeat(512))));
  s.recv(SHUNT, att.notify(DATA, hex('050381190110 0803190fff421027')));
  s.recv(SHUNT, att.notify(LAST, hex('080319ed8d422f05')));
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-lua-resync-'));
  const file = path.join(dir, 'damaged-transfers.btsnoop');
  writeFileSync(file, writeBtsnoop(s.packets));
  return file;
}

test('damaged transfers (resynchronisation, runs waiting for the next piece, 64 KiB cap): every record as vgatt decode', async () => {
  const file = damaged();
  const ts = await decodeView(file);
  // (long runs of c0 written as their length)
  const unknown = [...ts.all.keys()].sort((a, b) => a - b).flatMap((f) => ts.all.get(f)!['unknown'] ?? []).map((u) => (/^(c0){100,}$/.test(u) ? `c0 x ${u.length / 2}` : u));
  // By hand, from the rules in stream.ts: one run per damage, none swallowing a valid neighbour.
  assert.deepEqual(unknown, ['c0', '080319ed8d05', '087d0a140a', 'c0c1c2', '080319ed8c1c46fc', 'c0c1', 'c0', 'c1', 'c0', '080319', 'c0', 'c0c1', `c0 x ${129 * 512}`, 'c0 x 512']);
  // Records only the next piece completes are shown in one pass in the frame of their last byte, not before.
  assert.ok([...ts.onTime.values()].length < [...ts.all.values()].length);
  await equivalent(file);
});

// Random damaged transfers (a fixed seed): messages of every kind, one or two damaged bytes, random
// cuts, some transfers left open for the next one. Golden: vgatt decode of the same capture.
function randomDamaged(seed: number, transfers: number): string {
  let x = seed;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const POOL = ['080319ed8d422f05', '080319ed8c4446fcffff', '08031903e841a0', '05038219ed8d19ed8c', '0603821903e84104', '07030600', '090319ed8d00', '01', '0282000a', '0e00016363616263', '0f0001420102', '10000120', '030a', 'ff'];
  const s = new Session(Date.UTC(2026, 5, 4, 11, 0, 0) * 1000);
  s.ev(leConnectionComplete(SHUNT, 'fd:d4:50:0f:6c:1b'));
  discovery(s, SHUNT, 'SmartShunt HQ20234NXYN', 31);
  s.send(SHUNT, att.writeCmd(0x21, hex('fa80ff')));
  for (let i = 0; i < transfers; i++) {
    const b = hex(Array.from({ length: 2 + rnd(8) }, () => POOL[rnd(POOL.length)]).join(''));
    for (let d = 1 + rnd(2); d > 0; d--) b[rnd(b.length)] = rnd(256);
    const open = rnd(5) === 0;
    const toDevice = rnd(3) === 0;
    for (let at = 0; at < b.length; ) {
      const end = Math.min(b.length, at + 1 + rnd(20));
      const h = end === b.length && !open ? LAST : DATA;
      if (toDevice) s.send(SHUNT, att.writeCmd(h, b.subarray(at, end)));
      else s.recv(SHUNT, att.notify(h, b.subarray(at, end)));
      at = end;
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-lua-random-'));
  const file = path.join(dir, `random-damaged-${seed}.btsnoop`);
  writeFileSync(file, writeBtsnoop(s.packets));
  return file;
}

test('random damaged transfers (fixed seed, 150 transfers): every record as vgatt decode', async () => {
  const file = randomDamaged(20261125, 150);
  const ts = await decodeView(file);
  const kinds = [...ts.all.values()];
  assert.ok(kinds.filter((v) => v['unknown']).length >= 100, 'damage makes unknown runs');
  assert.ok(kinds.filter((v) => v['message']).length >= 100, 'messages survive around them');
  await equivalent(file);
});

test('other devices on default handles are left alone (no Victron tree, btatt keeps the value)', () => {
  const file = path.join(SHARED_CAPTURES, 'govee-h5100-android.btsnoop');
  // The Govee log also holds a neighbour's Victron Instant Readout adverts (HCI events): only ATT frames matter here.
  assert.equal(tshark(['-X', `lua_script:${LUA}`, '-r', file, '-Y', 'victron && btatt']).trim(), '');
  const withLua = tshark(['-X', `lua_script:${LUA}`, '-r', file, '-Y', 'btatt.value', '-T', 'fields', '-e', 'frame.number', '-e', 'btatt.value']);
  const without = tshark(['-r', file, '-Y', 'btatt.value', '-T', 'fields', '-e', 'frame.number', '-e', 'btatt.value']);
  assert.equal(withLua, without);
});
