import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allProducts, formatProductId, productIdHex, productName } from '../../src/profiles/index.js';

test('product ids: names from the cited table, hex as Victron writes them', () => {
  // Names as in victron-ble's MODEL_ID_MAPPING (VE.Direct product id list).
  assert.equal(productName(0xa389), 'SmartShunt 500A/50mV');
  assert.equal(productName(0xa3c0), 'Orion Smart 12V/12V-18A DC-DC Converter');
  assert.equal(productName(0xa201), 'Phoenix Inverter 12V 250VA 230V');
  assert.equal(productName(0xa324), 'Blue Smart IP22 Charger 12|30 (1)');
  assert.equal(productName(0xa053), 'SmartSolar Charger MPPT 75/15');
  assert.equal(productName(0x0203), 'BMV-700');
  assert.equal(productName(0x1234), undefined);
  assert.equal(productIdHex(0xa389), '0xA389');
  assert.equal(productIdHex(0x203), '0x0203');
  assert.equal(formatProductId(0xa389), '0xA389 SmartShunt 500A/50mV');
  assert.equal(formatProductId(0xbeef), '0xBEEF');
  const all = allProducts();
  assert.equal(all.length, 414);
  assert.ok(all.every((p, i) => i === 0 || all[i - 1]!.id < p.id), 'sorted, no duplicate ids');
});
