/**
 * What one connection's discovery tells about the server's attribute table: services (Read By Group
 * Type / Find By Type Value responses), characteristics (Read By Type 0x2803 responses) and
 * descriptors (Find Information responses). Learned incrementally as responses stream by.
 */
import type { GattDatabase, GattService } from './types.js';
import { propertyNames } from './att.js';
import { uuidFromLe } from './uuid.js';

interface Char {
  declarationHandle: number;
  valueHandle: number;
  uuid: string;
  properties: number;
}

export class GattLearner {
  private services = new Map<number, { startHandle: number; endHandle: number; uuid: string; primary: boolean }>();
  private chars = new Map<number, Char>();
  /** Handle -> attribute type, from every discovery response. */
  private types = new Map<number, string>();

  constructor(
    readonly connection: number,
    readonly device: string | undefined,
  ) {}

  get empty(): boolean {
    return this.types.size === 0;
  }

  /** UUID of what lives at `handle`: a characteristic's value handle maps to the characteristic UUID. */
  uuidOf(handle: number): string | undefined {
    return this.types.get(handle);
  }

  service(startHandle: number, endHandle: number, uuid: string, primary: boolean): void {
    this.services.set(startHandle, { startHandle, endHandle, uuid, primary });
    this.types.set(startHandle, primary ? '2800' : '2801');
  }

  /** A Read By Type response entry; `type` is the requested attribute type. */
  readByType(type: string, handle: number, value: Uint8Array): void {
    if (type === '2803' && (value.length === 5 || value.length === 19)) {
      const valueHandle = value[1]! | (value[2]! << 8);
      const uuid = uuidFromLe(value.subarray(3));
      this.chars.set(handle, { declarationHandle: handle, valueHandle, uuid, properties: value[0]! });
      this.types.set(handle, '2803');
      this.types.set(valueHandle, uuid);
    } else if (!this.types.has(handle)) {
      this.types.set(handle, type);
    }
  }

  /** A Find Information response entry: the attribute type at `handle`. */
  information(handle: number, uuid: string): void {
    const known = this.types.get(handle);
    // A characteristic value's type is its UUID; keep what the declaration said if it disagrees.
    if (known === undefined || !this.isValueHandle(handle)) this.types.set(handle, uuid);
  }

  private isValueHandle(handle: number): boolean {
    for (const c of this.chars.values()) if (c.valueHandle === handle) return true;
    return false;
  }

  /** Characteristic value handles by UUID (for finding vendor characteristics). */
  handlesOf(uuid: string): number[] {
    const out: number[] = [];
    for (const [h, u] of this.types) if (u === uuid) out.push(h);
    return out.sort((a, b) => a - b);
  }

  database(): GattDatabase {
    const services: GattService[] = [...this.services.values()]
      .sort((a, b) => a.startHandle - b.startHandle)
      .map((s) => ({ ...s, characteristics: [] }));
    const chars = [...this.chars.values()].sort((a, b) => a.declarationHandle - b.declarationHandle);
    const orphan: GattService = { startHandle: 0, endHandle: 0, uuid: '(unknown service)', primary: true, characteristics: [] };
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      const svc = services.find((s) => c.declarationHandle >= s.startHandle && c.declarationHandle <= s.endHandle);
      const end = Math.min(chars[i + 1]?.declarationHandle ?? Infinity, (svc?.endHandle ?? 0xffff) + 1);
      const descriptors: { handle: number; uuid: string }[] = [];
      for (const [h, u] of [...this.types].sort((a, b) => a[0] - b[0])) {
        if (h > c.valueHandle && h < end && !/^280[0-3]$/.test(u)) descriptors.push({ handle: h, uuid: u });
      }
      const gc = { declarationHandle: c.declarationHandle, valueHandle: c.valueHandle, uuid: c.uuid, properties: c.properties, propertyNames: propertyNames(c.properties), descriptors };
      (svc ?? orphan).characteristics.push(gc);
    }
    if (orphan.characteristics.length > 0) services.push(orphan);
    const db: GattDatabase = { connection: this.connection, services };
    if (this.device) db.device = this.device;
    return db;
  }
}
