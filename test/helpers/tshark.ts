/** Runs tshark, the project's independent oracle. Tests that need it fail (not skip) when it's missing. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const SHARED_CAPTURES = path.resolve(REPO, '../shared/captures');

export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface TsharkAtt {
  frame: number;
  opcode: number;
  handles: number[];
  value: string;
  /** frame.time_epoch in whole microseconds (truncated, like our reader for nanosecond files). */
  timeUs: number;
}

/** tshark's view of every ATT PDU: frame, opcode, all btatt.handle occurrences, btatt.value. */
export function tsharkAtt(file: string, extra: string[] = []): TsharkAtt[] {
  const out = tshark(['-r', file, ...extra, '-Y', 'btatt', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-e', 'frame.number', '-e', 'btatt.opcode', '-e', 'btatt.handle', '-e', 'btatt.value', '-e', 'frame.time_epoch']);
  const rows: TsharkAtt[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [frame, opcode, handles, value, epoch] = line.split('\t');
    if (!opcode) continue;
    rows.push({
      frame: Number(frame),
      opcode: parseInt(opcode.split(',')[0]!, 16),
      handles: handles ? handles.split(',').map((h) => parseInt(h, 16)) : [],
      value: (value ?? '').replace(/,/g, ''),
      timeUs: epochToUs(epoch ?? '0'),
    });
  }
  return rows;
}

/** The raw bytes of each frame's ATT PDU, as tshark dissected them (reassembled across ACL fragments). */
export function tsharkAttRaw(file: string): Map<number, string> {
  const out = tshark(['-r', file, '-Y', 'btatt', '-T', 'json', '-x', '-j', 'frame btatt']);
  const packets = JSON.parse(out) as { _source: { layers: Record<string, unknown> } }[];
  const map = new Map<number, string>();
  for (const p of packets) {
    const layers = p._source.layers;
    const frame = layers['frame'] as Record<string, unknown> | undefined;
    const num = Number(frame?.['frame.number']);
    const raw = layers['btatt_raw'] as unknown[] | undefined;
    if (raw && typeof raw[0] === 'string') map.set(num, raw[0]);
  }
  return map;
}

export function capturesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...capturesIn(p));
    else if (/\.(btsnoop|pcap|pcapng|log)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** "1606158848.286209000" -> 1606158848286209, exactly (no floating point). */
export function epochToUs(epoch: string): number {
  const [sec, frac = ''] = epoch.split('.');
  return Number(sec) * 1_000_000 + Number((frac + '000000').slice(0, 6));
}
