/**
 * Reading files the user names: regular files only, opened without blocking. A FIFO opened for
 * reading waits for a writer (forever, if none comes) and a device such as /dev/zero never ends:
 * both are refused as bad input, checked on the open descriptor (no race between a stat and the
 * open).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { badInput, MulletError } from './errors.js';

function kindOf(stat: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Opens `fullPath` for reading when it is a regular file; `name` labels errors (NOT_FOUND, BAD_INPUT, IO). */
export async function openRegularFile(fullPath: string, name: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fh = await open(fullPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MulletError('NOT_FOUND', 'no such file', { where: name, cause: err });
    if (code === 'ENXIO') throw badInput('is a socket or device without a reader; only regular files are read', name, err);
    throw new MulletError('IO', `cannot read: ${err instanceof Error ? err.message : String(err)}`, { where: name, cause: err });
  }
  const stat = await fh.stat();
  if (!stat.isFile()) {
    await fh.close();
    throw badInput(`is ${kindOf(stat)}; only regular files are read`, name);
  }
  return { fh, size: stat.size };
}

/** A regular file's text (UTF-8), refused as BAD_INPUT when larger than `maxBytes`. */
export async function readRegularTextFile(fullPath: string, name: string, maxBytes: number, what = 'file'): Promise<string> {
  const { fh, size } = await openRegularFile(fullPath, name);
  try {
    if (size > maxBytes) throw badInput(`is ${(size / 2 ** 20).toFixed(1)} MiB; a ${what} may be at most ${(maxBytes / 2 ** 20).toFixed(0)} MiB`, name);
    return await fh.readFile({ encoding: 'utf8' });
  } finally {
    await fh.close();
  }
}

/**
 * The synchronous twin of readRegularTextFile, for the loaders that run once at start-up (inventory,
 * site, agent config) and are called from synchronous code: the same refusals, the same limit.
 */
export function readRegularTextFileSync(fullPath: string, name: string, maxBytes: number, what = 'file'): string {
  let fd: number;
  try {
    fd = openSync(fullPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MulletError('NOT_FOUND', `no such ${what}`, { where: name, cause: err });
    if (code === 'ENXIO') throw badInput('is a socket or device without a reader; only regular files are read', name, err);
    throw new MulletError('IO', `cannot read: ${err instanceof Error ? err.message : String(err)}`, { where: name, cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw badInput(`is ${kindOf(stat)}; only regular files are read`, name);
    if (stat.size > maxBytes) throw badInput(`is ${(stat.size / 2 ** 20).toFixed(1)} MiB; a ${what} may be at most ${(maxBytes / 2 ** 20).toFixed(0)} MiB`, name);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
