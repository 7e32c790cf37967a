import { badInput } from '../core/errors.js';

/**
 * A tiny declarative command framework over node:util-style flags. Each command declares its
 * options with a description and unit, so `--help` is generated and every value is validated
 * before `run` sees it.
 */
export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionSpec {
  type: OptionType;
  description: string;
  /** Unit shown in help, e.g. 'USD/MWh', 'MW', 'unix seconds'. */
  unit?: string;
  /** Placeholder in help, e.g. 'FILE', 'YYYY-MM-DD'. */
  value?: string;
  required?: boolean;
  multiple?: boolean;
  choices?: readonly string[];
  /**
   * Bounds of a 'number' or 'int' (each value of a repeatable one), in `unit`: `min`/`max`
   * inclusive, `gt` exclusive ("must be > 0"). Every numeric option has a lower and an upper bound
   * (registry.test.ts checks): the physical range of the quantity, wide enough for every real use,
   * so absurd input is rejected with exit 2 instead of hanging, overflowing or printing NaN.
   */
  min?: number;
  gt?: number;
  max?: number;
  /** Added to an out-of-range error, e.g. 'a fraction: 0.08 = 8 %, not a percent'. */
  rangeHint?: string;
  default?: string | number | boolean;
  /** Name of an environment variable that supplies the default. */
  env?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  multiple?: boolean;
}

export type OptionValue = string | number | boolean | string[] | number[] | undefined;

export interface ParsedArgs {
  options: Record<string, OptionValue>;
  positionals: string[];
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** True when stderr is a terminal (progress bars); false gives plain progress lines. */
  stderrIsTty: boolean;
  /** Fires on SIGINT/SIGTERM for long-running commands. */
  signal: AbortSignal;
  /** Standard input, for commands that read a secret from it (`--password-stdin`); absent: process.stdin. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CommandSpec {
  /** Words after `mullet`, e.g. ['chain', 'subsidy']. */
  path: readonly string[];
  summary: string;
  description?: string;
  options: Record<string, OptionSpec>;
  positionals?: readonly PositionalSpec[];
  /** Adds the standard `--json` flag: one JSON document on stdout and nothing else there. */
  json?: boolean;
  examples?: readonly string[];
  run: (args: ParsedArgs, io: CliIo) => Promise<number | void>;
}

export const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'print one JSON document on stdout and nothing else there',
};

export function allOptions(cmd: CommandSpec): Record<string, OptionSpec> {
  return cmd.json ? { ...cmd.options, json: JSON_OPTION } : cmd.options;
}

/** Formats a bound for messages and help: 86400 → '86,400', 1e-6 → '0.000001'. */
function bound(v: number): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: 12 });
}

/** The allowed range of a numeric option as text, e.g. '> 0 and <= 3,600 s', '1..100,000 paths'; '' when unbounded. */
export function rangeText(spec: OptionSpec): string {
  const unit = spec.unit ? ` ${spec.unit}` : '';
  const { min, gt, max } = spec;
  if (min !== undefined && max !== undefined) return `${bound(min)}..${bound(max)}${unit}`;
  if (gt !== undefined && max !== undefined) return `> ${bound(gt)} and <= ${bound(max)}${unit}`;
  if (min !== undefined) return `>= ${bound(min)}${unit}`;
  if (gt !== undefined) return `> ${bound(gt)}${unit}`;
  if (max !== undefined) return `<= ${bound(max)}${unit}`;
  return '';
}

function checkRange(name: string, spec: OptionSpec, v: number, raw: string): number {
  if ((spec.min !== undefined && v < spec.min) || (spec.gt !== undefined && v <= spec.gt) || (spec.max !== undefined && v > spec.max)) {
    const hint = spec.rangeHint ? ` (${spec.rangeHint})` : '';
    throw badInput(`must be ${spec.min !== undefined && spec.max !== undefined ? 'within ' : ''}${rangeText(spec)}, got ${raw.trim()}${hint}`, `--${name}`);
  }
  return v;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        throw badInput(`expected one of ${spec.choices.join(', ')}, got '${raw}'`, `--${name}`);
      }
      return raw;
    case 'number': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw badInput(`expected a number, got '${raw}'`, `--${name}`);
      return checkRange(name, spec, v, raw);
    }
    case 'int': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      // A huge whole number (1e300) is out of range rather than "not an integer".
      if (!Number.isInteger(v)) throw badInput(`expected an integer, got '${raw}'`, `--${name}`);
      checkRange(name, spec, v, raw);
      if (!Number.isSafeInteger(v)) throw badInput(`expected an integer, got '${raw}'`, `--${name}`);
      return v;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw badInput(`expected true or false, got '${raw}'`, `--${name}`);
  }
}

/** Parses argv (after the command words) against the spec; throws BAD_INPUT with the flag named. */
export function parseArgs(cmd: CommandSpec, argv: readonly string[], env: CliIo['env']): ParsedArgs {
  const specs = allOptions(cmd);
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      // Negative numbers are values, not flags; a lone '-' is stdin by convention.
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = specs[name];
      inline = 'false';
    }
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw badInput(`unknown option; this command takes: ${known || '(no options)'}`, `--${name}`);
    }
    let raw: string;
    if (spec.type === 'boolean') {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw badInput(`needs a value${spec.value ? ` (${spec.value})` : ''}`, `--${name}`);
      }
      raw = next;
      i++;
    }
    const value = convert(name, spec, raw);
    if (spec.multiple) {
      const prev = (options[name] as (string | number)[] | undefined) ?? [];
      options[name] = [...prev, value as string | number] as string[] | number[];
    } else {
      if (seen.has(name)) throw badInput('given more than once', `--${name}`);
      options[name] = value;
    }
    seen.add(name);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (options[name] !== undefined) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') options[name] = convert(name, spec, fromEnv);
    else if (spec.default !== undefined) options[name] = spec.default;
    else if (spec.required) throw badInput('is required (see --help)', `--${name}`);
  }
  const pos = cmd.positionals ?? [];
  const last = pos[pos.length - 1];
  if (!last?.multiple && positionals.length > pos.length) {
    throw badInput(`unexpected argument '${positionals[pos.length]}'`, cmd.path.join(' '));
  }
  pos.forEach((p, idx) => {
    if (p.required && positionals.length <= idx) throw badInput(`missing argument <${p.name}>`, cmd.path.join(' '));
  });
  return { options, positionals };
}

/** Typed accessors: the spec guarantees the type, these make it visible to the compiler. */
export const opt = {
  str(a: ParsedArgs, name: string): string | undefined {
    const v = a.options[name];
    return typeof v === 'string' ? v : undefined;
  },
  num(a: ParsedArgs, name: string): number | undefined {
    const v = a.options[name];
    return typeof v === 'number' ? v : undefined;
  },
  bool(a: ParsedArgs, name: string): boolean {
    return a.options[name] === true;
  },
  strs(a: ParsedArgs, name: string): string[] {
    const v = a.options[name];
    return Array.isArray(v) ? v.map(String) : [];
  },
  nums(a: ParsedArgs, name: string): number[] {
    const v = a.options[name];
    return Array.isArray(v) ? v.map(Number) : [];
  },
};

/** Like opt.str but throws BAD_INPUT when absent: for options required only in some modes. */
export function need<T>(value: T | undefined, name: string, why = 'is required here'): T {
  if (value === undefined) throw badInput(why, `--${name}`);
  return value;
}

export function formatHelp(cmd: CommandSpec): string {
  const specs = allOptions(cmd);
  const pos = (cmd.positionals ?? []).map((p) => {
    const n = `<${p.name}>${p.multiple ? '...' : ''}`;
    return p.required ? n : `[${n}]`;
  });
  const lines = [`Usage: mullet ${cmd.path.join(' ')}${pos.length ? ' ' + pos.join(' ') : ''} [options]`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of cmd.positionals) lines.push(`  ${`<${p.name}>`.padEnd(28)} ${p.description}`);
  }
  lines.push('', 'Options:');
  const rows = Object.entries(specs).map(([name, s]) => {
    const placeholder = s.type === 'boolean' ? '' : ` ${s.value ?? (s.type === 'string' ? 'TEXT' : s.type === 'int' ? 'N' : 'X')}`;
    const left = `--${name}${placeholder}`;
    const extras: string[] = [];
    if (s.unit) extras.push(`unit: ${s.unit}`);
    if (s.choices) extras.push(`one of: ${s.choices.join(', ')}`);
    const range = s.type === 'number' || s.type === 'int' ? rangeText({ ...s, unit: '' }) : '';
    if (range) extras.push(`range: ${range}`);
    if (s.default !== undefined) extras.push(`default: ${String(s.default)}`);
    if (s.env) extras.push(`env: ${s.env}`);
    if (s.required) extras.push('required');
    if (s.multiple) extras.push('repeatable');
    return `  ${left.padEnd(34)} ${s.description}${extras.length ? ` [${extras.join('; ')}]` : ''}`;
  });
  lines.push(...rows, `  ${'--help'.padEnd(34)} show this help`);
  if (cmd.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of cmd.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}
