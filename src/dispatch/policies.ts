/** The policy registry: every policy by name, all returning the same Plan for the one ledger. */
import { MulletError } from '../core/errors.js';
import { miningOnlyPolicy } from './baseline.js';
import type { LpSolver } from './lp/solver.js';
import { optimalPolicy } from './optimal.js';
import { rollingPolicy } from './rolling.js';
import { strikePolicy } from './strike.js';
import type { DispatchInput, PolicyOptions, PolicyResult } from './types.js';

export const POLICY_NAMES = ['mining-only', 'strike', 'optimal', 'rolling'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/** True for policies that need an LP solver. */
export function needsSolver(name: PolicyName): boolean {
  return name === 'optimal' || name === 'rolling';
}

export interface RunPolicyOptions extends PolicyOptions {
  solver?: LpSolver;
  timeLimitSeconds?: number;
}

/** Runs the named policy over the input window. */
export function runPolicy(name: PolicyName, input: DispatchInput, options: RunPolicyOptions = {}): PolicyResult {
  switch (name) {
    case 'mining-only':
      return miningOnlyPolicy(input, options);
    case 'strike':
      return strikePolicy(input, options);
    case 'optimal':
    case 'rolling': {
      const { solver, ...rest } = options;
      if (!solver) throw new MulletError('INTERNAL', `policy ${name} needs an LP solver`);
      const lp = { ...rest, solver };
      return name === 'optimal' ? optimalPolicy(input, lp) : rollingPolicy(input, lp);
    }
  }
}
