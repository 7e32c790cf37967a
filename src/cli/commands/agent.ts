import { badInput, describeError } from '../../core/errors.js';
import { AGENT_DEFAULTS, resolveAgentConfig, startAgent, type AgentFlags } from '../../app/agent.js';
import { startShardedAgent } from '../../app/agent-shards.js';
import { SAFE_MODES, type SafeMode } from '../../fleet/agent/types.js';
import { opt, type CommandSpec, type ParsedArgs } from '../command.js';
import { LIMITS } from '../../core/limits.js';

// Flags carry no `default` here: a flag given on the command line overrides the config file, so the
// defaults (AGENT_DEFAULTS, shown in each description) are applied after both (app/agent.ts).
const D = AGENT_DEFAULTS;
// Bounds are those of the config file's schema (app/agent-config.ts): a value valid in one is valid in the other.

const agent: CommandSpec = {
  path: ['agent'],
  summary: 'run the site agent: read → decide → write → verify every tick, follow plan/price/signals',
  description:
    'Controls the miners of an inventory so the site stays within its import limit, follows a dispatch\n' +
    'plan (--plan) or the strike rule on a live price feed (--price-feed), and obeys curtailment signals\n' +
    '(HTTP on --listen, MQTT with --mqtt; `mullet fleet curtail/restore` send them). Least efficient\n' +
    'machines are curtailed first, restores are staggered, every command is verified by reading back.\n' +
    'State (commands, telemetry, signals) is kept in --db; a restart reconciles with the fleet.\n' +
    'Everything can also come from a YAML file (--config agent.yaml; see src/app/agent-config.ts):\n' +
    'flags given on the command line override it.\n' +
    'Runs until SIGINT/SIGTERM (the tick in progress finishes; a second Ctrl-C kills at once).',
  options: {
    config: { type: 'string', value: 'FILE', description: 'agent config YAML (site, inventory, store, listen, meter, target, signals, safety, devices)' },
    'site-id': { type: 'string', value: 'ID', description: 'site id in logs, MQTT topic and client id (default: the site file name)' },
    site: { type: 'string', value: 'FILE', description: 'site YAML (import limit, AI loads, fleets); required here or in --config' },
    inventory: { type: 'string', value: 'FILE', description: 'inventory JSON written by `mullet fleet scan` (or `mullet sim`); required here or in --config' },
    plan: { type: 'string', value: 'FILE', description: 'dispatch plan JSON to follow (MW per fleet per interval)' },
    'price-feed': { type: 'string', value: 'URL|none', description: 'live price feed for the strike rule when no plan is given (default none)' },
    meter: { type: 'string', value: 'HOST:PORT', description: 'site revenue meter (Modbus TCP); overrides estimates when it shows more' },
    'ai-inventory': { type: 'string', value: 'FILE', description: 'actuators of the AI loads (GPU server BMCs over Redfish, feed-level targets), as `mullet sim --gpus` writes it' },
    listen: { type: 'string', value: 'HOST:PORT', description: `HTTP API and /metrics (default ${D.listen})` },
    db: { type: 'string', value: 'FILE', description: `SQLite state file (default ${D.dbFile})` },
    'tick-s': { type: 'number', min: 0.05, max: 3600, unit: 's', description: `period of the control tick (default ${D.tickS})` },
    'safe-mode': { type: 'string', choices: SAFE_MODES, description: `what to do when the plan or price feed is lost (default ${D.safeMode})` },
    mqtt: { type: 'string', value: 'URL', description: 'MQTT broker for demand-response signals, e.g. mqtt://127.0.0.1:1883' },
    'mqtt-topic': { type: 'string', value: 'TOPIC', description: 'MQTT topic for signals (default mullet/<site>/dr)' },
    concurrency: { type: 'int', min: 1, max: 65_536, description: `device calls in flight at most (default ${D.concurrency})` },
    'call-timeout-ms': { type: 'int', min: 50, max: 600_000, unit: 'ms', description: `deadline of one device call (default ${D.callTimeoutMs})` },
    'restore-batch': { type: 'int', min: 1, max: 1_000_000, description: `miners woken per restore batch (default ${D.restoreBatchSize})` },
    'restore-pacing-s': { type: 'number', min: 0, max: 3600, unit: 's', description: `time between restore batches (default ${D.restorePacingS})` },
    'margin-mw': { type: 'number', min: 0, max: LIMITS.siteMW, unit: 'MW', description: `kept free below the import limit (default ${D.safetyMarginMW})` },
    'other-load-mw': { type: 'number', min: 0, max: LIMITS.siteMW, unit: 'MW', description: `other loads the agent cannot curtail, auxiliaries (default ${D.otherLoadMW})` },
    'confirm-timeout-s': { type: 'number', min: 0.1, max: 3600, unit: 's', description: `a command not seen in effect after this is re-sent (default ${D.confirmTimeoutS})` },
    'max-attempts': { type: 'int', min: 1, max: 100, description: `sends per command before a miner is marked failed (default ${D.maxAttempts})` },
    'price-stale-s': { type: 'number', min: 1, max: LIMITS.periodS, unit: 's', description: `a price older than this is lost: safe mode (default ${D.priceStaleS})` },
    'min-dwell-s': { type: 'number', min: 0, max: LIMITS.periodS, unit: 's', description: `a miner the agent put to sleep is not woken again before this; bounds how often signals can flip machines (default ${D.minDwellS})` },
    'mqtt-client-id': { type: 'string', value: 'ID', description: 'MQTT client id of the persistent session (default mullet-agent-<site>): the broker keeps QoS 1 signals for it while the agent is down' },
    'allow-non-loopback': { type: 'boolean', description: 'let --listen bind an address other machines can reach (the API has no authentication yet: logged as a warning)' },
    'allowed-host': { type: 'string', multiple: true, value: 'NAME', description: 'a host name the API may be reached by (Host header) besides addresses and localhost, e.g. behind a proxy' },
  },
  examples: [
    'mullet agent --config agent.yaml',
    'mullet agent --site site.yaml --inventory inventory.json',
    'mullet agent --site site.yaml --inventory inventory.json --plan plan.json --meter 127.0.0.1:5020 --safe-mode curtail-all',
    'mullet agent --config agent.yaml --tick-s 30 --mqtt mqtt://127.0.0.1:1883',
  ],
  async run(args, io) {
    const log = (line: string): void => io.stderr(`${new Date().toISOString()} ${line}\n`);
    const cfg = resolveAgentConfig(flagsOf(args), io.cwd);
    if (cfg.shards !== undefined) {
      // A very large site: the fleet over N shards under a coordinator (src/fleet/shards).
      const sharded = await startShardedAgent({ ...cfg, shards: cfg.shards, log });
      io.stderr(`mullet agent: ${cfg.shards} shards; listening on ${sharded.http.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
      log('stopping: every shard finishes its tick and closes');
      await sharded.close();
      return;
    }
    const running = await startAgent({ ...cfg, log });
    io.stderr(`mullet agent: listening on ${running.http.url} (Ctrl-C to stop)\n`);
    try {
      await running.run(io.signal);
    } catch (err) {
      log(`loop stopped: ${describeError(err)}`);
      throw err;
    } finally {
      log('stopping: closing sessions and the state database');
      await running.close();
    }
  },
};

/** The flags actually given (undefined when absent), checked for sign (`mullet serve` takes the same). */
export function flagsOf(args: ParsedArgs): AgentFlags {
  const num = (name: string, min: 'positive' | 'nonNegative'): number | undefined => {
    const v = opt.num(args, name);
    if (v === undefined) return undefined;
    if (min === 'positive' ? !(v > 0) : !(v >= 0)) throw badInput(`must be ${min === 'positive' ? '> 0' : '>= 0'}, got ${v}`, `--${name}`);
    return v;
  };
  const set = <K extends keyof AgentFlags>(o: AgentFlags, k: K, v: AgentFlags[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  const f: AgentFlags = {};
  set(f, 'configFile', opt.str(args, 'config'));
  set(f, 'siteId', opt.str(args, 'site-id'));
  set(f, 'siteFile', opt.str(args, 'site'));
  set(f, 'inventoryFile', opt.str(args, 'inventory'));
  set(f, 'planFile', opt.str(args, 'plan'));
  set(f, 'priceFeed', opt.str(args, 'price-feed'));
  set(f, 'meter', opt.str(args, 'meter'));
  set(f, 'aiInventoryFile', opt.str(args, 'ai-inventory'));
  set(f, 'listen', opt.str(args, 'listen'));
  set(f, 'dbFile', opt.str(args, 'db'));
  set(f, 'tickS', num('tick-s', 'positive'));
  set(f, 'safeMode', opt.str(args, 'safe-mode') as SafeMode | undefined);
  set(f, 'mqttUrl', opt.str(args, 'mqtt'));
  set(f, 'mqttTopic', opt.str(args, 'mqtt-topic'));
  set(f, 'mqttClientId', opt.str(args, 'mqtt-client-id'));
  set(f, 'concurrency', num('concurrency', 'positive'));
  set(f, 'callTimeoutMs', num('call-timeout-ms', 'positive'));
  set(f, 'restoreBatchSize', num('restore-batch', 'positive'));
  set(f, 'restorePacingS', num('restore-pacing-s', 'nonNegative'));
  set(f, 'safetyMarginMW', num('margin-mw', 'nonNegative'));
  set(f, 'otherLoadMW', num('other-load-mw', 'nonNegative'));
  set(f, 'confirmTimeoutS', num('confirm-timeout-s', 'positive'));
  set(f, 'maxAttempts', num('max-attempts', 'positive'));
  set(f, 'priceStaleS', num('price-stale-s', 'positive'));
  set(f, 'minDwellS', num('min-dwell-s', 'nonNegative'));
  if (opt.bool(args, 'allow-non-loopback')) f.allowNonLoopback = true;
  const hosts = opt.strs(args, 'allowed-host');
  if (hosts.length > 0) f.allowedHosts = hosts;
  return f;
}

export const agentCommands: readonly CommandSpec[] = [agent];

/** The agent's options, for commands that run an agent too (`mullet serve`). */
export const AGENT_OPTIONS = agent.options;
