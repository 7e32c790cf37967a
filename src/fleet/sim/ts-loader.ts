import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Lets a forked worker run straight from the TypeScript sources (tests run src/, not dist/): a
 * Node module hook, passed as `--import data:…`, that maps `./x.js` imports to `./x.ts` when only
 * the .ts exists and transpiles .ts files with the installed `typescript` (no type check). The
 * built CLI forks the compiled dist/…/worker.js and never needs this.
 */
const HOOKS = `
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const ts = (await import(TS_URL)).default;
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL;
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && specifier.endsWith('.js') && parent && parent.startsWith('file:')) {
      const url = new URL(specifier.slice(0, -3) + '.ts', parent);
      if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
    }
    throw err;
  }
}
export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const source = await readFile(file, 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true, sourceMap: false },
    });
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return next(url, context);
}
`;

/** Node flags that make a child process able to import .ts sources. */
export function tsLoaderExecArgv(): string[] {
  const tsUrl = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
  const hooks = HOOKS.replace('TS_URL', JSON.stringify(tsUrl));
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  return ['--import', `data:text/javascript,${encodeURIComponent(register)}`];
}
