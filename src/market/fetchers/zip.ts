import { crc32, inflateRawSync } from 'node:zlib';
import { MulletError } from '../../core/errors.js';

/**
 * A minimal ZIP reader for ERCOT report documents (one CSV per archive): end-of-central-directory →
 * central directory → local headers; methods 0 (stored) and 8 (deflate); CRC-32 checked.
 * Sizes come from the central directory, so entries written with a data descriptor (flag bit 3)
 * read correctly. ZIP64, encryption and multi-disk archives are refused with a clear error.
 */

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** Offset of the local file header from the start of the archive. */
  localHeaderOffset: number;
  flags: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
/** Refuse to inflate beyond this (a zip bomb guard), bytes. */
const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

function fail(message: string, where: string): MulletError {
  return new MulletError('PARSE', message, { where });
}

/** True when the bytes start like a ZIP archive (local header or empty-archive EOCD). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32LE(0);
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

interface Eocd {
  /** Offset of the record in the buffer searched. */
  at: number;
  count: number;
  cdSize: number;
  cdOffset: number;
}

/** Finds and checks the end-of-central-directory record in the last bytes of an archive. */
function findEocd(buf: Buffer, where: string): Eocd {
  let at = -1;
  const stop = Math.max(0, buf.length - EOCD_MIN - MAX_COMMENT);
  for (let i = buf.length - EOCD_MIN; i >= stop; i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw fail('not a ZIP archive (no end-of-central-directory record)', where);
  const disk = buf.readUInt16LE(at + 4);
  const cdDisk = buf.readUInt16LE(at + 6);
  const count = buf.readUInt16LE(at + 10);
  const cdSize = buf.readUInt32LE(at + 12);
  const cdOffset = buf.readUInt32LE(at + 16);
  if (disk !== 0 || cdDisk !== 0) throw fail('multi-disk ZIP archives are not supported', where);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw fail('ZIP64 archives are not supported', where);
  return { at, count, cdSize, cdOffset };
}

/** Parses `count` central directory entries from `cd` (the directory's own bytes). */
function centralEntries(cd: Buffer, count: number, where: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw fail(`bad central directory entry #${k}`, where);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    const compressedSize = cd.readUInt32LE(p + 20);
    const uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const localHeaderOffset = cd.readUInt32LE(p + 42);
    // Bit 11: UTF-8 names; otherwise CP437, which is ASCII for every name ERCOT uses.
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      throw fail(`ZIP64 entry '${name}' is not supported`, where);
    }
    entries.push({ name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset, flags });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Lists the entries of an archive from its central directory. */
export function listZip(bytes: Uint8Array, where = 'zip'): ZipEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < EOCD_MIN) throw fail(`not a ZIP archive (${buf.length} bytes)`, where);
  const e = findEocd(buf, where);
  if (e.cdOffset + e.cdSize > e.at) throw fail('central directory lies outside the archive', where);
  return centralEntries(buf.subarray(e.cdOffset, e.cdOffset + e.cdSize), e.count, where);
}

/** The single file of an archive of exactly one (ERCOT's documents); directories are ignored. */
function singleFile(entries: readonly ZipEntry[], where: string): ZipEntry {
  const files = entries.filter((e) => !e.name.endsWith('/'));
  if (files.length !== 1) {
    throw fail(`expected one file in the archive, found ${files.length}${files.length ? `: ${files.map((f) => f.name).join(', ')}` : ''}`, where);
  }
  return files[0] as ZipEntry;
}

function checkEntry(entry: ZipEntry, at: string): void {
  if (entry.flags & 0x1) throw fail('encrypted ZIP entries are not supported', at);
  if (entry.method !== 0 && entry.method !== 8) throw fail(`compression method ${entry.method} is not supported (only 0 stored and 8 deflate)`, at);
}

/** A central directory larger than this is not one of ours, bytes. */
const MAX_CENTRAL_DIRECTORY = 16 * 1024 * 1024;

/**
 * Locates the single file of an archive read piece by piece (`readAt(position, length)`), without
 * loading the archive: its entry and the offset of its data. The caller streams the data
 * (inflating method 8) and checks the entry's size and CRC-32 at the end.
 */
export async function openZipEntry(readAt: (position: number, length: number) => Promise<Buffer>, size: number, where = 'zip'): Promise<{ entry: ZipEntry; dataStart: number }> {
  if (size < EOCD_MIN) throw fail(`not a ZIP archive (${size} bytes)`, where);
  const tailStart = Math.max(0, size - EOCD_MIN - MAX_COMMENT);
  const e = findEocd(await readAt(tailStart, size - tailStart), where);
  if (e.cdOffset + e.cdSize > tailStart + e.at) throw fail('central directory lies outside the archive', where);
  if (e.cdSize > MAX_CENTRAL_DIRECTORY) throw fail(`central directory larger than ${MAX_CENTRAL_DIRECTORY} bytes`, where);
  const entry = singleFile(centralEntries(await readAt(e.cdOffset, e.cdSize), e.count, where), where);
  const at = `${where}:${entry.name}`;
  checkEntry(entry, at);
  const local = await readAt(entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== SIG_LOCAL) throw fail('bad local file header', at);
  // The local header's own name/extra lengths may differ from the central directory's.
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataStart + entry.compressedSize > size) throw fail('entry data runs past the end of the archive', at);
  return { entry, dataStart };
}

/** The uncompressed bytes of one entry, CRC-checked. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, where = 'zip'): Buffer {
  const at = `${where}:${entry.name}`;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkEntry(entry, at);
  const h = entry.localHeaderOffset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== SIG_LOCAL) throw fail('bad local file header', at);
  // The local header's own name/extra lengths may differ from the central directory's.
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) throw fail('entry data runs past the end of the archive', at);
  if (entry.uncompressedSize > MAX_ENTRY_BYTES) throw fail(`entry larger than ${MAX_ENTRY_BYTES} bytes`, at);
  const raw = buf.subarray(start, end);
  let data: Buffer;
  switch (entry.method) {
    case 0:
      data = raw;
      break;
    case 8:
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(entry.uncompressedSize, 1) });
      } catch (err) {
        throw new MulletError('PARSE', 'corrupt deflate stream', { where: at, cause: err });
      }
      break;
    default:
      throw fail(`compression method ${entry.method} is not supported (only 0 stored and 8 deflate)`, at);
  }
  if (data.length !== entry.uncompressedSize) throw fail(`size mismatch: ${data.length} bytes, directory says ${entry.uncompressedSize}`, at);
  if (crc32(data) >>> 0 !== entry.crc32) throw fail('CRC-32 mismatch (corrupt archive)', at);
  return data;
}

/** The single file in an archive of exactly one (ERCOT's documents); directories are ignored. */
export function readSingleFileZip(bytes: Uint8Array, where = 'zip'): { name: string; data: Buffer } {
  const entry = singleFile(listZip(bytes, where), where);
  return { name: entry.name, data: readZipEntry(bytes, entry, where) };
}
