/**
 * Bug report zips around mutated captures, so the fuzzing reaches the Android inputs too (zip
 * directory, local headers, deflate, CRC, a zip cut short). A few lines of zip writing by hand
 * (APPNOTE 4.3): the fuzzer wants the layouts a library would not write on request (sizes after
 * the data for a buffer, a stored entry, damage after writing).
 */
import { crc32, deflateRawSync } from 'node:zlib';
import type { Rng } from './mutate.js';

const u16 = (v: number) => Buffer.from([v & 0xff, (v >>> 8) & 0xff]);
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

export interface ZipLayout {
  deflate: boolean;
  /** Sizes and CRC after the data (bit 3), as a streaming writer (Android's libziparchive) writes them. */
  descriptor: boolean;
}

export function zipOf(entries: { name: string; data: Uint8Array }[], layout: ZipLayout): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = layout.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    const flags = 0x800 | (layout.descriptor ? 8 : 0);
    const method = layout.deflate ? 8 : 0;
    const at = offset;
    const sizes = layout.descriptor ? [0, 0, 0] : [crc, data.length, e.data.length];
    push(Buffer.concat([u32(0x04034b50), u16(20), u16(flags), u16(method), u16(0), u16(0x5821), ...sizes.map(u32), u16(name.length), u16(0), name, data]));
    if (layout.descriptor) push(Buffer.concat([u32(0x08074b50), u32(crc), u32(data.length), u32(e.data.length)]));
    central.push(Buffer.concat([u32(0x02014b50), u16(20), u16(20), u16(flags), u16(method), u16(0), u16(0x5821), u32(crc), u32(data.length), u32(e.data.length), u16(name.length), u16(0), u16(0), u16(0), u16(0), u32(0), u32(at), name]));
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  push(cd);
  push(Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(cd.length), u32(cdOffset), u16(0)]));
  return Buffer.concat(parts);
}

/** The capture as an Android bug report would hold it, in a random layout, sometimes cut or damaged after zipping. */
export function inBugReport(capture: Uint8Array, rng: Rng): { bytes: Uint8Array; what: string } {
  const layout: ZipLayout = { deflate: rng.int(4) !== 0, descriptor: rng.int(2) === 0 };
  const text = Buffer.from(`== dumpstate: 2024-01-27 12:00:00\n${'------ DUMPSYS bluetooth_manager ------\n'.repeat(1 + rng.int(20))}`);
  let zip = zipOf(
    [
      { name: 'bugreport-fuzz-2024-01-27.txt', data: text },
      { name: 'FS/data/misc/bluetooth/logs/btsnoop_hci.log', data: capture },
    ],
    layout,
  );
  const kind = `${layout.deflate ? 'deflated' : 'stored'}${layout.descriptor ? ', sizes after the data' : ''}`;
  switch (rng.int(4)) {
    case 0: {
      const at = 30 + rng.int(zip.length - 30);
      return { bytes: zip.subarray(0, at), what: `in a bug report zip (${kind}), cut at ${at}` };
    }
    case 1: {
      zip = Buffer.from(zip);
      const at = 4 + rng.int(zip.length - 4);
      zip[at]! ^= 1 << rng.int(8);
      return { bytes: zip, what: `in a bug report zip (${kind}), bit flipped at ${at}` };
    }
    default:
      return { bytes: zip, what: `in a bug report zip (${kind})` };
  }
}
