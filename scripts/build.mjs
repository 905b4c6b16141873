// Bundles the TypeScript sources with esbuild. TensorFlow.js stays external: its
// backends find their native and .wasm files relative to their own package folders.
import { build } from 'esbuild';

const external = ['@tensorflow/*'];

await build({
  entryPoints: { cli: 'src/cli.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: 'dist',
  sourcemap: true,
  external,
  logLevel: 'warning',
});
