import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChartSeries, MAX_BUCKETS } from '../../src/report/series.js';

test('up to 4,000 readings, every reading is a point; breaks are null points', () => {
  const s = new ChartSeries();
  s.add(1000, 13.1);
  s.add(2000, 13.2);
  s.break(2500);
  s.add(3000, 12.9);
  assert.deepEqual(s.points(), [[1000, 13.1], [2000, 13.2], [2500, null], [3000, 12.9]]);
  const t = new ChartSeries();
  for (let i = 0; i < 2 * MAX_BUCKETS; i++) t.add(i, i % 7);
  assert.equal(t.points().length, 4000);
  assert.deepEqual(t.points()[3999], [3999, 3999 % 7]);
});

test('the 4,001st reading halves the buckets: each keeps its lowest and highest reading, in time order', () => {
  const s = new ChartSeries();
  // Pairs (2k, 2k+1): values 10, 20 then 5, 1 alternately; reading 4000 starts a new bucket.
  for (let i = 0; i < 4001; i++) s.add(i * 10, i % 4 === 0 ? 10 : i % 4 === 1 ? 20 : i % 4 === 2 ? 5 : 1);
  assert.equal(s.per, 2);
  assert.equal(s.buckets, 2001);
  const p = s.points();
  // Bucket 0 = readings 0 (10) and 1 (20): min first. Bucket 1 = readings 2 (5) and 3 (1): max (5) first.
  assert.deepEqual(p.slice(0, 4), [[0, 10], [10, 20], [20, 5], [30, 1]]);
  assert.deepEqual(p.at(-1), [40000, 10]);
  assert.equal(p.length, 4001);
});

test('a spike survives any amount of thinning; the chart stays bounded', () => {
  const s = new ChartSeries();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) s.add(i * 1000, i === 654_321 ? 99.5 : i === 777_777 ? -3 : 13 + (i % 10) / 100);
  const p = s.points();
  assert.ok(s.buckets <= 2 * MAX_BUCKETS && s.buckets >= MAX_BUCKETS, `${s.buckets} buckets`);
  assert.ok(p.length <= 4 * MAX_BUCKETS, `${p.length} points`);
  assert.ok(p.some(([ms, v]) => ms === 654_321_000 && v === 99.5), 'the spike and its time');
  assert.ok(p.some(([ms, v]) => ms === 777_777_000 && v === -3), 'the dip and its time');
  const values = p.map((x) => x[1] as number);
  assert.deepEqual([Math.min(...values), Math.max(...values)], [-3, 99.5]);
  for (let i = 1; i < p.length; i++) assert.ok(p[i]![0] >= p[i - 1]![0], 'time order');
});

test('values are never merged across a break', () => {
  const s = new ChartSeries();
  // 3,000 readings of 1, a break at 3,000,500 ms, 3,000 readings of 2: thinned twice.
  for (let i = 0; i < 3000; i++) s.add(i * 1000, 1);
  s.break(3_000_500);
  for (let i = 0; i < 3000; i++) s.add(3_001_000 + i * 1000, 2);
  const p = s.points();
  const at = p.findIndex((x) => x[1] === null);
  assert.deepEqual(p[at], [3_000_500, null]);
  assert.ok(p.slice(0, at).every((x) => x[1] === 1) && p.slice(at + 1).every((x) => x[1] === 2));
  assert.equal(p.filter((x) => x[1] === null).length, 1);
});

test('breaks that fill the buckets are thinned too, bounded', () => {
  const s = new ChartSeries();
  for (let i = 0; i < 100_000; i++) {
    s.add(i * 10, i);
    s.break(i * 10 + 5);
  }
  assert.ok(s.buckets <= 2 * MAX_BUCKETS, `${s.buckets} buckets`);
  const values = s.points().filter((x) => x[1] !== null).map((x) => x[1] as number);
  assert.equal(Math.max(...values), 99_999);
});
