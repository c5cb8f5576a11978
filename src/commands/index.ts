/**
 * Everything the CLI's commands run, in one module that `cli.ts` imports only when a command runs:
 * `vgatt --help` and `--version` then load yargs alone, and the bundled CLI (scripts/build.mjs) is
 * two files, the parser and this, instead of a chunk per stage (issue 11: start-up time).
 */
export { scanAtt, scanVictron } from '../pipeline.js';
export { loadProfiles, resolveProfile } from '../profiles/index.js';
export { generateLua } from '../lua/generate.js';
export { diagnose } from '../doctor/run.js';
export { doctorToText } from '../doctor/index.js';
export { CaptureSummarizer, diffSummaries, diffToText } from '../diff/index.js';
export { ReportBuilder, reportToText } from '../report/index.js';
export { reportToHtml } from '../report/html.js';
export { victronToCsv, victronToNdjson, victronToText, writeVictronNdjson, VICTRON_CSV_HEADER, VICTRON_CSV_HEADER_FILES, VICTRON_TEXT_HEADER } from '../output/victron.js';
export { attToCsv, attToNdjson, attToText, writeAttNdjson, ATT_CSV_HEADER, ATT_CSV_HEADER_FILES, ATT_TEXT_HEADER } from '../output/att.js';
export { gattToText } from '../output/gatt.js';
export { LineWriter } from '../output/writer.js';
export { Progress } from '../output/progress.js';
export { CaptureKeys } from '../adverts/readout.js';
export { runAnonymize } from './anonymize.js';
export { runProfileSuggest } from './profile.js';
export { instantReadoutReport, parseKeyOptions, runAdverts } from './adverts.js';
