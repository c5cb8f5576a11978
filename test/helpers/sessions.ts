import { tshark } from './tshark.js';

export interface TsharkSession {
  start: number;
  end?: number;
  connection: number;
  device: string;
}

/** tshark's connection events: LE (Enhanced) Connection Complete to Disconnection Complete, successful ones, per handle. */
export function tsharkSessions(file: string): TsharkSession[] {
  const rows = tshark(['-r', file, '-Y', '(bthci_evt.le_meta_subevent in {1, 10} || bthci_evt.code == 5) && bthci_evt.status == 0', '-T', 'fields', '-e', 'frame.number', '-e', 'bthci_evt.code', '-e', 'bthci_evt.connection_handle', '-e', 'bthci_evt.bd_addr'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  const out: TsharkSession[] = [];
  const live = new Map<number, TsharkSession>();
  for (const [frame, code, handle, addr] of rows) {
    const h = parseInt(handle!, 16);
    if (code === '0x3e') {
      const s = { start: Number(frame), connection: h, device: addr! };
      out.push(s);
      live.set(h, s);
    } else if (live.has(h)) {
      live.get(h)!.end = Number(frame);
      live.delete(h);
    }
  }
  return out;
}
