import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { chooseProfile, decodeRegisterValue, roundTo, scaleDecimals, loadProfileFile, loadProfiles, ProfileError, resolveProfile, SHIPPED_DIR } from '../../src/profiles/index.js';
import { hex } from '../helpers/capture-writer.js';
import { registerText } from '../../src/output/registers.js';

const profiles = loadProfiles();
const get = (id: string) => profiles.find((p) => p.id === id)!;
/** The decoded value, and the text a formatter makes of it. */
const dec = (profile: string, reg: number, bytes: string) => {
  const def = get(profile).register(reg);
  return { ...decodeRegisterValue(def, hex(bytes)), text: registerText(def, hex(bytes)) };
};

test('the shipped profiles load, validate, and extend common', () => {
  assert.deepEqual(profiles.map((p) => p.id).sort(), ['bluesmart', 'common', 'orion', 'orion-xs', 'phoenix', 'smartshunt', 'smartsolar']);
  assert.ok(get('common').registers().length > 2500);
  assert.equal(get('smartshunt').register(0xed8d)!.name, 'Battery voltage');
  assert.equal(get('orion').register(0xedbb)!.name, 'Input voltage');
  assert.equal(get('smartsolar').register(0xedbb)!.name, 'Panel voltage');
  assert.ok(get('smartshunt').register(0x1234) === get('common').register(0x1234), 'inherited registers');
  assert.deepEqual(get('orion').defaultHandles[0], { control: 0x1b, lastData: 0x1e, data: 0x21 });
  assert.ok(get('smartshunt').registers().every((r) => r.source.length > 0));
  assert.equal(get('smartshunt').profile.initSequence![0]!.hex, 'fa80ff');
});

test('every shipped profile passes schema.json (runs skip that check for them)', () => {
  const files = readdirSync(SHIPPED_DIR).filter((f) => f.endsWith('.json') && !['schema.json', 'products.json'].includes(f));
  assert.equal(files.length, profiles.length);
  for (const f of files) assert.equal(loadProfileFile(path.join(SHIPPED_DIR, f)).profile.id, f.replace(/\.json$/, ''), f);
});

test('values quoted in protocol.md decode exactly', () => {
  assert.deepEqual(dec('smartshunt', 0xed8d, '2f05'), { value: 13.27, text: '13.27 V', unit: 'V' });
  assert.deepEqual(dec('smartshunt', 0xed8c, '46fcffff'), { value: -0.954, text: '-0.954 A', unit: 'A' });
  assert.deepEqual(dec('smartshunt', 0xed8e, 'f3ff'), { value: -13, text: '-13 W', unit: 'W' });
  assert.deepEqual(dec('smartshunt', 0xed7d, 'ffff'), { value: -0.01, text: '-0.01 V', unit: 'V' });
  assert.deepEqual(dec('smartshunt', 0x0fff, '1027'), { value: 100, text: '100.00 %', unit: '%' });
  assert.deepEqual(dec('orion', 0xedbb, 'c504'), { value: 12.21, text: '12.21 V', unit: 'V' });
  assert.deepEqual(dec('orion', 0x0120, '12070000'), { value: 1810, text: '1810 s', unit: 's' });
  assert.deepEqual(dec('orion', 0xeddb, '5401'), { value: 3.4, text: '3.40 °C', unit: '°C' });
  // 0x0093 keep-alive: velib defines it in 0.001 s, so 10000 -> 10 s.
  assert.deepEqual(dec('common', 0x0093, '1027'), { value: 10, text: '10.000 s', unit: 's' });
  assert.equal(dec('orion', 0x0206, '01').text, 'Power Supply');
});

test('special values, enums and wrong sizes', () => {
  assert.deepEqual(dec('smartshunt', 0xed8d, 'ff7f'), { value: null, text: 'Not Available', unit: 'V' });
  assert.deepEqual(dec('smartsolar', 0x0201, '03'), { value: 3, text: 'Bulk' });
  assert.deepEqual(dec('smartsolar', 0xedda, '02'), { value: 2, text: 'Battery voltage too high' });
  const wrong = dec('smartshunt', 0xed8d, '2f0500');
  assert.equal(wrong.value, null);
  assert.equal(wrong.problem, 'expected 2 byte(s) for Battery voltage, got 3');
  assert.equal(wrong.text, '2f0500');
  assert.deepEqual(decodeRegisterValue(undefined, hex('0102')), { value: null });
  assert.equal(registerText(undefined, hex('0102')), '0102');
});

test('the MPPT day-history record 0x1051 from payloads.json (protocol.md readings)', () => {
  // Two notifications of the seed's test vectors; the record's 34th byte is not in the source.
  const record = '000100000000000000b505d004000000000028000100e901020000000100860835' + '00';
  const d = dec('smartsolar', 0x1051, record);
  const v = d.value as Record<string, number>;
  assert.equal(d.problem, undefined);
  assert.equal(v['Battery voltage max'], 14.61);
  assert.equal(v['Battery voltage min'], 12.32);
  assert.equal(v['Time Bulk'], 40);
  assert.equal(v['Time Absorption'], 1);
  assert.equal(v['Time Float'], 489);
  assert.equal(v['Max power'], 2);
  assert.equal(v['Panel voc max'], 21.82);
  assert.equal(v['Day sequence number'], 53);
  assert.match(d.text, /Error 0=No error/);
  // 33 bytes (as the seed's vectors have it) is reported, not guessed.
  assert.match(dec('smartsolar', 0x1051, record.slice(0, -2)).problem!, /expected 34 byte\(s\).*got 33/);
});

test('a bad profile names the file, the JSON pointer and what was expected', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-prof-'));
  const f = path.join(dir, 'bad.json');
  writeFileSync(f, JSON.stringify({ id: 'bad', displayName: 'Bad', extends: ['common'], registers: [{ id: '0xED8D', name: 'x', source: 's', fields: [{ name: 'v', type: 'un17' }] }], colour: 'red' }));
  assert.throws(() => loadProfiles({ dirs: [dir] }), (e: Error) => {
    assert.ok(e instanceof ProfileError);
    const lines = e.message.split('\n');
    assert.ok(lines.includes(`${f}: /: must NOT have additional properties 'colour'`), e.message);
    assert.ok(lines.some((l) => l.startsWith(`${f}: /registers/0/fields/0/type: must be equal to one of the allowed values`)), e.message);
    return true;
  });
  const cyc = path.join(dir, 'cyc');
  mkdirSync(cyc);
  writeFileSync(path.join(cyc, 'a.json'), JSON.stringify({ id: 'a', displayName: 'A', extends: ['b'] }));
  writeFileSync(path.join(cyc, 'b.json'), JSON.stringify({ id: 'b', displayName: 'B', extends: ['a'] }));
  assert.throws(() => loadProfiles({ dirs: [cyc] }), /extends: profiles extend each other in a cycle: a -> b -> a/);
});

test('a user profile overrides and extends the shipped ones', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-prof-'));
  writeFileSync(path.join(dir, 'mine.json'), JSON.stringify({ id: 'mine', displayName: 'Mine', extends: ['smartshunt'], registers: [{ id: '0xED8D', name: 'Main battery', source: 'me', fields: [{ name: 'Main battery', type: 'sn16', scale: 0.01, unit: 'V' }] }] }));
  const ps = loadProfiles({ dirs: [dir] });
  const mine = resolveProfile('mine', ps);
  assert.equal(mine.register(0xed8d)!.name, 'Main battery');
  assert.equal(mine.register(0x0fff)!.name, 'State of charge');
  assert.throws(() => resolveProfile('nope', ps), /unknown profile 'nope' \(known: .*smartshunt/);
});

test('profile choice: product id, then name, then handle layout', () => {
  assert.equal(chooseProfile(profiles, { productId: 0xa389 })!.id, 'smartshunt');
  assert.equal(chooseProfile(profiles, { name: 'SmartShunt HQ20234NXYN' })!.id, 'smartshunt');
  assert.equal(chooseProfile(profiles, { name: 'Orion Smart 12/12-30' })!.id, 'orion');
  assert.equal(chooseProfile(profiles, { name: 'Solar Charger' })!.id, 'smartsolar');
  assert.equal(chooseProfile(profiles, { handles: { control: 0x1b, lastData: 0x1e, data: 0x21 } })!.id, 'orion');
  assert.equal(chooseProfile(profiles, { handles: { control: 0x1f, lastData: 0x22, data: 0x25 } })!.id, 'smartsolar');
  assert.equal(chooseProfile(profiles, { name: 'Thermometer' }), undefined);
});

test('roundTo(x, d) is Number(x.toFixed(d)) for every scale of the profiles, on values of every register size', () => {
  const scales = new Set<number>([0.0125, 1 / 3, 1e-7]);
  for (const p of profiles) for (const r of p.registers()) for (const f of r.fields) if (f.scale) scales.add(f.scale);
  assert.ok(scales.size >= 8);
  const raws = [0, 1, -1, 5, -5, 0x7fff, -0x8000, 0xffff, 0x7fffffff, -0x80000000, 0xffffffff, 2 ** 40, 2 ** 52 + 1];
  for (let i = 0; i < 20000; i++) raws.push(Math.round((Math.random() - 0.5) * 2 ** (1 + (i % 33))));
  for (const s of scales) {
    const d = scaleDecimals(s);
    for (const raw of raws) assert.ok(Object.is(roundTo(raw * s, d), Number((raw * s).toFixed(d))), `${raw} x ${s}`);
  }
});
