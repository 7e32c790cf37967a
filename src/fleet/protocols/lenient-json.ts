/**
 * A JSON reader for what miner firmware actually sends. Strict JSON.parse is tried first (fast
 * path); only when it fails does this recursive-descent reader run, tolerating exactly the quirks
 * seen in recorded replies:
 *   - a missing comma between array elements or object members: `[{...}{...}]` (S9 bmminer stats)
 *   - bare `nan`, `-nan`, `inf`, `-inf`, `NaN`, `Infinity` as values → null (Avalon "MHS av":nan);
 *     a consumer that needs a number then rejects the null as missing/non-finite
 *   - `\'` and other unknown escapes inside strings → the escaped character (Whatsminer M20S)
 *   - raw control characters inside strings
 *   - trailing commas before `}` or `]` (Avalon JSONP `"sys_status":"1", }`)
 *   - stray non-value bytes after the complete top-level value (a lone `"` ends the Avalon nan capture)
 * Anything else (unbalanced brackets, trailing text) throws LenientJsonError with the offset.
 */
export class LenientJsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** True when the input ended before the value was complete (a truncated reply). */
    readonly atEnd: boolean,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'LenientJsonError';
  }
}

const MAX_DEPTH = 128;
const BARE_NON_FINITE = ['-nan', 'nan', 'NaN', '-inf', 'inf', '-Infinity', 'Infinity', '+inf'];

/** Parses text as JSON, falling back to the quirk-tolerant reader. */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new Reader(text).document();
  }
}

/** True when strict JSON.parse would reject the text (used by tests and diagnostics). */
export function isStrictJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): unknown {
    this.ws();
    const v = this.value(0);
    this.ws();
    // Stray bytes after a complete top-level value (a lone '"' in the Avalon nan capture) are
    // noise; a second value (`{...}{...}` at top level) is not something we can interpret.
    if (this.i < this.s.length && /[[{]/.test(this.s.slice(this.i))) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(msg: string): never {
    throw new LenientJsonError(msg, this.i, this.i >= this.s.length);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      // space, tab, CR, LF, and stray NULs some firmware leaves between sections
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x00) this.i++;
      else break;
    }
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.ws();
    if (this.i >= this.s.length) this.fail('unexpected end of input');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const word of BARE_NON_FINITE) {
      if (this.s.startsWith(word, this.i) && !isWordChar(this.s[this.i + word.length])) {
        this.i += word.length;
        return null;
      }
    }
    if (c === '-' || c === '+' || (c !== undefined && c >= '0' && c <= '9') || c === '.') return this.number();
    if (this.s.startsWith('true', this.i)) return this.word('true', true);
    if (this.s.startsWith('false', this.i)) return this.word('false', false);
    if (this.s.startsWith('null', this.i)) return this.word('null', null);
    return this.fail(`unexpected character '${c ?? ''}'`);
  }

  private word<T>(w: string, v: T): T {
    this.i += w.length;
    return v;
  }

  private number(): number {
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.s.slice(this.i, this.i + 64));
    if (!m) return this.fail('malformed number');
    this.i += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '"') {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c === '\\') {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        if (e === undefined) this.fail('unterminated escape');
        this.i += 2;
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const hex = s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            this.i += 4;
            break;
          }
          default:
            // '"', '\\', '/', and the non-standard \' and friends all mean the character itself.
            out += e;
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
    return this.fail('unterminated string');
  }

  private array(depth: number): unknown[] {
    this.i++; // [
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === ']') {
          this.i++;
          return out;
        }
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      // `}{` between elements: a missing comma; carry on if another value starts here.
      if (c === '{' || c === '[' || c === '"') continue;
      if (c === undefined) this.fail('unexpected end of input in array');
      this.fail(`expected ',' or ']' but found '${c}'`);
    }
  }

  private object(depth: number): Record<string, unknown> {
    this.i++; // {
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') {
        if (this.i >= this.s.length) this.fail('unexpected end of input in object');
        this.fail('expected a quoted key');
      }
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') {
        if (this.i >= this.s.length) this.fail('unexpected end of input in object');
        this.fail("expected ':'");
      }
      this.i++;
      const v = this.value(depth + 1);
      setOwn(out, key, v);
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === '}') {
          this.i++;
          return out;
        }
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      if (c === '"') continue; // missing comma between members
      if (c === undefined) this.fail('unexpected end of input in object');
      this.fail(`expected ',' or '}' but found '${c}'`);
    }
  }
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

/** Assigns without ever touching the prototype chain (a device could send "__proto__"). */
function setOwn(obj: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[key] = v;
}

/**
 * Strips a JSONP wrapper `callback({...});` (Avalon get_minerinfo.cgi) and returns the inside.
 * The suffix is trimmed by hand: a single regex for the whole wrapper backtracks quadratically on
 * a long run of spaces after a ')'.
 */
export function unwrapJsonp(text: string): string {
  const t = text.trim();
  const m = /^[A-Za-z_$][\w$]*\s*\(/.exec(t);
  if (!m) return text;
  let end = t.length;
  if (t[end - 1] === ';') end = t.slice(0, end - 1).trimEnd().length;
  if (end <= m[0].length || t[end - 1] !== ')') return text;
  return t.slice(m[0].length, end - 1);
}
