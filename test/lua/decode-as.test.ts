/**
 * Decode As: a capture without discovery whose Victron handles no profile knows. In Wireshark the user
 * binds the handles (`-d btatt.handle==0x0066,victron`); in vgatt a profile file gives them. Both agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { att, disconnectionComplete, hex, leConnectionComplete, writeBtsnoop } from '../helpers/capture-writer.js';
import { deviceTransfer, Session } from '../helpers/session.js';
import { REPO, tshark } from '../helpers/tshark.js';
import { decodeAll } from '../helpers/decode.js';

test('handles bound with Decode As decode like vgatt with a profile naming them', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-da-'));
  const s = new Session(1_790_000_000_000_000);
  const h = { control: 0x60, lastData: 0x63, data: 0x66 };
  s.ev(leConnectionComplete(0x0040, 'fd:d4:50:0f:6c:1b'));
  s.send(0x40, att.writeCmd(h.control, hex('fa80ff')));
  deviceTransfer(s, 0x40, h, [{ hex: '080319ed8d422f05' }, { hex: '080319ed8c4446fcffff' }, { hex: '0803190fff421027' }], 20);
  s.ev(disconnectionComplete(0x0040));
  const file = path.join(dir, 'decode-as.btsnoop');
  writeFileSync(file, writeBtsnoop(s.packets));
  const profile = path.join(dir, 'odd.json');
  writeFileSync(profile, JSON.stringify({ id: 'odd', displayName: 'Odd layout', extends: ['smartshunt'], match: { handles: [h] } }));

  const ours = (await decodeAll(file, {})).filter((r) => r.type === 8);
  assert.equal(ours.length, 0, 'without discovery or a profile, the handles are not known');
  const { loadProfiles } = await import('../../src/profiles/index.js');
  const { scanVictron } = await import('../../src/pipeline.js');
  const ps = loadProfiles({ files: [profile] });
  const scan = await scanVictron(file, { profiles: ps, profile: ps.find((p) => p.id === 'odd') });
  const recs = [];
  for await (const b of scan.batches()) recs.push(...b);
  const values = recs.filter((r) => r.type === 8).map((r) => [r.frame, r.register, r.value]);
  assert.deepEqual(values.map((v) => v[2]), [13.27, -0.954, 100]);

  const out = tshark(['-X', `lua_script:${path.join(REPO, 'dissector/victron.lua')}`, '-r', file, '-d', 'btatt.handle==0x0063,victron', '-d', 'btatt.handle==0x0066,victron', '-Y', 'victron.register', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'frame.number', '-e', 'victron.register', '-e', 'victron.value']);
  const lua = out.trim().split('\n').flatMap((l) => {
    const [frame, regs, vals] = l.split('\t');
    return regs!.split(';').map((r, i) => [Number(frame), parseInt(r, 16), Number(vals!.split(';')[i])]);
  });
  assert.deepEqual(lua, values);
});
