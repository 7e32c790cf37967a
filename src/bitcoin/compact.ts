/**
 * Compact "nBits" encoding of 256-bit proof-of-work targets, bit-for-bit as Bitcoin Core's
 * arith_uint256::SetCompact / GetCompact (src/arith_uint256.cpp). The format is a base-256
 * float: one size byte, then a 3-byte mantissa whose top bit (0x00800000) is a sign flag, an
 * accident of the OpenSSL MPI format it was copied from.
 */

/** 2^256: arith_uint256 arithmetic wraps at this modulus. */
export const UINT256_MODULUS = 1n << 256n;
const UINT256_MASK = UINT256_MODULUS - 1n;

const SIGN_BIT = 0x00800000;
const MANTISSA_MASK = 0x007fffff;

export interface DecodedCompact {
  /** The unsigned 256-bit target (the sign bit is not applied; it is reported in `negative`). */
  target: bigint;
  /** The sign bit was set on a non-zero mantissa: no valid block has such bits. */
  negative: boolean;
  /** The value does not fit in 256 bits (`target` then holds Core's truncated value). */
  overflow: boolean;
}

function assertBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new RangeError(`compact bits must be an unsigned 32-bit integer, got ${bits}`);
  }
}

/** Decodes compact bits to a target exactly as SetCompact, with its negative and overflow flags. */
export function decodeCompact(bits: number): DecodedCompact {
  assertBits(bits);
  const size = bits >>> 24;
  let word = bits & MANTISSA_MASK;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    // A left shift in arith_uint256 drops bits past 2^256; mask to stay bit-exact on overflow.
    target = (BigInt(word) << BigInt(8 * (size - 3))) & UINT256_MASK;
  }
  const negative = word !== 0 && (bits & SIGN_BIT) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/** Number of significant bits of a non-negative bigint (arith_uint256::bits()). */
function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Encodes a target (0 ≤ target < 2^256) as compact bits exactly as GetCompact: the mantissa is
 * truncated (never rounded), and a mantissa with 0x00800000 set is shifted down one byte so it
 * does not read as negative.
 */
export function encodeCompact(target: bigint, negative = false): number {
  if (target < 0n || target > UINT256_MASK) throw new RangeError(`target must be in [0, 2^256), got ${target}`);
  let size = Math.floor((bitLength(target) + 7) / 8);
  let compact: number;
  if (size <= 3) {
    compact = Number(target << BigInt(8 * (3 - size)));
  } else {
    compact = Number(target >> BigInt(8 * (size - 3)));
  }
  if ((compact & SIGN_BIT) !== 0) {
    compact >>>= 8;
    size++;
  }
  compact = (compact | (size << 24)) >>> 0;
  if (negative && (compact & MANTISSA_MASK) !== 0) compact = (compact | SIGN_BIT) >>> 0;
  return compact;
}

/** Formats compact bits as `0x` + 8 lowercase hex digits, the way explorers and Core print them. */
export function formatBits(bits: number): string {
  assertBits(bits);
  return '0x' + bits.toString(16).padStart(8, '0');
}

/**
 * Parses compact bits written as hex, with or without `0x` (e.g. `1d00ffff`, `0x1D00FFFF`).
 * Returns undefined when the text is not 1–8 hex digits, so callers can name the bad input.
 */
export function parseBitsHex(text: string): number | undefined {
  const m = /^(?:0[xX])?([0-9a-fA-F]{1,8})$/.exec(text.trim());
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 16);
}

/** A 256-bit target as 64 lowercase hex digits (Core's GetHex order: most significant first). */
export function formatTarget(target: bigint): string {
  if (target < 0n || target > UINT256_MASK) throw new RangeError(`target must be in [0, 2^256), got ${target}`);
  return target.toString(16).padStart(64, '0');
}
