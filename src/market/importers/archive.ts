/**
 * Transparent decompression for imports: gzip (`.gz`, magic 1f 8b) and single-file zip archives
 * (ERCOT's MIS serves each report as `*_csv.zip`; the zip reader is the fetchers' one).
 * Detected by magic bytes, not by name.
 */
import { gunzipSync } from 'node:zlib';
import { badInput, isMulletError } from '../../core/errors.js';
import { looksLikeZip, readSingleFileZip } from '../fetchers/zip.js';

/** The text of a data file: plain, gzip'd, or the one file inside a zip. */
export function decodeDataFile(file: string, bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString('utf8');
    } catch (err) {
      throw badInput(`corrupt gzip data: ${err instanceof Error ? err.message : String(err)}`, file, err);
    }
  }
  if (looksLikeZip(bytes)) {
    try {
      return readSingleFileZip(bytes, file).data.toString('utf8');
    } catch (err) {
      // A file the user named is their input: a corrupt archive is BAD_INPUT (exit 2) here.
      if (isMulletError(err)) throw badInput(err.message, err.where ?? file, err);
      throw err;
    }
  }
  return bytes.toString('utf8');
}
