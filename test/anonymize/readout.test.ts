/**
 * Instant Readout adverts of a device whose advertisement key the app read (register 0xEC65) in
 * the same capture: after anonymize, `vgatt adverts` decrypts them with the stand-in key to the
 * same values. Advert bytes from victron-ble's public vectors (keshavdv/victron-ble,
 * tests/test_battery_monitor.py), as in test/commands/adverts.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { anonymizeCapture } from '../../src/anonymize/index.js';
import { adStructures, att, disconnectionComplete, hex, leAdvertisingReport, leConnectionComplete, writeBtsnoop } from '../helpers/capture-writer.js';
import { deviceTransfer, discovery, Session } from '../helpers/session.js';
import { profiles } from '../helpers/decode.js';
import { REPO } from '../helpers/tshark.js';

const SHUNT = { addr: 'fd:d4:50:0f:6c:1b', md: '100289a302b040af925d09a4d89aa0128bdef48c6298a9', key: 'aff4d0995b7d1e176c0c33ecb9e70dcd' };
const victronAd = (md: string) => adStructures([0x01, hex('06')], [0xff, Uint8Array.from([0xe1, 0x02, ...hex(md)])]);

test('Instant Readout adverts are re-encrypted with the stand-in key: same values, new key check, no original key byte', async () => {
  const s = new Session(Date.UTC(2026, 0, 2, 10, 0, 0) * 1000);
  s.ev(leAdvertisingReport([{ address: SHUNT.addr, eventType: 0x00, data: victronAd(SHUNT.md), rssi: -71 }]));
  const conn = 0x0040;
  s.ev(leConnectionComplete(conn, SHUNT.addr));
  discovery(s, conn, 'SmartShunt HQ20234NXYN', 31);
  s.send(conn, att.writeCmd(0x27, hex('05008119ec65')));
  deviceTransfer(s, conn, { lastData: 0x24, data: 0x27 }, [{ hex: '080019ec6550' + SHUNT.key }], 20);
  s.ev(disconnectionComplete(conn));
  s.ev(leAdvertisingReport([{ address: SHUNT.addr, eventType: 0x00, data: victronAd(SHUNT.md), rssi: -72 }]));
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-anon-readout-'));
  const input = path.join(dir, 'in.btsnoop');
  const output = path.join(dir, 'out.btsnoop');
  writeFileSync(input, writeBtsnoop(s.packets));
  const r = await anonymizeCapture(input, output, { profiles, seed: 'readout' });
  const key = r.mapping.find((m) => m.original === SHUNT.key)!.standIn;
  const addr = r.mapping.find((m) => m.original === SHUNT.addr)!.standIn;
  const adverts = (f: string) => {
    const p = spawnSync(process.execPath, [path.join(REPO, 'bin/vgatt.js'), 'adverts', f, '--format', 'ndjson'], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    return p.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const before = adverts(input);
  const after = adverts(output);
  assert.equal(before.length, 2);
  assert.equal(after.length, 2);
  for (let i = 0; i < 2; i++) {
    assert.equal(before[i]!.decoded, true);
    assert.equal(after[i]!.decoded, true, JSON.stringify(after[i]));
    assert.deepEqual(after[i]!.values, { timeToGo: null, batteryVoltage: 12.53, alarmReason: [], auxInput: 'None', batteryCurrent: 0, consumedAh: -50, soc: 50 });
    assert.equal(after[i]!.plaintext, before[i]!.plaintext);
    assert.equal(after[i]!.device, addr);
    assert.equal(after[i]!.keyCheck, parseInt(key.slice(0, 2), 16));
    assert.equal(after[i]!.iv, before[i]!.iv);
  }
  // The encrypted bytes changed, the clear prefix (record 0x10 0x02, product, type, IV) did not.
  const md = (after[0]!.raw as string);
  assert.equal(md.slice(0, 14), SHUNT.md.slice(0, 14));
  assert.notEqual(md.slice(16), SHUNT.md.slice(16));
  assert.equal(readFileSync(output).indexOf(Buffer.from(SHUNT.md, 'hex')), -1);
  assert.equal(readFileSync(output).indexOf(Buffer.from(SHUNT.key, 'hex')), -1);
});
