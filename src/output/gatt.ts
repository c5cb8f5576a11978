import type { GattDatabase } from '../bluetooth/types.js';

const hex4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');

export function gattToJson(dbs: GattDatabase[]): unknown {
  return dbs;
}

/** One block per connection: services, characteristics (properties, value handle), descriptors. */
export function gattToText(dbs: GattDatabase[]): string {
  if (dbs.length === 0) return 'No GATT discovery in this capture (no connection with discovery responses).\n';
  const lines: string[] = [];
  for (const db of dbs) {
    lines.push(`Connection ${hex4(db.connection)}${db.device ? ` (${db.device})` : ''}`);
    if (db.services.length === 0) lines.push('  (no services discovered)');
    for (const s of db.services) {
      lines.push(`  ${s.primary ? 'Primary' : 'Secondary'} service ${s.uuid}  handles ${hex4(s.startHandle)}-${hex4(s.endHandle)}`);
      for (const c of s.characteristics) {
        lines.push(`    Characteristic ${c.uuid}  declaration ${hex4(c.declarationHandle)}  value ${hex4(c.valueHandle)}  [${c.propertyNames.join(', ')}]`);
        for (const d of c.descriptors) lines.push(`      Descriptor ${d.uuid}  handle ${hex4(d.handle)}`);
      }
    }
    lines.push('');
  }
  return lines.join('\n');
}
