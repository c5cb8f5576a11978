/**
 * The sample sessions in captures/ decode to their hand-written expected values, in each of the
 * three file formats (btsnoop written by us, pcap and pcapng written by Wireshark's editcap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeAll } from '../helpers/decode.js';
import { REPO } from '../helpers/tshark.js';

const dir = path.join(REPO, 'captures');
const expectedFiles = readdirSync(dir).filter((f) => f.endsWith('.expected.json'));

test('there are sample captures with expected decodes', () => {
  assert.ok(expectedFiles.length >= 2);
});

for (const ef of expectedFiles) {
  const exp = JSON.parse(readFileSync(path.join(dir, ef), 'utf8'));
  for (const ext of ['btsnoop', 'pcap', 'pcapng']) {
    test(`${exp.capture}.${ext} decodes to its expected values`, async () => {
      const recs = await decodeAll(path.join(dir, `${exp.capture}.${ext}`));
      const values = recs.filter((r) => r.kind === 'message' && r.type === 0x08);
      assert.equal(values.length, exp.values.length, 'number of value messages');
      exp.values.forEach((e: { frame: number; instance: number; register: number; raw: string; value?: unknown; unit?: string; name?: string }, i: number) => {
        const r = values[i]!;
        const where = `value #${i + 1} (frame ${e.frame}, register 0x${e.register.toString(16)})`;
        assert.equal(r.frame, e.frame, `${where}: frame`);
        assert.equal(r.instance, e.instance, `${where}: instance`);
        assert.equal(r.register, e.register, `${where}: register`);
        assert.equal(Buffer.from(r.raw!).toString('hex'), e.raw, `${where}: raw`);
        if (e.value !== undefined) assert.deepEqual(r.value, e.value, `${where}: value`);
        if (e.unit !== undefined) assert.equal(r.unit, e.unit, `${where}: unit`);
        if (e.name !== undefined) assert.equal(r.registerName, e.name, `${where}: name`);
        assert.equal(r.problem, undefined, `${where}: no problem`);
      });
      assert.equal(recs.filter((r) => r.kind === 'unknown').length, exp.unknown, 'unknown records');
      assert.equal(recs.filter((r) => r.kind === 'padding').length, exp.padding, 'padding records');
      assert.equal(recs.filter((r) => r.kind === 'control').length, exp.control, 'control records');
      for (const c of exp.connections) {
        const mine = recs.filter((r) => r.connection === c.connection && r.kind === 'message');
        assert.ok(mine.length > 0, `connection ${c.connection} has messages`);
        assert.ok(mine.every((r) => r.device === c.device), 'device address');
        assert.equal(mine.at(-1)!.profile, c.profile, `profile of connection ${c.connection}`);
      }
    });
  }
}
