/**
 * `npm run build` (also run by `npm ci` through `prepare`): compiles src/ to dist/ with tsc (the
 * library, its types), copies the non-TypeScript assets the compiled code reads next to itself
 * (profiles, Lua runtime), bundles the CLI with esbuild into dist/bundle/ (see bundleCli), then
 * writes dist/.built (the time and the source files), which bin/vgatt.js compares with src/ to notice a stale build.
 * Plain JavaScript so that it runs on a fresh clone before anything is compiled.
 * `--out DIR` builds elsewhere (the package test builds into a scratch copy, leaving dist/ alone).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** A device profile next to src/profiles/load.ts (not its schema or the product table): shipped packed, as NAME.jsonl (pack-profile.mjs). */
function isShippedProfile(rel) {
  const [dir, name, ...deeper] = rel.split(path.sep);
  return dir === 'profiles' && deeper.length === 0 && name.endsWith('.json') && name !== 'schema.json' && name !== 'products.json';
}

/**
 * The CLI as a few files instead of about 130 modules: Node's ESM loader resolves, reads and links
 * each module separately, which made up most of `vgatt --help`'s start-up (issue 11). One chunk holds
 * cli.js and yargs; each command's dynamic imports become chunks loaded only when it runs. The bundle
 * is built from tsc's output, so it runs the same code as dist/. Modules that find files next to
 * themselves through `import.meta.url` (profiles, Lua runtime, uPlot via createRequire) get the URL of
 * their compiled file in dist/, where build copied those files.
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
  await esbuild.build({
    entryPoints: [path.join(dist, 'cli.js')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // Less source for V8 to scan at every start (the chunks shrink by a quarter); identifiers are kept,
    // so that --verbose stack traces name our functions (their positions map to dist/ through the source maps).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    plugins: [ownUrl, asciiWidth],
    // --out DIR builds outside the checkout: dependencies still come from its node_modules.
    nodePaths: [path.join(root, 'node_modules')],
    // CommonJS dependencies (ajv, pcap-parser, yauzl) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __vgattRequire } from 'node:module'; const require = __vgattRequire(import.meta.url);" },
  });
}
