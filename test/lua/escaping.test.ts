/**
 * Strings from profiles (names, units, enum labels) are escaped for Lua: a profile full of quotes,
 * backslashes, newlines and `]]` still gives a dissector tshark loads, showing the names unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateLua, luaString } from '../../src/lua/generate.js';
import { loadProfiles } from '../../src/profiles/index.js';
import { REPO, tshark } from '../helpers/tshark.js';

const NASTY = 'Volts "main" \\ back]]slash [[x]] \n next line';

test('luaString escapes quotes, backslashes and control bytes, keeps UTF-8', () => {
  assert.equal(luaString('a"b\\c\nd\te°'), '"a\\"b\\\\c\\nd\\009e°"');
});

test('a profile with hostile strings gives a dissector tshark loads, names unchanged', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-lua-'));
  writeFileSync(path.join(dir, 'nasty.json'), JSON.stringify({
    id: 'smartshunt',
    displayName: 'Nasty "shunt"',
    extends: ['common'],
    match: { handles: [{ control: 0x21, lastData: 0x24, data: 0x27 }] },
    registers: [{ id: '0xED8D', name: NASTY, source: 'test', fields: [{ name: NASTY, type: 'sn16', scale: 0.01, unit: 'V"]]\\', special: { '32767': 'n/a "]]"' } }] }],
  }));
  const lua = generateLua(loadProfiles({ dirs: [dir] }));
  const file = path.join(dir, 'victron.lua');
  writeFileSync(file, lua);
  const out = tshark(['-X', `lua_script:${file}`, '-r', path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'), '-Y', 'victron.register == 0xed8d', '-T', 'fields', '-E', 'occurrence=f', '-e', 'victron.register_name', '-e', 'victron.unit', '-e', 'victron.value']);
  const [name, unit, value] = out.split('\n')[0]!.split('\t');
  // tshark -T fields prints a newline as \n (and nothing else escaped)
  assert.equal(name, NASTY.replace(/\n/g, '\\n'));
  assert.equal(unit, 'V"]]\\');
  assert.equal(value, '13.27');
});
