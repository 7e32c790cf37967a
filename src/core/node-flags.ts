/**
 * V8 flags every Mullet process runs with: bin/mullet execs Node with them, and the processes the
 * project starts itself (simulator workers, isolated benchmarks) pass them on, so that what the
 * benchmark measures is what `mullet agent` runs.
 *
 * --max-semi-space-size=64: the site agent and the simulator allocate a little per device exchange
 * with hundreds of exchanges in flight; with V8's default 16 MB semi-space much of it survives a
 * scavenge only to die in the old generation. A 64 MB semi-space cut the agent's CPU per 10,000-miner
 * curtailment by about 8 % (npm run bench -- fleet). Young space grows to it only under allocation
 * pressure, so short commands do not pay for it.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
