/**
 * npm run fuzz -- --inputs N --seconds S [--stages att,decode,...] [--workers K] [--out DIR]
 *                 [--seed X] [--time-limit MS] [--memory MB] [--max-seed-bytes B]
 * Prints progress, the figures per stage, and where the minimised reproducers went. Exit status 1
 * when anything was found (crash, hang, memory, lost neighbour or bad report), else 0.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { figuresTable, runCampaign } from './campaign.js';
import { STAGES, type Stage } from './stages.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '300' },
    stages: { type: 'string', default: STAGES.join(',') },
    workers: { type: 'string', default: '1' },
    out: { type: 'string', default: 'fuzz/out' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'time-limit': { type: 'string', default: '10000' },
    memory: { type: 'string', default: '512' },
    'max-seed-bytes': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write('npm run fuzz -- --inputs N --seconds S [--stages att,decode,gatt,report,diff,stream] [--workers K] [--out DIR] [--seed X] [--time-limit MS] [--memory MB] [--max-seed-bytes B]\n');
  process.exit(0);
}
const stages = values.stages.split(',').map((s) => s.trim()) as Stage[];
const bad = stages.filter((s) => !STAGES.includes(s));
if (bad.length) {
  process.stderr.write(`fuzz: unknown stage(s) ${bad.join(', ')} (stages: ${STAGES.join(', ')})\n`);
  process.exit(2);
}
const num = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`fuzz: --${name} must be a positive number, not ${v}\n`);
    process.exit(2);
  }
  return n;
};
const result = await runCampaign({
  inputs: num('inputs', values.inputs),
  seconds: num('seconds', values.seconds),
  stages,
  workers: num('workers', values.workers),
  outDir: path.resolve(values.out),
  seed: num('seed', values.seed),
  timeLimitMs: num('time-limit', values['time-limit']),
  memoryMb: num('memory', values.memory),
  maxSeedBytes: values['max-seed-bytes'] ? num('max-seed-bytes', values['max-seed-bytes']) : undefined,
  log: (l) => process.stderr.write(`fuzz: ${l}\n`),
});
process.stdout.write(`${figuresTable(result)}\n\n${result.seeds} seeds, seed ${values.seed}, ${result.seconds.toFixed(0)} s\n`);
const files = [...new Set(result.findings.map((f) => f.file).filter(Boolean))];
if (files.length) process.stdout.write(`minimised reproducers:\n${files.map((f) => `  ${f}`).join('\n')}\n`);
process.exitCode = result.findings.length ? 1 : 0;
