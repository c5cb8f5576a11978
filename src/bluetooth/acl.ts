/**
 * ACL -> L2CAP reassembly (Core spec Vol 4 Part E 5.4.2, Vol 3 Part A 3.1): one partial frame per
 * adapter, connection handle and direction (a Linux monitor capture interleaves adapters that may use
 * the same handle), started by a "first" fragment (PB flag 00 or 10) and continued
 * by "continuing" fragments (01) until the L2CAP basic header's length is reached.
 */
import type { HciDirection } from '../capture/types.js';

export interface L2capFrame {
  connection: number;
  cid: number;
  /** L2CAP payload (after the 4-byte basic header). */
  payload: Uint8Array;
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
    let body = data.subarray(4, 4 + aclLen);
    const cut = truncated || body.length < aclLen;
    const key = aclKey(adapter, connection, direction === 'host-to-controller' ? 1 : direction === 'controller-to-host' ? 2 : 3);
    const pending = this.partials.get(key);
    if (pb === 0b01) {
      if (!pending) {
        diag({ code: 'orphan-fragment', message: `continuation fragment on connection 0x${connection.toString(16).padStart(4, '0')} with no start (its start was not captured)`, connection });
        return undefined;
      }
      pending.frames.push(frame);
      if (pending.have + body.length > pending.need) {
        diag({ code: 'overlong-fragment', message: `fragment overruns the L2CAP length (${pending.need}) on connection 0x${connection.toString(16).padStart(4, '0')}; extra bytes ignored`, connection });
        body = body.subarray(0, pending.need - pending.have);
      }
      pending.parts.push(body);
      pending.have += body.length;
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
    if (body.length < 4) {
      if (cut) return undefined;
      diag({ code: 'bad-acl', message: `L2CAP start fragment of ${body.length} byte(s) has no complete basic header`, connection });
      return undefined;
    }
    const need = 4 + (body[0]! | (body[1]! << 8));
    // The common case, a whole L2CAP frame in one fragment: no partial state.
    if (body.length >= need) return { connection, cid: body[2]! | (body[3]! << 8), payload: body.subarray(4, need), frames: [frame], truncated: false };
    const p: Partial = { parts: [body.length > need ? body.subarray(0, need) : body], have: Math.min(body.length, need), need, frames: [frame] };
    if (p.have >= need || cut) return this.frame(connection, p, cut);
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
    const all = p.parts.length === 1 ? p.parts[0]! : concat(p.parts, p.have);
    return { connection, cid: all[2]! | (all[3]! << 8), payload: all.subarray(4), frames: p.frames, truncated: cut && p.have < p.need };
  }
}

/** One number per adapter (16 bits), connection handle (12 bits) and direction (1-3). */
function aclKey(adapter: number, connection: number, direction: number): number {
  return (adapter * 0x1000 + connection) * 4 + direction;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
