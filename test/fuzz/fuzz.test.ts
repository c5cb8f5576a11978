/**
 * The CI slice of the project's fuzzing (issue 13): a few thousand mutated inputs over every stage,
 * each in a worker with a time and memory limit, under two minutes. A long campaign is
 * `npm run fuzz -- --inputs N --seconds S` (README, "Fuzzing").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { figuresTable, runCampaign } from '../../fuzz/campaign.js';
import { loadSeed, mutate, MUTATORS, Rng } from '../../fuzz/mutate.js';
import { REPO } from '../helpers/tshark.js';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { buildZip } from '../helpers/bugreport.js';
import { openCaptures, parseCapture } from '../../src/capture/index.js';

test('fuzz mutators: each one changes the seed, reproducibly from the campaign seed', async () => {
  const seed = (await loadSeed(path.join(REPO, 'captures/smartshunt-orion-session.btsnoop')))!;
  assert.ok(seed.records.length > 50 && seed.victronValues.length > 20, `${seed.records.length} records, ${seed.victronValues.length} Victron values`);
  // The learned layout is right: every record's first header word is its original length (btsnoop).
  for (const [s, e] of seed.records.slice(0, 20)) assert.equal(Buffer.from(seed.bytes).readUInt32BE(s + 4) + 24, e - s);
  for (const kind of MUTATORS) {
    const a = mutate(seed, new Rng(7), kind);
    const b = mutate(seed, new Rng(7), kind);
    assert.deepEqual(a, b, kind);
    assert.ok(a.bytes.length !== seed.bytes.length || !Buffer.from(a.bytes).equals(Buffer.from(seed.bytes)), `${kind} changed nothing`);
  }
});

test('the fuzzer\'s bug report zips are zips: Python\'s zipfile (an independent reader) checks them, and vgatt reads the log from each layout', async () => {
  const capture = readFileSync(path.join(REPO, 'captures/smartshunt-orion-session.btsnoop'));
  const direct = (await parseCapture(capture)).records.map((r) => Buffer.from(r.data).toString('hex'));
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-fuzz-zip-'));
  for (const deflate of [true, false]) {
    for (const descriptor of [true, false]) {
      const p = path.join(dir, `${deflate}-${descriptor}.zip`);
      writeFileSync(p, await buildZip([{ name: 'bugreport-x.txt', data: Buffer.from('== dumpstate\n'), store: !deflate, descriptor }, { name: 'FS/data/misc/bluetooth/logs/btsnoop_hci.log', data: capture, store: !deflate, descriptor }]));
      const py = spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(";".join(f"{i.filename}:{i.compress_type}:{i.flag_bits & 8}:{i.file_size}" for i in z.infolist()))', p], { encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      const m = deflate ? 8 : 0;
      const d = descriptor ? 8 : 0;
      assert.equal(py.stdout.trim(), `bugreport-x.txt:${m}:${d}:13;FS/data/misc/bluetooth/logs/btsnoop_hci.log:${m}:${d}:${capture.length}`);
      const [reader] = await openCaptures(p);
      const got: string[] = [];
      for await (const r of reader!.records()) got.push(Buffer.from(r.data).toString('hex'));
      assert.deepEqual(got, direct, `deflate ${deflate}, descriptor ${descriptor}`);
    }
  }
});

test('fuzz slice: every stage, one input per worker under time and memory limits: 0 crashes, 0 hangs, 0 lost neighbours', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'vgatt-fuzz-out-'));
  const r = await runCampaign({ inputs: 500, seconds: 75, workers: 2, seed: 20261125, outDir: out, maxSeedBytes: 200_000, timeLimitMs: 15_000, memoryMb: 384 });
  const table = figuresTable(r);
  for (const [stage, f] of Object.entries(r.stages)) {
    assert.ok(f.inputs >= 100, `${stage}: only ${f.inputs} inputs ran\n${table}`);
    assert.deepEqual([f.crashes, f.hangs, f.memory, f.lostNeighbours, f.problems], [0, 0, 0, 0, 0], `${stage}\n${table}\n${r.findings.map((x) => `${x.kind} ${x.message} (${x.mutation}) -> ${x.file}`).join('\n')}`);
  }
  assert.deepEqual(readdirSync(out), [], 'no reproducers written');
});
