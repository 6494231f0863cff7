// Bundles each action's src/main.ts into its committed dist/index.js (one ESM file, Node 24), and the root
// action into dist/index.js, and derives the root action.yml. With --check, builds into a temporary folder and fails when any committed bundle
// differs from a fresh build, so dist/ can never drift from the sources.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ACTIONS, contractTables, rootActionYaml, withContract } from './root-action.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entries = [
  ...ACTIONS.map((name) => ({ entry: `actions/${name}/src/main.ts`, out: `actions/${name}/dist/index.js` })),
  { entry: 'src/main.ts', out: 'dist/index.js' },
];

// Bundled CommonJS dependencies call require(); give the ESM bundle one.
const banner =
  "import { createRequire as __glCreateRequire } from 'node:module';\nconst require = __glCreateRequire(import.meta.url);";

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    banner: { js: banner },
    logLevel: 'error',
    absWorkingDir: root,
  });
}

const check = process.argv.includes('--check');
const outRoot = check ? mkdtempSync(join(tmpdir(), 'greenlight-dist-')) : root;
const stale: string[] = [];
try {
  for (const { entry, out } of entries) {
    const outfile = join(outRoot, out);
    await bundle(entry, outfile);
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
