import type { CommandSpec } from './command.js';
import { chainCommands } from './commands/chain.js';
import { contractCommands } from './commands/contract.js';
import { catalogCommands } from './commands/catalog.js';
import { hashpriceCommands } from './commands/hashprice.js';
import { econCommands } from './commands/econ.js';
import { demoCommands } from './commands/demo.js';
import { dataCommands } from './commands/data.js';
import { fetchCommands } from './commands/fetch.js';
import { synthCommands } from './commands/synth.js';
import { backtestCommands } from './commands/backtest.js';
import { planCommands } from './commands/plan.js';
import { networkCommands } from './commands/network.js';
import { fleetScanCommands } from './commands/fleet-scan.js';
import { simCommands } from './commands/sim.js';
import { agentCommands } from './commands/agent.js';
import { opsCommands } from './commands/ops.js';
import { fleetSignalCommands } from './commands/fleet-signal.js';
import { controlCommands } from './commands/control.js';
import { siteCommands } from './commands/site.js';
import { dispatchCommands } from './commands/dispatch.js';
import { consoleCommands } from './commands/console.js';
import { gridCommands } from './commands/grid.js';
import { industryCommands } from './commands/industry.js';

/**
 * Every CLI command, in help order. Each command module exports its specs; add new modules here.
 * A duplicate command path is a programming error caught at start-up and in tests.
 */
export const COMMANDS: readonly CommandSpec[] = [...chainCommands, ...contractCommands, ...catalogCommands, ...hashpriceCommands, ...econCommands, ...demoCommands, ...dataCommands, ...fetchCommands, ...synthCommands, ...backtestCommands, ...dispatchCommands, ...planCommands, ...networkCommands, ...fleetScanCommands, ...siteCommands, ...simCommands, ...agentCommands, ...fleetSignalCommands, ...opsCommands, ...consoleCommands, ...gridCommands, ...industryCommands, ...controlCommands];

export function findCommand(words: readonly string[]): { cmd: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const cmd of COMMANDS) {
    if (cmd.path.length <= words.length && cmd.path.every((w, i) => words[i] === w)) {
      if (!best || cmd.path.length > best.path.length) best = cmd;
    }
  }
  return best ? { cmd: best, rest: words.slice(best.path.length) } : undefined;
}

export function assertUniquePaths(commands: readonly CommandSpec[]): void {
  const seen = new Set<string>();
  for (const c of commands) {
    const key = c.path.join(' ');
    if (seen.has(key)) throw new Error(`duplicate CLI command registration: ${key}`);
    seen.add(key);
  }
}
