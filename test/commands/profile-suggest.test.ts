/**
 * `vgatt profile suggest`, the whole loop: a SmartShunt session with registers no profile defines ->
 * suggest -> edit the names -> `vgatt decode --profiles DIR` and the dissector from `vgatt lua --profiles DIR`
 * (run by tshark) show the new names. The type guesses are checked on values whose types we chose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { disconnectionComplete, hex, leConnectionComplete, att, writeBtsnoop } from '../helpers/capture-writer.js';
import { deviceTransfer, discovery, Session } from '../helpers/session.js';
import { REPO, tshark } from '../helpers/tshark.js';
import { guessField, loadProfileFile } from '../../src/profiles/index.js';
import { profileIdFrom } from '../../src/commands/profile.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'vgatt-suggest-'));

function vgatt(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A SmartShunt session: battery voltage (known) and four registers not in ve_regs.h. */
function sample(): string {
  const s = new Session(1_780_000_000_000_000);
  const C = 0x40;
  const h = { control: 0x21, lastData: 0x24, data: 0x27 };
  s.ev(leConnectionComplete(C, 'fd:d4:50:0f:6c:1b'));
  discovery(s, C, 'SmartShunt HQ2023', 31);
  s.send(C, att.writeCmd(h.control, hex('fa80ff')));
  s.send(C, att.writeCmd(h.lastData, hex('0303')));
  // get 0xEC05: never answered
  s.send(C, att.writeCmd(h.lastData, hex('05038119ec05')));
  const signed = ['fdff', 'ffff', '0100', '0200', 'feff']; // -3, -1, 1, 2, -2: crosses 0x8000 between neighbours
  const counter = ['64000000', 'c8000000', '2c010000']; // 100, 200, 300
  const text = ['4851', '485132', '48513233']; // "HQ", "HQ2", "HQ23"
  for (let i = 0; i < 5; i++) {
    s.t += 1_000_000;
    const msgs = [{ hex: '080319ed8d422f05' }, { hex: `080319ed0142${signed[i]}` }];
    if (i < 3) msgs.push({ hex: `080319ee1844${counter[i]}` }, { hex: `080319eb0c4${text[i]!.length / 2}${text[i]}` });
    deviceTransfer(s, C, h, msgs, 20);
  }
  s.ev(disconnectionComplete(C));
  const file = path.join(tmp, 'sample.btsnoop');
  writeFileSync(file, writeBtsnoop(s.packets));
  return file;
}

test('type guesses from sizes and values', () => {
  const ints = (n: number, umin: number, umax: number, smin: number, smax: number, signedSteps = 0, unsignedSteps = 0) => new Map([[n, { umin, umax, smin, smax, signedSteps, unsignedSteps }]]);
  assert.equal(guessField({ sizes: [2], ints: ints(2, 1, 65533, -3, 2, 3, 0), allText: false }).type, 'sn16');
  assert.equal(guessField({ sizes: [2], ints: ints(2, 1300, 1310, 1300, 1310, 0, 5), allText: false }).type, 'un16');
  assert.deepEqual(guessField({ sizes: [2], ints: ints(2, 10, 65535, -1, 10), allText: false }).special, { '65535': 'Not Available (guess: all ones)' });
  assert.equal(guessField({ sizes: [4], ints: ints(4, 100, 300, 100, 300), allText: false }).type, 'un32');
  assert.equal(guessField({ sizes: [1], allText: false }).type, 'un8');
  assert.equal(guessField({ sizes: [2, 3, 4], allText: true }).type, 'string');
  assert.equal(guessField({ sizes: [6], allText: false }).type, 'bytes');
  assert.equal(guessField({ sizes: [], allText: false }).type, 'bytes');
  assert.equal(profileIdFrom('/x/My SmartShunt.json'), 'my-smartshunt');
});

test('the loop: suggest -> edit names -> decode and the Lua dissector show them', () => {
  const cap = sample();
  const dir = path.join(tmp, 'profiles');
  mkdirSync(dir);
  const out = path.join(dir, 'my-shunt.json');
  const r = vgatt('profile', 'suggest', cap, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /4 register\(s\) not named by 'smartshunt'/);
  const p = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(p.id, 'my-shunt');
  assert.deepEqual(p.extends, ['smartshunt']);
  assert.deepEqual(p.match.names, ['^SmartShunt', '^BMV']);
  const byId = Object.fromEntries(p.registers.map((x: { id: string }) => [x.id, x]));
  assert.deepEqual(Object.keys(byId), ['0xEB0C', '0xEC05', '0xED01', '0xEE18']);
  assert.deepEqual(byId['0xED01'].fields, [{ name: 'Unknown 0xED01', type: 'sn16' }]);
  assert.equal(byId['0xEE18'].fields[0].type, 'un32');
  assert.equal(byId['0xEB0C'].fields[0].type, 'string');
  assert.equal(byId['0xEC05'].fields[0].type, 'bytes');
  assert.match(byId['0xEC05'].description, /1 request\(s\)/);
  assert.match(byId['0xED01'].description, /sizes 2 byte\(s\) x5; samples fdff \(frame \d+\), ffff \(frame \d+\)/);
  assert.match(byId['0xED01'].source, /values -3 \.\. 2 read as signed/);
  loadProfileFile(out); // schema-valid

  // Edit: names (and a scale) as a user would.
  byId['0xED01'].name = 'Shunt offset';
  byId['0xED01'].fields[0].name = 'Shunt offset';
  byId['0xED01'].fields[0].scale = 0.1;
  byId['0xED01'].fields[0].unit = 'A';
  byId['0xEE18'].name = byId['0xEE18'].fields[0].name = 'Pulse counter';
  writeFileSync(out, JSON.stringify(p, null, 2));

  const d = vgatt('decode', cap, '--profiles', dir, '--format', 'ndjson');
  assert.equal(d.code, 0, d.err);
  const recs = d.out.trim().split('\n').map((l) => JSON.parse(l));
  const offs = recs.filter((x) => x.register === 0xed01);
  assert.deepEqual(offs.map((x) => [x.registerName, x.value, x.unit, x.profile]), [
    ['Shunt offset', -0.3, 'A', 'my-shunt'], ['Shunt offset', -0.1, 'A', 'my-shunt'], ['Shunt offset', 0.1, 'A', 'my-shunt'], ['Shunt offset', 0.2, 'A', 'my-shunt'], ['Shunt offset', -0.2, 'A', 'my-shunt'],
  ]);
  assert.deepEqual(recs.filter((x) => x.register === 0xee18).map((x) => x.value), [100, 200, 300]);
  assert.equal(recs.find((x) => x.register === 0xed8d).registerName, 'Battery voltage', 'inherited from smartshunt');

  const lua = path.join(tmp, 'mine.lua');
  const l = vgatt('lua', '--profiles', dir, '-o', lua);
  assert.equal(l.code, 0, l.err);
  const rows = tshark(['-X', `lua_script:${lua}`, '-r', cap, '-Y', 'victron.register == 0xed01 || victron.register == 0xee18', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'victron.register_name']);
  const names = new Set(rows.split('\n').filter(Boolean).flatMap((x) => x.split(';')).filter((n) => n === 'Shunt offset' || n === 'Pulse counter'));
  assert.deepEqual([...names].sort(), ['Pulse counter', 'Shunt offset']);
});

test('suggest: a bad base is one clear line', () => {
  const r = vgatt('profile', 'suggest', sample(), '--base', 'nope');
  assert.equal(r.code, 1);
  assert.match(r.err, /^vgatt: error: unknown profile 'nope'/);
  assert.equal(r.err.trim().split('\n').length, 1);
});
