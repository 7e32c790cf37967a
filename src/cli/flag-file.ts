import path from 'node:path';
import { badInput, isMulletError } from '../core/errors.js';
import { readRegularTextFile } from '../core/files.js';
import { MAX_YAML_CHARS } from '../core/yaml-doc.js';
import type { CliIo } from './command.js';

/**
 * The text of a file named by a flag (`--site`, `--hashprice-csv`, `--exit-profile-csv`): resolved
 * against the working directory, regular files only (a FIFO would block the command), at most the
 * size of a config file. A missing file is bad input naming the flag.
 */
export async function readFlagFile(io: CliIo, file: string, flag: string): Promise<string> {
  try {
    return await readRegularTextFile(path.resolve(io.cwd, file), `${flag} ${file}`, MAX_YAML_CHARS, `${flag} file`);
  } catch (err) {
    if (isMulletError(err) && err.code === 'NOT_FOUND') throw badInput('file not found', `${flag} ${file}`, err);
    throw err;
  }
}
