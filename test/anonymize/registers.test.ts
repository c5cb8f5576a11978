/** The sensitive-register table against Victron's own definitions (../shared/data/registers.json). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SENSITIVE_REGISTERS, SERIAL_PATTERN } from '../../src/anonymize/index.js';
import { REPO } from '../helpers/tshark.js';

const defs = (JSON.parse(readFileSync(path.resolve(REPO, '../shared/data/registers.json'), 'utf8')) as { registers: { id: string; macro: string; title: string }[] }).registers;

test('every sensitive register exists in ve_regs.h under the macro we name', () => {
  for (const r of SENSITIVE_REGISTERS) {
    const d = defs.find((x) => parseInt(x.id, 16) === r.id);
    assert.ok(d, `0x${r.id.toString(16)}`);
    assert.equal(d.macro, r.macro);
  }
});

test('every PIN, key, serial number and BLE address register of ve_regs.h is in the table', () => {
  const listed = new Set(SENSITIVE_REGISTERS.map((r) => r.macro));
  // (VE_REG_INV_NVM_SERIAL is a save counter, not a serial number.)
  const wanted = defs.filter((d) => /PINCODE$|_PIN$|_KEY$|SERIAL_NUMBER$|_SERIAL$|MAC_ADDRESS$|PASSWORD$|PASSPHRASE$|ADVERTISEMENT_KEY$/.test(d.macro) && !/STATUS|NVM_SERIAL/.test(d.macro));
  assert.ok(wanted.length >= 10);
  for (const d of wanted) assert.ok(listed.has(d.macro), `${d.id} ${d.macro} (${d.title})`);
});

test('serial pattern: the real SmartShunt GAP name, not longer words', () => {
  assert.deepEqual([...'SmartShunt HQ20234NXYN'.matchAll(SERIAL_PATTERN)].map((m) => m[0]), ['HQ20234NXYN']);
  assert.deepEqual([...'HQ20234NXYNZ xHQ20234NXYN HQ2023'.matchAll(SERIAL_PATTERN)], []);
});
