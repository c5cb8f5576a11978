/**
 * Everything the CLI's commands run, in a module that `cli.ts` imports only when a command runs:
 * `vgatt --help` and `--version` then load yargs alone (issue 11: start-up time). `att`, `gatt` and
 * `decode` import the smaller read.ts instead.
 */
export * from './read.js';
export { generateLua } from '../lua/generate.js';
export { diagnose } from '../doctor/run.js';
export { doctorToText } from '../doctor/index.js';
export { CaptureSummarizer, diffSummaries, diffToText } from '../diff/index.js';
export { ReportBuilder, reportToText } from '../report/index.js';
export { reportToHtml } from '../report/html.js';
export { CaptureKeys } from '../adverts/readout.js';
export { runAnonymize } from './anonymize.js';
export { runProfileSuggest } from './profile.js';
export { instantReadoutReport, parseKeyOptions, runAdverts } from './adverts.js';
