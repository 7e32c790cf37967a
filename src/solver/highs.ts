/**
 * HiGHS (WebAssembly, npm `highs`) behind the LpSolver interface. Models go in as CSC typed arrays
 * through the persistent API (no LP text). One native instance per solver is reused for every solve
 * (garbage collection does not free Wasm memory, so instances are never abandoned per call).
 */
import highsPkg, { type Highs, type ModelData } from 'highs';
import type { LpModel } from '../dispatch/lp/model.js';
import type { LpSolution, LpSolveOptions, LpSolver, LpStatus } from '../dispatch/lp/solver.js';

type Loader = typeof highsPkg.default;
// The package's typings are CommonJS-flavoured; under Node ESM the default import is the loader itself.
const pkg: unknown = highsPkg;
const loadHighs = (typeof pkg === 'function' ? pkg : highsPkg.default) as Loader;

let runtime: Promise<Highs> | undefined;

/** Loads the HiGHS runtime once per process. */
export async function loadHighsSolver(): Promise<LpSolver> {
  runtime ??= loadHighs();
  const highs = await runtime;
  return new HighsSolver(highs);
}

function toModelData(highs: Highs, m: LpModel): ModelData {
  const inf = highs.infinity;
  const clamp = (a: Float64Array) => a.map((v) => (v === Infinity ? inf : v === -Infinity ? -inf : v));
  const data: ModelData = {
    numCols: m.numCols,
    numRows: m.numRows,
    sense: m.maximize ? highs.constants.objectiveSense.maximize : highs.constants.objectiveSense.minimize,
    offset: m.offset,
    colCost: m.colCost,
    colLower: clamp(m.colLower),
    colUpper: clamp(m.colUpper),
    rowLower: clamp(m.rowLower),
    rowUpper: clamp(m.rowUpper),
    matrix: { format: 'csc', numRows: m.numRows, numCols: m.numCols, starts: m.starts, indices: m.rowIndex, values: m.value },
    ...(m.integrality ? { integrality: m.integrality } : {}),
  };
  return data;
}

/** Columns above which the native buffers are released after a solve (a year-long LP holds ~100 MB). */
const RELEASE_AFTER_COLS = 20_000;

class HighsSolver implements LpSolver {
  readonly name = 'highs';
  // One native instance reused through passModel: creating one costs ~3 ms, more than solving a
  // rolling-horizon step, and rolling solves tens of thousands of them.
  private model: ReturnType<Highs['createModel']> | undefined;
  constructor(private readonly highs: Highs) {}

  solve(m: LpModel, options: LpSolveOptions): LpSolution {
    const highs = this.highs;
    const S = highs.constants.modelStatus;
    try {
      this.model ??= highs.createModel();
      const model = this.model;
      model.passModel(toModelData(highs, m));
      // Measured on a year of 15-min dispatch: presolve costs more than it saves on these LPs.
      const presolve = options.presolve ?? m.integrality !== undefined;
      model.options.set({ output_flag: false, time_limit: options.timeLimitSeconds, presolve: presolve ? 'on' : 'off', mip_rel_gap: options.mipRelGap ?? 1e-4 });
      const run = model.run();
      const code = run.modelStatus;
      const status: LpStatus =
        code === S.optimal ? 'optimal'
        : code === S.timeLimit ? 'time-limit'
        : code === S.infeasible ? 'infeasible'
        : code === S.unbounded || code === S.unboundedOrInfeasible ? 'unbounded'
        : code === S.loadError || code === S.modelError || code === S.presolveError || code === S.solveError || code === S.postsolveError ? 'error'
        : 'other';
      const primal = model.info.get('primal_solution_status');
      // An LP stopped early holds some simplex iterate: feasible but arbitrary (often "all off"),
      // so only a MIP incumbent counts as a usable plan short of optimality.
      const feasible = status === 'optimal' || (m.integrality !== undefined && status !== 'infeasible' && status !== 'error' && primal === highs.constants.solutionStatus.feasible);
      const message = `HiGHS model status ${code} (${status})`;
      let out: LpSolution = { status, feasible, message };
      if (feasible) {
        const sol = model.getSolution();
        out = { status, feasible, colValue: sol.colValue, rowValue: sol.rowValue, objective: model.getObjectiveValue(), message };
      }
      if (m.numCols > RELEASE_AFTER_COLS) model.releaseMemory();
      return out;
    } catch (err) {
      // A native failure may leave the instance in any state: start from a fresh one next time.
      this.model?.dispose();
      this.model = undefined;
      return { status: 'error', feasible: false, message: `HiGHS failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}
