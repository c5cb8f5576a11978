/** UUID formatting as Wireshark's bluetooth.uuid table keys it: 16-bit bare hex, 128-bit dashed lowercase. */
const BASE_SUFFIX = '-0000-1000-8000-00805f9b34fb';

/** `bytes` are little-endian, as ATT carries them (2, 4 or 16 bytes). */
export function uuidFromLe(bytes: Uint8Array): string {
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, '0');
  if (bytes.length !== 16) return hex;
  const dashed = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  // A 128-bit form of a SIG-assigned UUID is shown short, as Wireshark does.
  if (dashed.endsWith(BASE_SUFFIX) && dashed.startsWith('0000')) return dashed.slice(4, 8);
  return dashed;
}

export function formatAddress(bytesLe: Uint8Array): string {
  const parts: string[] = [];
  for (let i = bytesLe.length - 1; i >= 0; i--) parts.push(bytesLe[i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Names of well-known GATT attribute types, for text output. */
export const GATT_TYPE_NAMES: Record<string, string> = {
  '2800': 'Primary Service',
  '2801': 'Secondary Service',
  '2802': 'Include',
  '2803': 'Characteristic',
  '2900': 'Characteristic Extended Properties',
  '2901': 'Characteristic User Description',
  '2902': 'Client Characteristic Configuration',
  '2903': 'Server Characteristic Configuration',
  '2a00': 'Device Name',
  '2a01': 'Appearance',
  '2a05': 'Service Changed',
};
