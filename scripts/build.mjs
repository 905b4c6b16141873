// Bundles the TypeScript sources with esbuild.
// - cli: for `seqlab` from an npm install; TensorFlow.js stays in node_modules.
// - extension: the VS Code side; `vscode` is provided by the editor, TensorFlow.js never loads here.
// - server and trainWorker: the engine process and its training threads. The .vsix ships no
//   node_modules, so these bundle TensorFlow.js, and the wasm backend's binaries are copied
//   next to them (src/core/backend.ts looks there first).
// - webviews: browser code for the dashboard, the Models view and the inspection panels, chart.js included.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
const node = { ...common, platform: 'node', target: 'node20', format: 'cjs' };
const browser = { ...common, platform: 'browser', target: 'es2022', format: 'iife' };

const targets = [
  { ...node, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist', external: ['@tensorflow/*'] },
  { ...node, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  {
    ...node,
    entryPoints: { server: 'src/server/entry.ts' },
    outdir: 'dist',
    external: ['@tensorflow/tfjs-node'],
    // backend.ts resolves the wasm package only when no .wasm sits next to the bundle,
    // which never happens for these bundles (the copy below puts them there).
    logOverride: { 'require-resolve-not-external': 'silent' },
  },
  {
    ...browser,
    entryPoints: { dashboard: 'src/webviews/dashboard.ts', models: 'src/webviews/models.ts', cells: 'src/webviews/cells.ts', memory: 'src/webviews/memory.ts' },
    outdir: 'dist/webviews',
  },
];

await Promise.all(targets.map((t) => build(t)));

const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
mkdirSync('dist', { recursive: true });
// Not the threaded build: TF.js never picks it in Node (its workers start from blob: URLs).
for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm') && !f.includes('threaded'))) {
  copyFileSync(join(wasmDir, file), join('dist', file));
}

// h5wasm (HDF5 for the Keras export's weights file) is an ES module with its WebAssembly
// inside; the bundles import() it from here, as the packaged extension has no node_modules.
const h5wasmDir = dirname(fileURLToPath(import.meta.resolve('h5wasm/node')));
mkdirSync(join('dist', 'h5wasm'), { recursive: true });
for (const file of ['hdf5_hl.js', 'hdf5_util.js']) copyFileSync(join(h5wasmDir, file), join('dist', 'h5wasm', file));
writeFileSync(join('dist', 'h5wasm', 'package.json'), JSON.stringify({ type: 'module' }));

// The Keras experiment that `export --keras-script` writes out is a Python file of its own.
mkdirSync(join('dist', 'python'), { recursive: true });
copyFileSync(join('src', 'python', 'keras_experiment.py'), join('dist', 'python', 'keras_experiment.py'));
