import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { checkText, MAX_TEXT_BYTES, readCorpus, readTextFile, textHash } from '../../src/core/input';

let dir: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-input-'));
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function writeFile(name: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, data);
  return file;
}

/** Asserts a UserError whose message names the file and matches `pattern`. */
async function rejectsNaming(promise: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.ok(error.message.includes(name), `"${error.message}" should name ${name}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('readTextFile', () => {
  it('reads plain UTF-8 text', async () => {
    const file = await writeFile('plain.txt', 'the cat sat on the mat\n');
    const source = await readTextFile(file);
    assert.equal(source.text, 'the cat sat on the mat\n');
    assert.equal(source.encoding, 'utf-8');
    assert.equal(source.bytes, 23);
    assert.equal(source.path, path.resolve(file));
  });

  it('strips a UTF-8 byte-order mark', async () => {
    const file = await writeFile('bom8.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo wörld', 'utf8')]));
    const source = await readTextFile(file);
    assert.equal(source.text, 'héllo wörld');
    assert.equal(source.encoding, 'utf-8');
  });

  it('decodes UTF-16LE with a BOM', async () => {
    const file = await writeFile('le.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('naïve café 😀', 'utf16le')]));
    const source = await readTextFile(file);
    assert.equal(source.text, 'naïve café 😀');
    assert.equal(source.encoding, 'utf-16le');
  });

  it('decodes UTF-16BE with a BOM', async () => {
    const le = Buffer.from('big end', 'utf16le');
    const file = await writeFile('be.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]));
    const source = await readTextFile(file);
    assert.equal(source.text, 'big end');
    assert.equal(source.encoding, 'utf-16be');
  });

  it('refuses a missing file', async () => {
    await rejectsNaming(readTextFile(path.join(dir, 'nope.txt')), 'nope.txt', /does not exist/);
  });

  it('refuses a folder', async () => {
    const folder = path.join(dir, 'a-folder');
    await fs.mkdir(folder);
    await rejectsNaming(readTextFile(folder), 'a-folder', /is a folder/);
  });

  it('refuses an unreadable file', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root can read any file');
    const file = await writeFile('secret.txt', 'hidden words');
    await fs.chmod(file, 0o000);
    await rejectsNaming(readTextFile(file), 'secret.txt', /permission denied/);
  });

  it('refuses a file larger than the limit without reading it', async () => {
    const file = path.join(dir, 'huge.txt');
    const handle = await fs.open(file, 'w');
    await handle.truncate(MAX_TEXT_BYTES + 1); // sparse: no real disk space used
    await handle.close();
    await rejectsNaming(readTextFile(file), 'huge.txt', /larger than the 64 MB/);
  });

  it('refuses an empty file', async () => {
    await rejectsNaming(readTextFile(await writeFile('empty.txt', '')), 'empty.txt', /is empty/);
  });

  it('refuses a file holding only a BOM as empty', async () => {
    await rejectsNaming(readTextFile(await writeFile('only-bom.txt', Buffer.from([0xef, 0xbb, 0xbf]))), 'only-bom.txt', /is empty/);
  });

  it('refuses a whitespace-only file', async () => {
    await rejectsNaming(readTextFile(await writeFile('blank.txt', ' \n\t\r\n  ')), 'blank.txt', /only whitespace/);
  });

  it('refuses binary data with NUL bytes', async () => {
    const bytes = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    await rejectsNaming(readTextFile(await writeFile('program.bin', bytes)), 'program.bin', /binary/);
  });

  it('refuses valid UTF-8 that is mostly control characters', async () => {
    const text = 'ab\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11 cd';
    await rejectsNaming(readTextFile(await writeFile('controls.dat', text)), 'controls.dat', /binary/);
  });

  it('refuses invalid UTF-8 and says on which line', async () => {
    const bytes = Buffer.concat([Buffer.from('first line\nsecond '), Buffer.from([0xc3, 0x28]), Buffer.from(' line\n')]);
    await rejectsNaming(readTextFile(await writeFile('latin.txt', bytes)), 'latin.txt', /not valid UTF-8 text \(line 2/);
  });

  it('recognises UTF-16 saved without a BOM', async () => {
    const file = await writeFile('nobom16.txt', Buffer.from('some words here', 'utf16le'));
    await rejectsNaming(readTextFile(file), 'nobom16.txt', /UTF-16 text without a byte-order mark/);
  });

  it('refuses a UTF-16 BOM followed by invalid UTF-16', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x00, 0xd8, 0x41]); // lone surrogate, odd length
    await rejectsNaming(readTextFile(await writeFile('bad16.txt', bytes)), 'bad16.txt', /not valid UTF-16/);
  });
});

describe('readCorpus', () => {
  it('joins files with a blank line and lists the sources', async () => {
    const a = await writeFile('a.txt', 'one two');
    const b = await writeFile('b.txt', 'three four');
    const corpus = await readCorpus([a, b]);
    assert.equal(corpus.text, 'one two\n\nthree four');
    assert.deepEqual(
      corpus.sources.map((s) => s.path),
      [path.resolve(a), path.resolve(b)],
    );
  });

  it('reports the bad file among several', async () => {
    const a = await writeFile('good.txt', 'fine text');
    await rejectsNaming(readCorpus([a, path.join(dir, 'absent.txt')]), 'absent.txt', /does not exist/);
  });

  it('refuses files that are too large together', async () => {
    const half = 'word '.repeat(Math.ceil(MAX_TEXT_BYTES / 2 / 5) + 1);
    const a = await writeFile('half-a.txt', half);
    const b = await writeFile('half-b.txt', half);
    await assert.rejects(readCorpus([a, b]), /files together are larger than 64 MB/);
    await Promise.all([fs.rm(a), fs.rm(b)]);
  });

  it('refuses an empty list', async () => {
    await assert.rejects(readCorpus([]), UserError);
  });
});

describe('checkText', () => {
  it('accepts ordinary text', () => {
    checkText('Hello, world.\tTabs and\r\nline breaks\fare fine.', 'Untitled-1');
  });

  for (const [label, text, pattern] of [
    ['empty', '', /is empty/],
    ['whitespace', '   \n ', /only whitespace/],
    ['NUL', 'abc\0def', /binary/],
  ] as const) {
    it(`refuses ${label} text, naming the document`, () => {
      assert.throws(
        () => checkText(text, 'Untitled-1'),
        (error: unknown) => error instanceof UserError && error.message.includes('Untitled-1') && pattern.test(error.message),
      );
    });
  }
});

describe('textHash', () => {
  it('is the SHA-256 of the UTF-8 text', () => {
    assert.equal(textHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.notEqual(textHash('é'), textHash('e'));
  });
});
