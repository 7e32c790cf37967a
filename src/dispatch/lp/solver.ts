/** The small solver interface dispatch depends on; HiGHS implements it (highs.ts), tests may stub it. */
import type { LpModel } from './model.js';

export type LpStatus = 'optimal' | 'time-limit' | 'infeasible' | 'unbounded' | 'error' | 'other';

export interface LpSolveOptions {
  /** Wall-clock limit, seconds. */
  timeLimitSeconds: number;
  /** Relative MIP gap at which to stop (MIP only). */
  mipRelGap?: number;
  /** Run the solver's presolve; default: off for LPs (dispatch LPs solve faster without), on for MIPs. */
  presolve?: boolean;
}

export interface LpSolution {
  status: LpStatus;
  /** A usable primal point is available: optimal, or a MIP incumbent at a limit (never an LP iterate). */
  feasible: boolean;
  colValue?: Float64Array;
  rowValue?: Float64Array;
  objective?: number;
  /** Solver's own description of the outcome. */
  message: string;
}

export interface LpSolver {
  readonly name: string;
  solve(model: LpModel, options: LpSolveOptions): LpSolution;
}
