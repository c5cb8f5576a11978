/**
 * The generated dissector, inside tshark, gives the same (frame, register, raw, value) as
 * `vgatt decode` for every value message (type 0x08), in one pass and in two passes (tshark -2,
 * as the GUI redissects). Also: the committed dissector is the generator's current output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateLua } from '../../src/lua/generate.js';
import { capturesIn, REPO, SHARED_CAPTURES, tshark } from '../helpers/tshark.js';
import { decodeAll, profiles } from '../helpers/decode.js';

const LUA = path.join(REPO, 'dissector/victron.lua');

interface Row {
  frame: number;
  registers: number[];
  raws: string[];
  values: number[];
}

export function luaRows(file: string, twoPass: boolean, lua = LUA): Map<number, Row> {
  // No display filter: with one, tshark builds the tree on the first pass anyway, hiding state bugs.
  const out = tshark(['-X', `lua_script:${lua}`, '-r', file, ...(twoPass ? ['-2'] : []), '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'frame.number', '-e', 'victron.register', '-e', 'victron.raw', '-e', 'victron.value']);
  const rows = new Map<number, Row>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, regs, raws, values] = line.split('\t');
    if (!regs) continue;
    rows.set(Number(frame), {
      frame: Number(frame),
      registers: regs ? regs.split(';').map((x) => parseInt(x, 16)) : [],
      raws: raws ? raws.split(';') : [],
      values: values ? values.split(';').map(Number) : [],
    });
  }
  return rows;
}

export async function tsRows(file: string): Promise<Map<number, Row>> {
  const rows = new Map<number, Row>();
  for (const r of await decodeAll(file)) {
    if (r.kind !== 'message' || r.type !== 0x08 || r.register === undefined) continue;
    const row = rows.get(r.frame) ?? { frame: r.frame, registers: [], raws: [], values: [] };
    row.registers.push(r.register);
    row.raws.push(Buffer.from(r.raw ?? []).toString('hex'));
    if (typeof r.value === 'number') row.values.push(r.value);
    rows.set(r.frame, row);
  }
  return rows;
}

function same(lua: Map<number, Row>, ts: Map<number, Row>, what: string): void {
  assert.deepEqual([...lua.keys()].sort((a, b) => a - b), [...ts.keys()].sort((a, b) => a - b), `${what}: frames with values`);
  for (const [frame, t] of ts) {
    const l = lua.get(frame)!;
    assert.deepEqual(l.registers, t.registers, `${what}: frame ${frame} registers`);
    assert.deepEqual(l.raws, t.raws, `${what}: frame ${frame} raw`);
    assert.equal(l.values.length, t.values.length, `${what}: frame ${frame} number of values`);
    l.values.forEach((v, i) => assert.ok(Math.abs(v - t.values[i]!) < 1e-9, `${what}: frame ${frame} value ${v} vs ${t.values[i]}`));
  }
}

test('dissector/victron.lua is the generator output of the shipped profiles', () => {
  assert.equal(readFileSync(LUA, 'utf8'), generateLua(profiles), 'stale: run `npx vgatt lua -o dissector/victron.lua`');
});

// Every capture we ship, every fixture, and the real SmartShunt session.
const files = [...capturesIn(path.join(REPO, 'captures')), ...capturesIn(path.join(REPO, 'test/fixtures')), path.join(SHARED_CAPTURES, 'smartshunt-bluez-2020-part1.btsnoop')];

for (const file of files) {
  test(`Lua dissector equals vgatt decode (1 and 2 passes): ${path.basename(file)}`, async () => {
    const ts = await tsRows(file);
    if (!file.includes('fixtures')) assert.ok(ts.size > 0, 'the capture has values');
    same(luaRows(file, false), ts, 'one pass');
    same(luaRows(file, true), ts, 'two passes');
  });
}

test('other devices on default handles are left alone (no Victron tree, btatt keeps the value)', () => {
  const file = path.join(SHARED_CAPTURES, 'govee-h5100-android.btsnoop');
  assert.equal(tshark(['-X', `lua_script:${LUA}`, '-r', file, '-Y', 'victron']).trim(), '');
  const withLua = tshark(['-X', `lua_script:${LUA}`, '-r', file, '-Y', 'btatt.value', '-T', 'fields', '-e', 'frame.number', '-e', 'btatt.value']);
  const without = tshark(['-r', file, '-Y', 'btatt.value', '-T', 'fields', '-e', 'frame.number', '-e', 'btatt.value']);
  assert.equal(withLua, without);
});
