/**
 * What the generated dissector shows, read back from tshark, and what `vgatt decode` gives for the
 * same capture, both as one comparable summary per frame: every record kind (message bytes and
 * decoded parameters, padding, unknown, control) in order, with the frames a spread record came from.
 */
import path from 'node:path';
import { openCapture } from '../../src/capture/index.js';
import { AttExtractor } from '../../src/bluetooth/index.js';
import { VictronDecoder, type VictronRecord } from '../../src/victron/index.js';
import type { BluetoothEvent } from '../../src/bluetooth/types.js';
import { REPO, tshark } from '../helpers/tshark.js';
import { profiles } from '../helpers/decode.js';
import { victronText } from '../../src/output/victron.js';

export const LUA = path.join(REPO, 'dissector/victron.lua');

/** Per frame, per field: the values in tree order (Lua) or record order (vgatt decode). */
export type FrameView = Record<string, string[]>;

const FIELDS = ['message', 'type', 'instance', 'register', 'raw', 'value', 'get_register', 'set_register', 'set_raw', 'response', 'response_register', 'answered_type', 'padding', 'unknown', 'control', 'from_frame'] as const;

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const h16 = (n: number) => '0x' + n.toString(16).padStart(4, '0');
const h8 = (n: number) => '0x' + n.toString(16).padStart(2, '0');
const num = (v: string) => String(Math.round(Number(v) * 1e6) / 1e6);

/** The dissector's records per frame, from `tshark -T fields`. */
export function luaView(file: string, args: string[], lua = LUA): Map<number, FrameView> {
  const out = tshark(['-X', `lua_script:${lua}`, '-r', file, ...args, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', ...FIELDS.flatMap((x) => ['-e', `victron.${x}`])]);
  const frames = new Map<number, FrameView>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, ...cols] = line.split('\t');
    if (cols.every((c) => !c)) continue;
    const v: FrameView = {};
    FIELDS.forEach((name, i) => {
      if (!cols[i]) return;
      let list = cols[i]!.split('|');
      if (name === 'value') list = list.map(num);
      // tshark prints a zero-length bytes field (a set entry's empty value) as <MISSING>
      if (name === 'set_raw') list = list.map((x) => (x === '<MISSING>' ? '' : x));
      if (name === 'from_frame') list = list.sort((a, b) => Number(a) - Number(b));
      v[name] = list;
    });
    frames.set(Number(frame), v);
  }
  return frames;
}

/** Fields whose display has no space: read back from custom columns (one line per frame, space-separated). */
export const COLUMN_FIELDS = FIELDS.filter((x) => x !== 'type' && x !== 'answered_type' && x !== 'control');

/**
 * The dissector's records per frame as custom columns show them: tshark's summary output builds no
 * visible tree (tree.visible is false, as in the GUI's packet list and display filtering), so this
 * reads the dissector's path for unseen trees, where fields carry values without byte ranges.
 */
export function luaColumnView(file: string, args: string[], lua = LUA): Map<number, FrameView> {
  const format = ['"No."', '"%m"', ...COLUMN_FIELDS.flatMap((x) => [`"${x}"`, `"%Cus:victron.${x}"`])].join(',');
  const out = tshark(['-X', `lua_script:${lua}`, '-r', file, ...args, '-o', `gui.column.format:${format}`]);
  const frames = new Map<number, FrameView>();
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const [frame, ...cols] = line.trimStart().split(' ');
    if (cols.length !== COLUMN_FIELDS.length) throw new Error(`unexpected column line: ${line}`);
    if (cols.every((c) => !c)) continue;
    const v: FrameView = {};
    COLUMN_FIELDS.forEach((name, i) => {
      if (!cols[i]) return;
      let list = cols[i]!.split(',');
      if (name === 'value') list = list.map(num);
      if (name === 'from_frame') list = list.sort((a, b) => Number(a) - Number(b));
      if (name === 'set_raw') list = list.map((x) => (x === '<MISSING>' ? '' : x));
      v[name] = list;
    });
    frames.set(Number(frame), v);
  }
  return frames;
}

/**
 * Only the given fields of each frame (frames left with none dropped), as a column shows them:
 * Wireshark cuts a bytes value longer than 36 bytes to its first 36 and an ellipsis.
 */
export function only(view: Map<number, FrameView>, fields: readonly string[]): Map<number, FrameView> {
  const out = new Map<number, FrameView>();
  const cut = (x: string) => (/^[0-9a-f]{73,}$/.test(x) ? x.slice(0, 72) + '…' : x);
  for (const [frame, v] of view) {
    const w: FrameView = {};
    for (const k of fields) if (v[k]) w[k] = v[k]!.map(cut);
    if (Object.keys(w).length) out.set(frame, w);
  }
  return out;
}

export interface DecodeView {
  /** Every record's frame summary. */
  all: Map<number, FrameView>;
  /** Only the records complete when the frame of their last byte is read (what one pass can show). */
  onTime: Map<number, FrameView>;
}

/** `vgatt decode`'s records per frame, through the same pieces as scanVictron. */
export async function decodeView(file: string): Promise<DecodeView> {
  const reader = await openCapture(file, {});
  const events: BluetoothEvent[] = [];
  const extractor = new AttExtractor({ onEvent: (e) => events.push(e) });
  const decoder = new VictronDecoder({ profiles, uuidOf: (c, d, h) => extractor.gattFor(c, d)?.uuidOf(h) });
  const all: VictronRecord[] = [];
  const late = new Set<VictronRecord>();
  for await (const batch of reader.batches()) {
    for (const rec of batch) {
      const pdu = extractor.pushOne(rec);
      for (const e of events.splice(0)) for (const r of decoder.pushEvent(e)) late.add(r), all.push(r);
      if (pdu) for (const r of decoder.pushAtt(pdu)) { if (r.frame !== pdu.frame) late.add(r); all.push(r); }
    }
  }
  extractor.finish();
  for (const e of events.splice(0)) for (const r of decoder.pushEvent(e)) late.add(r), all.push(r);
  for (const r of decoder.finish()) late.add(r), all.push(r);
  return { all: view(all), onTime: view(all.filter((r) => !late.has(r))) };
}

function view(recs: VictronRecord[]): Map<number, FrameView> {
  // Per-register records of one get/set message share its bytes: one message in the tree.
  const byFrame = new Map<number, VictronRecord[][]>();
  let prev: VictronRecord | undefined;
  for (const r of [...recs].sort((a, b) => a.frame - b.frame)) {
    const list = byFrame.get(r.frame) ?? [];
    if (prev && prev.bytes === r.bytes && prev.frame === r.frame && r.kind === 'message') list[list.length - 1]!.push(r);
    else list.push([r]);
    byFrame.set(r.frame, list);
    prev = r;
  }
  const frames = new Map<number, FrameView>();
  for (const [frame, groups] of byFrame) {
    const v: FrameView = {};
    const add = (k: string, x: string) => (v[k] ??= []).push(x);
    for (const g of groups) {
      const r = g[0]!;
      if (r.kind === 'padding') add('padding', hex(r.bytes));
      else if (r.kind === 'unknown') add('unknown', hex(r.bytes));
      else if (r.kind === 'control') add('control', victronText(r)!);
      else {
        const t = r.type!;
        add('message', hex(r.bytes));
        add('type', h8(t));
        if (r.instance !== undefined) add('instance', String(r.instance));
        if (t === 0x08) {
          add('register', h16(r.register!));
          if (r.raw && r.raw.length > 0) add('raw', hex(r.raw));
          if (typeof r.value === 'number') add('value', num(String(r.value)));
        }
        if (t === 0x05) for (const x of g) if (x.register !== undefined) add('get_register', h16(x.register));
        if (t === 0x06) for (const x of g) if (x.register !== undefined) add('set_register', h16(x.register)), add('set_raw', hex(x.raw!));
        if (t === 0x07) add('answered_type', h8(r.answered!));
        if (t === 0x09) add('response_register', h16(r.register!));
        if (t === 0x07 || t === 0x09 || t === 0x10) add('response', String(r.response));
      }
      if (r.frames.length > 1) for (const f of r.frames) add('from_frame', String(f));
    }
    if (v['from_frame']) v['from_frame'].sort((a, b) => Number(a) - Number(b));
    frames.set(frame, v);
  }
  return frames;
}
