/**
 * ACL -> L2CAP reassembly (Core spec Vol 4 Part E 5.4.2, Vol 3 Part A 3.1): one partial frame per
 * adapter, connection handle and direction (a Linux monitor capture interleaves adapters that may use
 * the same handle), started by a "first" fragment (PB flag 00 or 10) and continued
 * by "continuing" fragments (01) until the L2CAP basic header's length is reached.
 */
import type { HciDirection } from '../capture/types.js';
import { slabAlloc } from '../util/slab.js';

export interface L2capFrame {
  connection: number;
  cid: number;
  /**
   * The L2CAP payload (after the 4-byte basic header) is bytes[start, end): the ACL packet itself for a
   * frame in one fragment, so that the ATT layer makes only the views it keeps.
   */
  bytes: Uint8Array;
  start: number;
  end: number;
  frames: number[];
  /** The capture cut the frame short (snaplen, Android filtered log): payload is incomplete. */
  truncated: boolean;
}

export interface AclDiagnostic {
  code: 'orphan-fragment' | 'lost-fragment' | 'bad-acl' | 'overlong-fragment';
  message: string;
  connection?: number;
}

interface Partial {
  parts: Uint8Array[];
  have: number;
  need: number;
  frames: number[];
}

export class AclReassembler {
  private partials = new Map<number, Partial>();

  /** Feeds one ACL packet (`data` from the handle field on) of `adapter` (0 unless the capture names adapters). */
  push(data: Uint8Array, direction: HciDirection, frame: number, truncated: boolean, diag: (d: AclDiagnostic) => void, adapter = 0): L2capFrame | undefined {
    if (data.length < 4) {
      diag({ code: 'bad-acl', message: `ACL packet of ${data.length} byte(s) is shorter than its header` });
      return undefined;
    }
    const hf = data[0]! | (data[1]! << 8);
    const connection = hf & 0x0fff;
    const pb = (hf >> 12) & 3;
    const aclLen = data[2]! | (data[3]! << 8);
    // The ACL payload (the L2CAP bytes) is data[4, end): views of it are made only where kept.
    const end = Math.min(data.length, 4 + aclLen);
    const cut = truncated || end - 4 < aclLen;
    const key = aclKey(adapter, connection, direction === 'host-to-controller' ? 1 : direction === 'controller-to-host' ? 2 : 3);
    const pending = this.partials.size > 0 ? this.partials.get(key) : undefined;
    if (pb === 0b01) {
      if (!pending) {
        diag({ code: 'orphan-fragment', message: `continuation fragment on connection 0x${connection.toString(16).padStart(4, '0')} with no start (its start was not captured)`, connection });
        return undefined;
      }
      pending.frames.push(frame);
      let take = end - 4;
      if (pending.have + take > pending.need) {
        diag({ code: 'overlong-fragment', message: `fragment overruns the L2CAP length (${pending.need}) on connection 0x${connection.toString(16).padStart(4, '0')}; extra bytes ignored`, connection });
        take = pending.need - pending.have;
      }
      pending.parts.push(data.subarray(4, 4 + take));
      pending.have += take;
      if (pending.have >= pending.need || cut) {
        this.partials.delete(key);
        return this.frame(connection, pending, cut);
      }
      return undefined;
    }
    if (pending) {
      diag({ code: 'lost-fragment', message: `L2CAP frame on connection 0x${connection.toString(16).padStart(4, '0')} started in frame ${pending.frames[0]} never completed (a fragment was lost); dropped ${pending.have} byte(s)`, connection });
      this.partials.delete(key);
    }
    if (end - 4 < 4) {
      if (cut) return undefined;
      diag({ code: 'bad-acl', message: `L2CAP start fragment of ${end - 4} byte(s) has no complete basic header`, connection });
      return undefined;
    }
    const need = 4 + (data[4]! | (data[5]! << 8));
    // The common case, a whole L2CAP frame in one fragment: no partial state, no view.
    if (end - 4 >= need) return { connection, cid: data[6]! | (data[7]! << 8), bytes: data, start: 8, end: 4 + need, frames: [frame], truncated: false };
    const have = end - 4;
    const p: Partial = { parts: [data.subarray(4, end)], have, need, frames: [frame] };
    if (cut) return this.frame(connection, p, cut);
    this.partials.set(key, p);
    return undefined;
  }

  /** Forgets partial frames of a connection (disconnect). */
  drop(connection: number, diag: (d: AclDiagnostic) => void, adapter = 0): void {
    for (const k of [1, 2, 3]) {
      const p = this.partials.get(aclKey(adapter, connection, k));
      if (p) {
        diag({ code: 'lost-fragment', message: `connection 0x${connection.toString(16).padStart(4, '0')} ended inside an L2CAP frame started in frame ${p.frames[0]}`, connection });
        this.partials.delete(aclKey(adapter, connection, k));
      }
    }
  }

  private frame(connection: number, p: Partial, cut: boolean): L2capFrame {
    const first = p.parts[0]!;
    const cid = first[2]! | (first[3]! << 8);
    const truncated = cut && p.have < p.need;
    if (p.parts.length === 1) return { connection, cid, bytes: first, start: 4, end: first.length, frames: p.frames, truncated };
    const payload = concatFrom(p.parts, 4, p.have);
    return { connection, cid, bytes: payload, start: 0, end: payload.length, frames: p.frames, truncated };
  }
}

/** One number per adapter (16 bits), connection handle (12 bits) and direction (1-3). */
function aclKey(adapter: number, connection: number, direction: number): number {
  return (adapter * 0x1000 + connection) * 4 + direction;
}

/** The bytes of `parts` (`total` in all) from offset `skip` on (skip <= parts[0].length). */
function concatFrom(parts: Uint8Array[], skip: number, total: number): Uint8Array {
  // A store per frame was a third of the reassembler's time on a capture of long notifications. A file
  // chunk, which single-fragment frames are views of, holds more than a slab.
  const out = slabAlloc(total - skip);
  let o = -skip;
  for (const part of parts) {
    if (o < 0) out.set(part.subarray(-o), 0);
    else out.set(part, o);
    o += part.length;
  }
  return out;
}
