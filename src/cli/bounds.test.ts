import { describe, expect, it } from 'vitest';
import { captureIo } from './capture.js';
import { formatHelp, rangeText, type OptionSpec } from './command.js';
import { assertFiniteDeep, fmt, formatTable, guardStdout, printJson } from './output.js';
import { COMMANDS } from './registry.js';
import { runCli } from './run.js';

const numeric = COMMANDS.flatMap((cmd) =>
  Object.entries(cmd.options)
    .filter(([, s]) => s.type === 'number' || s.type === 'int')
    .map(([name, spec]) => ({ cmd: cmd.path.join(' '), path: cmd.path, name, spec })),
);

/** A value just outside the option's range: above its maximum (and far above it: 1e300). */
function above(spec: OptionSpec): string {
  return String((spec.max as number) + Math.max(1, Math.abs(spec.max as number)));
}

describe('every numeric flag of every command is bounded', () => {
  it('has a lower and an upper bound, a default inside them, and shows the range in --help', () => {
    expect(numeric.length).toBeGreaterThan(60);
    for (const { cmd, name, spec } of numeric) {
      const label = `${cmd} --${name}`;
      expect(spec.min !== undefined || spec.gt !== undefined, `${label} has no lower bound`).toBe(true);
      expect(spec.max, `${label} has no upper bound`).toBeDefined();
      if (typeof spec.default === 'number') {
        const d = spec.default;
        expect(d >= (spec.min ?? -Infinity) && d > (spec.gt ?? -Infinity) && d <= (spec.max ?? Infinity), `${label} default ${d} outside ${rangeText(spec)}`).toBe(true);
      }
      const help = formatHelp(COMMANDS.find((c) => c.path.join(' ') === cmd) as (typeof COMMANDS)[number]);
      const options = help.slice(help.indexOf('\nOptions:\n'));
      const line = options.split('\n').find((l) => l.startsWith(`  --${name} `)) ?? '';
      expect(line, `${label} help`).toContain(`range: ${rangeText({ ...spec, unit: '' })}`);
    }
  });

  it.each(numeric)('$cmd --$name: too large, absurd (1e300) and too small all exit 2 naming the flag and the range', async ({ path, name, spec }) => {
    const low = spec.min !== undefined ? String(spec.min - Math.max(1, Math.abs(spec.min))) : String(spec.gt);
    for (const value of [above(spec), '1e300', low]) {
      const io = captureIo();
      const code = await runCli([...path, `--${name}`, value], io);
      expect(code, `--${name} ${value}: ${io.err()}`).toBe(2);
      expect(io.err()).toContain(`--${name}: must be`);
      expect(io.err()).toContain(`got ${value}`);
    }
  });

  it('the findings of issue 9 are refused with the allowed range, before any work starts', async () => {
    const cases: [string[], RegExp][] = [
      [['agent', '--site', 's.yaml', '--inventory', 'i.json', '--tick-s', '3000000'], /--tick-s: must be within 0\.05\.\.3,600 s, got 3000000/],
      [['deals', '--propose-mw', '100', '--propose-years', '1e9', '--propose-total-usd', '1e9'], /--propose-years: must be > 0 and <= 50 years, got 1e9/],
      [['contract', 'value', '--mw', '100', '--years', '1e5', '--total-usd', '1e9'], /--years: must be > 0 and <= 50 years, got 1e5/],
      [['plan', '--portfolio', 'p.yaml', '--paths', '1e7'], /--paths: must be within 1\.\.100,000 paths, got 1e7/],
      [['sim', '--miners', '1e7'], /--miners: must be within 1\.\.200,000 miners, got 1e7/],
      [['backtest', '--site', 's.yaml', '--from', '2023-08-01', '--to', '2023-08-02', '--policy', 'strike', '--hashprice-usd-per-ph-day', '1e308'], /--hashprice-usd-per-ph-day: must be within 0\.\.1,000,000 USD\/PH\/day/],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      expect(await runCli(argv, io), argv.join(' ')).toBe(2);
      expect(io.err()).toMatch(message);
    }
  });
});

describe('the output layer never prints a non-finite number', () => {
  it('printJson, fmt and formatTable refuse NaN and Infinity with INTERNAL (exit 1), naming where', () => {
    const io = captureIo();
    expect(() => printJson(io, { a: [1, { b: NaN }] })).toThrow(expect.objectContaining({ code: 'INTERNAL', where: '$.a[1].b' }));
    expect(() => printJson(io, { x: Float64Array.of(1, Infinity) })).toThrow(expect.objectContaining({ where: '$.x[1]' }));
    expect(io.out()).toBe('');
    expect(() => fmt(Infinity)).toThrow(/non-finite/);
    expect(() => formatTable(['a (USD)'], [[-Infinity]])).toThrow(expect.objectContaining({ where: "row 1, column 'a (USD)'" }));
    expect(() => assertFiniteDeep({ ok: [0, -1, 1e308, null, 'NaN'] })).not.toThrow();
  });

  it('text on stdout with a printed NaN or Infinity is refused; words that merely contain them are not', () => {
    const io = captureIo();
    const guarded = guardStdout(io);
    expect(() => guarded.stdout('margin USD/MWh: NaN\n')).toThrow(/non-finite/);
    expect(() => guarded.stdout('total -Infinity USD\n')).toThrow(/non-finite/);
    guarded.stdout('NaNotation Infinityward 12.5\n');
    expect(io.out()).toBe('NaNotation Infinityward 12.5\n');
  });

  it('a command whose text output had a NaN (econ margin of the AI rows) now leaves the cell empty', async () => {
    const io = captureIo();
    expect(await runCli(['econ', 'compare', '--hashprice-usd-per-ph-day', '50', '--power-price-usd-per-mwh', '40'], io)).toBe(0);
    expect(io.out()).not.toMatch(/NaN/);
  });
});
