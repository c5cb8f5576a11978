/**
 * fileChunks: a file in chunks, the next one read while the consumer works on the current one. Every
 * byte once and in order, whatever the chunk size; a consumer that stops early leaves no read behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileChunks } from '../../src/capture/source.js';

test('fileChunks gives every byte once, in order, from any start, for chunk sizes that divide the file or not', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgatt-chunks-'));
  try {
    const file = path.join(dir, 'bytes.bin');
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    writeFileSync(file, bytes);
    for (const size of [1, 100, 1000, 4096, 10_000, 65_536]) {
      for (const start of [0, 1, 4095, 9_999, 10_000]) {
        const chunks: Buffer[] = [];
        for await (const c of fileChunks(file, start, size)) chunks.push(Buffer.from(c));
        assert.ok(chunks.every((c) => c.length > 0 && c.length <= size), `size ${size}`);
        assert.deepEqual(Buffer.concat(chunks), bytes.subarray(start), `size ${size} start ${start}`);
      }
    }
    // The chunks are distinct buffers: one read ahead never overwrites the one handed out.
    const seen: Buffer[] = [];
    for await (const c of fileChunks(file, 0, 1000)) seen.push(c);
    assert.deepEqual(Buffer.concat(seen), bytes);
    // Stopping after the first chunk: the read ahead is awaited and the file closed (no error, no leak).
    for await (const c of fileChunks(file, 0, 100)) {
      assert.equal(c.length, 100);
      break;
    }
    rmSync(file);
    await assert.rejects(async () => {
      for await (const _ of fileChunks(file)) void _;
    }, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
