/**
 * Reading a person's text safely: every way a file can be unsuitable (missing, a folder,
 * unreadable, huge, empty, binary, not UTF-8/UTF-16) becomes one clear UserError sentence
 * that names the file, before any of it reaches the tokenizer.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from './errors';

/**
 * 64 MiB, about 10 million English words. Far more than a word-level RNN can learn from
 * in useful time here (≈1–2k tokens/s on wasm, so one epoch would take hours), yet small
 * enough that the file, its JS string (2 bytes a character) and the token arrays fit in
 * an extension host's memory with room to spare. A bigger file is almost certainly a
 * mistake (a data dump, a disk image), and refusing it is kinder than running out of memory.
 */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** How much of the start of a text is inspected for signs of binary data (as git does). */
const SNIFF_LENGTH = 8000;

/** More control characters than this share of the sniffed start means binary data. */
const MAX_CONTROL_SHARE = 0.1;

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface TextSource {
  text: string;
  /** Absolute path, so config.json records exactly which file was read. */
  path: string;
  /** Size on disk. */
  bytes: number;
  encoding: TextEncoding;
}

/**
 * Reads one file as text. Throws a UserError naming the file when it is missing, a folder
 * or not a regular file, unreadable, larger than MAX_TEXT_BYTES, empty or whitespace-only,
 * binary, or not valid UTF-8 (or UTF-16 with a byte-order mark). A BOM is stripped.
 */
export async function readTextFile(path: string): Promise<TextSource> {
  const bytes = await readBytes(path);
  const { encoding, text } = decode(bytes, path);
  checkText(text, path);
  return { text, path: nodePath.resolve(path), bytes: bytes.length, encoding };
}

/** Reads several files, joined with a blank line, as one corpus. */
export async function readCorpus(paths: string[]): Promise<{ text: string; sources: TextSource[] }> {
  if (paths.length === 0) throw new UserError('No text file was given to train on.');
  const sources: TextSource[] = [];
  let total = 0;
  // One at a time, so the first bad file is the one reported and memory stays bounded.
  for (const path of paths) {
    const source = await readTextFile(path);
    total += source.bytes;
    if (total > MAX_TEXT_BYTES) {
      throw new UserError(
        `The ${paths.length} files together are larger than ${formatMegabytes(MAX_TEXT_BYTES)}, more than SeqLab can train on at once.`,
      );
    }
    sources.push(source);
  }
  // The blank line keeps the last word of one file from running into the first of the next.
  return { text: sources.map((s) => s.text).join('\n\n'), sources };
}

/**
 * The checks that apply to any text, including text that never touched the disk (an
 * editor document): it must not be empty, whitespace only, or look like binary data.
 * `name` is how the message names the text, e.g. a path or a document title.
 */
export function checkText(text: string, name: string): void {
  if (text.length === 0) throw new UserError(`"${name}" is empty, so there is nothing to train on.`);
  if (text.trim().length === 0) {
    throw new UserError(`"${name}" contains only whitespace, so there is nothing to train on.`);
  }
  if (looksBinary(text.slice(0, SNIFF_LENGTH))) {
    throw new UserError(`"${name}" looks like binary data, not text.`);
  }
}

/** SHA-256 (hex) of the text as UTF-8: config.json's fingerprint of the corpus. */
export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    // stat before opening: opening a FIFO would block until someone writes to it.
    const stat = await fs.stat(path);
    if (stat.isDirectory()) throw new UserError(`"${path}" is a folder, not a text file.`);
    if (!stat.isFile()) throw new UserError(`"${path}" is not a regular file.`);
    checkSize(stat.size, path);
    const bytes = await fs.readFile(path);
    checkSize(bytes.length, path); // it may have grown since the stat
    return bytes;
  } catch (error) {
    throw error instanceof UserError ? error : fileError(path, error);
  }
}

function checkSize(size: number, path: string): void {
  if (size > MAX_TEXT_BYTES) {
    throw new UserError(
      `"${path}" is ${formatMegabytes(size)}, larger than the ${formatMegabytes(MAX_TEXT_BYTES)} SeqLab can train on.`,
    );
  }
}

/** Turns a Node file-system error into a sentence about the file. */
function fileError(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new UserError(`The file "${path}" does not exist.`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new UserError(`The file "${path}" cannot be read: permission denied.`, { cause: error });
    case 'EISDIR':
      return new UserError(`"${path}" is a folder, not a text file.`, { cause: error });
    default:
      return new UserError(`The file "${path}" could not be read (${code ?? String(error)}).`, { cause: error });
  }
}

/** Decodes by byte-order mark (UTF-8 without one), refusing anything that is not valid text. */
function decode(bytes: Buffer, path: string): { encoding: TextEncoding; text: string } {
  const encoding = encodingFromBom(bytes);
  // NUL is valid UTF-8, so binary data and BOM-less UTF-16 would decode: look for it first.
  if (encoding === 'utf-8') refuseNulBytes(bytes, path);
  try {
    return { encoding, text: decodeStrict(bytes, encoding) };
  } catch {
    if (encoding !== 'utf-8') {
      throw new UserError(`"${path}" starts with a UTF-16 byte-order mark but is not valid UTF-16 text.`);
    }
    throw new UserError(
      `"${path}" is not valid UTF-8 text (line ${firstNonUtf8Line(bytes)} has a byte that is not UTF-8); save it as UTF-8 and try again.`,
    );
  }
}

function encodingFromBom(bytes: Buffer): TextEncoding {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/** Throws on any invalid sequence; TextDecoder strips the BOM itself (ignoreBOM: false). */
function decodeStrict(bytes: Buffer, encoding: TextEncoding): string {
  if (encoding === 'utf-16be') {
    // Swap to little-endian ourselves: 'utf-16be' in TextDecoder needs Node built with full ICU.
    if (bytes.length % 2 !== 0) throw new Error('odd number of bytes');
    return decodeStrict(Buffer.from(bytes).swap16(), 'utf-16le');
  }
  return new TextDecoder(encoding, { fatal: true }).decode(bytes);
}

/** NUL bytes near the start of BOM-less text mean binary data or UTF-16 saved without a BOM. */
function refuseNulBytes(bytes: Buffer, path: string): void {
  const start = bytes.subarray(0, SNIFF_LENGTH);
  if (!start.includes(0)) return;
  // UTF-16 text of mostly ASCII has a NUL in every other byte.
  if (looksLikeUtf16WithoutBom(start)) {
    throw new UserError(`"${path}" looks like UTF-16 text without a byte-order mark; save it as UTF-8 and try again.`);
  }
  throw new UserError(`"${path}" looks like binary data, not text.`);
}

function looksLikeUtf16WithoutBom(start: Buffer): boolean {
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < start.length; i++) {
    if (start[i] !== 0) continue;
    if (i % 2 === 0) evenNuls++;
    else oddNuls++;
  }
  const half = start.length / 2;
  return Math.max(evenNuls, oddNuls) > 0.4 * half && Math.min(evenNuls, oddNuls) < 0.05 * half;
}

/** 1-based line of the first invalid byte. A newline byte never occurs inside a UTF-8 sequence, so lines can be checked one by one. */
function firstNonUtf8Line(bytes: Buffer): number {
  let line = 1;
  let from = 0;
  while (from <= bytes.length) {
    const end = bytes.indexOf(0x0a, from);
    const to = end === -1 ? bytes.length : end;
    if (!isUtf8(bytes.subarray(from, to))) return line;
    if (end === -1) break;
    from = end + 1;
    line++;
  }
  return line;
}

/** NUL characters, or many control characters other than tab, line breaks and form feed. */
function looksBinary(start: string): boolean {
  let controls = 0;
  for (let i = 0; i < start.length; i++) {
    const code = start.charCodeAt(i);
    if (code === 0) return true;
    if ((code < 0x20 && !isTextControl(code)) || code === 0x7f) controls++;
  }
  return controls > MAX_CONTROL_SHARE * start.length;
}

/** \t \n \v \f \r: control characters that ordinary text uses. */
function isTextControl(code: number): boolean {
  return code >= 0x09 && code <= 0x0d;
}

function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}
