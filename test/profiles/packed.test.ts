/**
 * The shipped profiles as a build packs them into dist/ (scripts/pack-profile.mjs, read lazily by
 * src/profiles/load.ts) must resolve to exactly the profiles read from src/: every register, the same
 * JSON, and a definition inherited from another profile parsed once and shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadProfiles } from '../../src/profiles/index.js';
import type { ResolvedProfile } from '../../src/profiles/index.js';
import { REPO } from '../helpers/tshark.js';

const DIST_LOAD = path.join(REPO, 'dist/profiles/load.js');
// `npm test` builds first (pretest); a build's loader reads dist/profiles/*.jsonl.
const dist = async (): Promise<ResolvedProfile[]> => ((await import(pathToFileURL(DIST_LOAD).href)) as { loadProfiles: () => ResolvedProfile[] }).loadProfiles();

test('the build ships each profile packed: JSON Lines, the profile, an index of ids and line lengths, then one register per line with its id first, pure ASCII', () => {
  const packed = readdirSync(path.join(REPO, 'dist/profiles')).filter((f) => f.endsWith('.jsonl')).sort();
  assert.deepEqual(packed, ['bluesmart', 'common', 'orion-xs', 'orion', 'phoenix', 'smartshunt', 'smartsolar'].map((n) => n + '.jsonl'));
  const bytes = readFileSync(path.join(REPO, 'dist/profiles/smartshunt.jsonl'));
  assert.ok(bytes.every((b) => b < 0x80), 'non-ASCII byte in a packed profile');
  const lines = bytes.toString('latin1').trimEnd().split('\n');
  const src = JSON.parse(readFileSync(path.join(REPO, 'src/profiles/smartshunt.json'), 'utf8'));
  assert.equal(lines.length, 2 + src.registers.length);
  assert.deepEqual(JSON.parse(lines[0]!), { ...src, registers: [] });
  // The index: each register's id and the length of its line, in the order of the lines.
  const index = JSON.parse(lines[1]!) as number[];
  assert.deepEqual(index.filter((_, k) => k % 2 === 0), src.registers.map((r: { id: string }) => parseInt(r.id, 16)));
  assert.deepEqual(index.filter((_, k) => k % 2 === 1), lines.slice(2).map((l) => l.length));
  // 0xED8D, Battery voltage: its id as a decimal number, first.
  const i = src.registers.findIndex((r: { id: string }) => r.id.toLowerCase() === '0xed8d');
  assert.ok(lines[2 + i]!.startsWith('{"id":60813,'));
  assert.deepEqual(JSON.parse(lines[2 + i]!), { ...src.registers[i], id: 0xed8d });
  assert.ok(!existsSync(path.join(REPO, 'dist/profiles/smartshunt.json')));
});

test('profiles loaded from the packed build equal those loaded from src/, register by register', async () => {
  const fromSrc = loadProfiles();
  const fromDist = await dist();
  assert.deepEqual(fromDist.map((p) => p.id), fromSrc.map((p) => p.id));
  let n = 0;
  for (const [i, s] of fromSrc.entries()) {
    const d = fromDist[i]!;
    assert.equal(path.basename(d.file), path.basename(s.file), 'named after the .json it was built from');
    assert.deepEqual([d.displayName, d.characteristics, d.defaultHandles], [s.displayName, s.characteristics, s.defaultHandles]);
    assert.deepEqual(d.profile, { ...s.profile, registers: [] });
    const sRegs = s.registers();
    assert.deepEqual(d.registers().map((r) => r.id), sRegs.map((r) => r.id), s.id);
    for (const r of sRegs) {
      // The same JSON, keys in the same order (what `vgatt lua` and `profile suggest` print from).
      assert.equal(JSON.stringify(d.register(r.id)), JSON.stringify(r), `${s.id} 0x${r.id.toString(16)}`);
      n++;
    }
    assert.equal(d.register(0x10000), undefined);
  }
  assert.ok(n > 2579);
});

test('a packed register is parsed once, on first use, and shared by the profiles that inherit it', async () => {
  const fromDist = await dist();
  const common = fromDist.find((p) => p.id === 'common')!;
  const shunt = fromDist.find((p) => p.id === 'smartshunt')!;
  const solar = fromDist.find((p) => p.id === 'smartsolar')!;
  const own = (id: string): number[] => JSON.parse(readFileSync(path.join(REPO, `src/profiles/${id}.json`), 'utf8')).registers.map((r: { id: string }) => parseInt(r.id, 16));
  // A register that common defines and neither device profile redefines.
  const id = own('common').find((r) => !own('smartshunt').includes(r) && !own('smartsolar').includes(r))!;
  const def = shunt.register(id)!;
  assert.equal(def.id, id);
  assert.equal(shunt.register(id), def, 'parsed once');
  assert.equal(common.register(id), def, 'shared with the profile it comes from');
  assert.equal(solar.register(id), def, 'and with its other heirs');
  // A register smartshunt redefines is its own definition, not common's.
  const redefined = own('smartshunt').find((r) => own('common').includes(r))!;
  assert.notEqual(shunt.register(redefined), common.register(redefined));
});

test('loading a packed profile reads its index only: a register line is read when first used, and a damaged one is reported then, naming the file', async () => {
  // A copy of the built loader next to packed profiles of our own (inside dist/, so that its imports resolve).
  const dir = mkdtempSync(path.join(REPO, 'dist', '.packed-test-'));
  try {
    for (const sub of ['profiles', 'util']) cpSync(path.join(REPO, 'dist', sub), path.join(dir, sub), { recursive: true, filter: (f) => !f.endsWith('.jsonl') || f.endsWith('common.jsonl') });
    const file = path.join(dir, 'profiles', 'common.jsonl');
    const lines = readFileSync(file, 'latin1').trimEnd().split('\n');
    const index = JSON.parse(lines[1]!) as number[];
    const [a, b] = [index[0]!, index[2]!];
    // The first register's line: same length, not JSON; the second's: the line of another register.
    lines[2] = '#'.repeat(lines[2]!.length);
    writeFileSync(file, lines.join('\n') + '\n');
    const { loadProfiles } = (await import(pathToFileURL(path.join(dir, 'profiles', 'load.js')).href)) as { loadProfiles: () => ResolvedProfile[] };
    const [common] = loadProfiles();
    assert.equal(common!.id, 'common');
    assert.equal(common!.register(b)!.id, b, 'an intact register reads');
    assert.throws(() => common!.register(a), (e: Error) => e.name === 'ProfileError' && e.message.startsWith(`${file}: register ${a} is not at byte offset`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
