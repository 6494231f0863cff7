// Bundles the core package once into the committed dist/greenlight.js, each action's src/main.ts into a small
// actions/<name>/dist/index.js that imports it, and the root action into dist/index.js; then derives the root
// action.yml and the docs' contract tables. With --check, builds into a temporary folder and fails when any
// committed file differs from a fresh build, so dist/ can never drift from the sources.
//
// Why one shared bundle, unminified: the four actions share nearly all their code, and a minified bundle changes
// on every line whenever any source changes. One readable bundle keeps the committed code once, and a change to
// the sources changes only the lines it touches (small diffs, a small repository). `uses: owner/repo/actions/x`
// checks out the whole repository, so the relative import from an action's dist to dist/greenlight.js resolves.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { ACTIONS, contractTables, rootActionYaml, withContract } from './root-action.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The core bundle, relative to the repository. */
const SHARED_BUNDLE = 'dist/greenlight.js';
const entries = [
  { entry: 'shared/src/index.ts', out: SHARED_BUNDLE },
  ...ACTIONS.map((name) => ({ entry: `actions/${name}/src/main.ts`, out: `actions/${name}/dist/index.js` })),
  { entry: 'src/main.ts', out: 'dist/index.js' },
];

// Bundled CommonJS dependencies call require(); give the ESM bundle one.
const banner =
  "import { createRequire as __glCreateRequire } from 'node:module';\nconst require = __glCreateRequire(import.meta.url);";

/** Resolves `@greenlight/shared` in an action's entry to the shared bundle, relative to that entry's output. */
function sharedBundle(out: string): Plugin {
  const path = relative(dirname(join(root, out)), join(root, SHARED_BUNDLE));
  return {
    name: 'greenlight-shared-bundle',
    setup(context) {
      context.onResolve({ filter: /^@greenlight\/shared$/ }, () => ({ path, external: true }));
    },
  };
}

async function bundle(entry: string, out: string, outfile: string): Promise<void> {
  const options: BuildOptions = {
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // Syntax only: names and line breaks stay, so a source change makes a small diff of the bundle.
    minifySyntax: true,
    legalComments: 'none',
    sourcemap: false,
    logLevel: 'error',
    absWorkingDir: root,
  };
  if (out === SHARED_BUNDLE) options.banner = { js: banner };
  else options.plugins = [sharedBundle(out)];
  await build(options);
}

const check = process.argv.includes('--check');
const outRoot = check ? mkdtempSync(join(tmpdir(), 'greenlight-dist-')) : root;
const stale: string[] = [];
try {
  for (const { entry, out } of entries) {
    const outfile = join(outRoot, out);
    await bundle(entry, out, outfile);
    if (check) {
      const committedPath = join(root, out);
      const committed = existsSync(committedPath) ? readFileSync(committedPath) : undefined;
      if (!committed?.equals(readFileSync(outfile))) stale.push(out);
    } else {
      console.log(`built ${relative(root, outfile)}`);
    }
  }
} finally {
  if (check) rmSync(outRoot, { recursive: true, force: true });
}
const rootYaml = rootActionYaml(root);
if (check) {
  if (readFileSync(join(root, 'action.yml'), 'utf8') !== rootYaml) stale.push('action.yml');
} else {
  writeFileSync(join(root, 'action.yml'), rootYaml);
  console.log('built action.yml');
}
for (const action of ACTIONS) {
  const pagePath = join(root, 'docs', `${action}.md`);
  const page = readFileSync(pagePath, 'utf8');
  const fresh = withContract(page, contractTables(root, action));
  if (check && fresh !== page) stale.push(`docs/${action}.md`);
  if (!check && fresh !== page) {
    writeFileSync(pagePath, fresh);
    console.log(`built docs/${action}.md contract tables`);
  }
}
if (stale.length > 0) {
  console.error(`dist is out of date: ${stale.join(', ')}. Run \`npm run build\` and commit the bundles.`);
  process.exit(1);
}
if (check) console.log('dist: every committed bundle matches a fresh build');
