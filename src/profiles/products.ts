/**
 * Victron product ids (register 0x0100 "ProductId", advertised in instant readout) and their names.
 * The table is data (products.json, with its source and the places sources disagree), not code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProductTable {
  source: string;
  products: Record<string, string>;
}

let table: Map<number, string> | undefined;

function load(): Map<number, string> {
  if (table) return table;
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'products.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as ProductTable;
  table = new Map(Object.entries(data.products).map(([k, v]) => [parseInt(k, 16), v]));
  return table;
}

/** The product's name, e.g. productName(0xA389) = "SmartShunt 500A/50mV"; undefined when unknown. */
export function productName(id: number): string | undefined {
  return load().get(id);
}

/** A product id in hex as Victron writes it: 0xA389 -> "0xA389". */
export function productIdHex(id: number): string {
  return '0x' + id.toString(16).toUpperCase().padStart(4, '0');
}

/** "0xA389 SmartShunt 500A/50mV", or "0xA389" when the table does not know it. */
export function formatProductId(id: number): string {
  const name = productName(id);
  return name ? `${productIdHex(id)} ${name}` : productIdHex(id);
}

/** Every known product id with its name, sorted by id. */
export function allProducts(): { id: number; name: string }[] {
  return [...load()].sort((a, b) => a[0] - b[0]).map(([id, name]) => ({ id, name }));
}
