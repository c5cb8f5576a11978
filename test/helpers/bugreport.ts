/**
 * Android bug report inputs built by the tests: zips (yazl, an independent writer) around real snoop
 * logs, btsnoop files split the way Android rotates them, and btsnooz summaries from our own small
 * encoder written from AOSP's format description (btif_debug_btsnoop.h, btsnooz.py).
 */
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import yazl from 'yazl';
import type { HciRecord } from '../../src/capture/types.js';

/**
 * A zip with these entries (deflated unless `store`), as bytes. With `descriptor` an entry is written
 * as a stream: its sizes and CRC follow its data (bit 3), as Android's libziparchive writes them.
 */
export async function buildZip(entries: { name: string; data: Buffer | string; store?: boolean; descriptor?: boolean }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const opts = { compress: !e.store, mtime: new Date(Date.UTC(2024, 0, 27)) };
    if (e.descriptor) zip.addReadStream(Readable.from([data]), e.name, opts);
    else zip.addBuffer(data, e.name, opts);
  }
  zip.end();
  const parts: Buffer[] = [];
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** Splits a btsnoop file after `n` records: two valid btsnoop files (Android's .last and current log). */
export function splitBtsnoop(file: Buffer, n: number): [Buffer, Buffer] {
  let p = 16;
  for (let i = 0; i < n; i++) p += 24 + file.readUInt32BE(p + 4);
  return [file.subarray(0, p), Buffer.concat([file.subarray(0, 16), file.subarray(p)])];
}

const SNOOZ_TYPE: Record<string, number> = { '1/host-to-controller': 0x20, '2/host-to-controller': 0x21, '2/controller-to-host': 0x11, '4/controller-to-host': 0x10 };
/** AOSP keeps this much of an ACL packet that is not L2CAP signalling (MAX_HCI_ACL_LEN). */
export const SNOOZ_ACL_KEEP = 14;

/**
 * btsnooz blob (preamble + zlib) of these records, as the phone's stack writes it. v2 cuts ACL
 * packets to 14 bytes except L2CAP signalling (CID 1 / 5); v1 keeps whole packets. Times are
 * microseconds (the preamble has the last packet's time, each record the delay since the one before).
 */
export function encodeSnooz(records: HciRecord[], version: 1 | 2): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const r of records) {
    const type = SNOOZ_TYPE[`${r.packetType}/${r.direction}`];
    if (type === undefined) continue; // SCO and unknown packets are not logged
    let keep = r.data.length;
    if (version === 2 && r.packetType === 2 && r.data.length > 8) {
      const cid = r.data[6]! | (r.data[7]! << 8);
      if (cid !== 1 && cid !== 5) keep = Math.min(keep, SNOOZ_ACL_KEEP);
    }
    const head = Buffer.alloc(version === 2 ? 9 : 7);
    head.writeUInt16LE(keep + 1, 0);
    let o = 2;
    if (version === 2) {
      head.writeUInt16LE(r.data.length + 1, 2);
      o = 4;
    }
    head.writeUInt32LE(last ? r.timeUs - last : 0, o);
    head.writeUInt8(type, o + 4);
    last = r.timeUs;
    parts.push(head, Buffer.from(r.data.subarray(0, keep)));
  }
  const pre = Buffer.alloc(9);
  pre.writeUInt8(version, 0);
  pre.writeBigUInt64LE(BigInt(last), 1);
  return Buffer.concat([pre, deflateSync(Buffer.concat(parts))]);
}

/** The blob as a bug report text section: 128-character base64 lines between the markers, in some surrounding text. */
export function snoozText(blob: Buffer, before = '== dumpstate: 2019-05-01 12:00:00\n------ DUMPSYS bluetooth_manager ------\n'): string {
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 128) lines.push(b64.slice(i, i + 128));
  return `${before}--- BEGIN:BTSNOOP_LOG_SUMMARY (${blob.length} bytes in) ---\n${lines.join('\n')}\n--- END:BTSNOOP_LOG_SUMMARY ---\nBluetooth Status\n  enabled: true\n`;
}
