import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from './helpers';

const MODULE = path.resolve(__dirname, '../../src/core/quietStderr.ts');

/**
 * A Node process that writes to descriptor 2 directly (as a native library does) inside
 * `withStderrSilenced`, and through process.stderr before and after it.
 */
const CHILD = `
import * as fs from 'node:fs';
import { withStderrSilenced } from ${JSON.stringify(MODULE)};
process.stderr.write('before\\n');
const result = withStderrSilenced(() => { fs.writeSync(2, 'native line\\n'); return 42; });
try {
  withStderrSilenced(() => { fs.writeSync(2, 'second native line\\n'); throw new Error('load failed'); });
} catch (error) {
  process.stderr.write(error.message + '\\n');
}
process.stderr.write('after ' + result + '\\n');
`;

async function runChild(stderr: 'pipe' | 'file'): Promise<{ status: number | null; stderr: string }> {
  const dir = await makeTempDir('stderr');
  const script = path.join(dir, 'child.ts');
  await fs.writeFile(script, CHILD);
  if (stderr === 'pipe') {
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' });
    return { status: child.status, stderr: child.stderr };
  }
  const file = path.join(dir, 'stderr.txt');
  await fs.writeFile(file, 'already there\n');
  const fd = openSync(file, 'a');
  try {
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'ignore', fd] });
    return { status: child.status, stderr: await fs.readFile(file, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

describe('withStderrSilenced', () => {
  it('keeps what is written to descriptor 2 off a stderr redirected to a file, and puts stderr back after, on a throw too', { skip: process.platform !== 'linux' && 'swaps descriptors on Linux only' }, async () => {
    const { status, stderr } = await runChild('file');
    assert.equal(status, 0, stderr);
    assert.equal(stderr, 'already there\nbefore\nload failed\nafter 42\n');
  });

  it('runs the action as it is where stderr cannot be reopened (the socket a Node parent gives its child)', async () => {
    const { status, stderr } = await runChild('pipe');
    assert.equal(status, 0, stderr);
    assert.equal(stderr, 'before\nnative line\nsecond native line\nload failed\nafter 42\n');
  });
});
