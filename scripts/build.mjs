/**
 * `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to dist/ with tsc (the
 * library, its types), copies the non-TypeScript assets the compiled code reads next to itself
 * (profiles, Lua runtime), bundles the CLI with esbuild into dist/bundle/ (see bundleCli), then
 * writes dist/.built (the time and the source files), which bin/vgatt.js compares with src/ to notice a stale build.
 * Plain JavaScript so that it runs on a fresh clone before anything is compiled.
 * `--out DIR` builds elsewhere (the package test builds into a scratch copy, leaving dist/ alone).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packProfile } from './pack-profile.mjs';

const root = path.resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
// Every source file, relative to src/ (the assets are copied below; all are listed in dist/.built).
const sources = readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => path.relative(path.join(root, 'src'), path.join(e.parentPath ?? e.path, e.name)))
  .sort();
for (const rel of sources) {
  if (!/\.(json|lua)$/.test(rel)) continue;
  mkdirSync(path.dirname(path.join(dist, rel)), { recursive: true });
  if (isShippedProfile(rel)) writeFileSync(path.join(dist, rel.replace(/\.json$/, '.jsonl')), packProfile(readFileSync(path.join(root, 'src', rel), 'utf8')));
  else copyFileSync(path.join(root, 'src', rel), path.join(dist, rel));
}
await bundleCli();
// The build time, then the source files it was built from: bin/vgatt.js checks those (no directory walk at start-up).
writeFileSync(path.join(dist, '.built'), [new Date().toISOString(), ...sources.map((rel) => rel.split(path.sep).join('/'))].join('\n') + '\n');
writeCodeCaches();

/** A device profile next to src/profiles/load.ts (not its schema or the product table): shipped packed, as NAME.jsonl (pack-profile.mjs). */
function isShippedProfile(rel) {
  const [dir, name, ...deeper] = rel.split(path.sep);
  return dir === 'profiles' && deeper.length === 0 && name.endsWith('.json') && name !== 'schema.json' && name !== 'products.json';
}

/**
 * The CLI as three CommonJS bundles instead of about 130 modules (issue 11: start-up time): cli.cjs
 * (cli.js and yargs: all that `vgatt --help` and `--version` load), read.cjs (what att, gatt and
 * decode run) and commands.cjs (what every command runs), each loaded only when a command needs it.
 * bin/vgatt.js compiles them with vm.Script and the V8 code cache written below: Node 20 caches no
 * compiled code for ES modules, and their loader alone was a fifth of `--help`. The bundles are built
 * from tsc's output, so they run the same code as dist/. Modules that find files next to themselves
 * through `import.meta.url` (profiles, Lua runtime, uPlot via createRequire) get the URL of their
 * compiled file in dist/, where build copied those files.
 */
async function bundleCli() {
  const esbuild = await import('esbuild');
  const outdir = path.join(dist, 'bundle');
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + path.sep)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = path.relative(outdir, args.path).split(path.sep).join('/');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
  // cliui and wrap-ansi measure every piece of help text with string-width, which builds an
  // Intl.Segmenter on import and an emoji regex per character (about a fifth of `vgatt --help`).
  // Printable ASCII, all our help text, is as wide as it is long; any other string still goes to
  // the string-width that the importer asked for, loaded on first use.
  const asciiWidth = {
    name: 'ascii-string-width',
    setup(build) {
      build.onResolve({ filter: /^string-width$/ }, (args) => {
        if (args.namespace === 'ascii-width') return undefined;
        return { path: createRequire(args.importer).resolve('string-width'), namespace: 'ascii-width' };
      });
      build.onLoad({ filter: /.*/, namespace: 'ascii-width' }, (args) => ({
        resolveDir: path.dirname(args.path),
        contents: `let real;
export default function stringWidth(text, options) {
  if (typeof text === 'string' && /^[\\x20-\\x7e]*$/.test(text)) return text.length;
  real ??= require(${JSON.stringify(args.path)}).default;
  return real(text, options);
}
`,
      }));
    },
  };
  // cli.ts loads the command modules through the loader main() is given (bin/vgatt.js: the other bundles).
  const commandsApart = {
    name: 'commands-apart',
    setup(build) {
      build.onResolve({ filter: /^\.\/commands\/(read|index)\.js$/ }, (args) => (args.importer === path.join(dist, 'cli.js') ? { path: args.path, external: true } : undefined));
    },
  };
  await esbuild.build({
    entryPoints: { cli: path.join(dist, 'cli.js'), read: path.join(dist, 'commands', 'read.js'), commands: path.join(dist, 'commands', 'index.js') },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // Less source for V8 to scan (the bundles shrink by a quarter); identifiers are kept, so that
    // --verbose stack traces name our functions (their positions map to dist/ through the source maps).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    plugins: [ownUrl, asciiWidth, commandsApart],
    // --out DIR builds outside the checkout: dependencies still come from its node_modules.
    nodePaths: [path.join(root, 'node_modules')],
    // bin/vgatt.js gives each bundle __filename (and require); import.meta.url is the bundle's URL.
    define: { 'import.meta.url': '__vgattUrl' },
    banner: { js: 'var __vgattUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
}

/**
 * The V8 code caches of the bundles (dist/bundle/NAME.cjs.cache), made by running the built CLI on
 * a sample capture: a cache holds the functions that had been compiled when it was made, so each is
 * written by a run that uses it as users do (the last run of cli.cjs is `--help`). A run that fails
 * says so; a bundle left without a cache is compiled as it would be without one.
 */
function writeCodeCaches() {
  const bin = path.join(dist, '..', 'bin', 'vgatt.js');
  const sample = path.join(root, 'captures', 'smartsolar-session.btsnoop');
  if (!existsSync(bin)) return;
  // NODE_PATH: a build elsewhere (--out) has no node_modules of its own for what the bundles require() at run time (ajv, uPlot).
  const env = { ...process.env, VGATT_WRITE_CODE_CACHE: '1', NODE_PATH: path.join(root, 'node_modules') };
  for (const argv of [['report', sample], ['decode', '--format', 'ndjson', sample], ['--help']]) {
    const r = spawnSync(process.execPath, [bin, ...argv], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
    if (r.status !== 0) console.warn(`build: no code cache from vgatt ${argv[0]} (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  }
}
