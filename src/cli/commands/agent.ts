import { badInput, describeError } from '../../core/errors.js';
import { AGENT_DEFAULTS, startAgent } from '../../fleet/agent/main.js';
import { SAFE_MODES, type SafeMode } from '../../fleet/agent/types.js';
import { opt, need, type CommandSpec } from '../command.js';

const agent: CommandSpec = {
  path: ['agent'],
  summary: 'run the site agent: read → decide → write → verify every tick, follow plan/price/signals',
  description:
    'Controls the miners of an inventory so the site stays within its import limit, follows a dispatch\n' +
    'plan (--plan) or the strike rule on a live price feed (--price-feed), and obeys curtailment signals\n' +
    '(HTTP on --listen, MQTT with --mqtt; `mullet fleet curtail/restore` send them). Least efficient\n' +
    'machines are curtailed first, restores are staggered, every command is verified by reading back.\n' +
    'State (commands, telemetry, signals) is kept in --db; a restart reconciles with the fleet.\n' +
    'Runs until SIGINT/SIGTERM (the tick in progress finishes; a second Ctrl-C kills at once).',
  options: {
    site: { type: 'string', value: 'FILE', description: 'site YAML (import limit, AI loads, fleets)', required: true },
    inventory: { type: 'string', value: 'FILE', description: 'inventory JSON written by `mullet fleet scan` (or `mullet sim`)', required: true },
    plan: { type: 'string', value: 'FILE', description: 'dispatch plan JSON to follow (MW per fleet per interval)' },
    'price-feed': { type: 'string', value: 'URL|none', description: 'live price feed for the strike rule when no plan is given', default: 'none' },
    meter: { type: 'string', value: 'HOST:PORT', description: 'site revenue meter (Modbus TCP); overrides estimates when it shows more' },
    listen: { type: 'string', value: 'HOST:PORT', description: 'HTTP API and /metrics', default: AGENT_DEFAULTS.listen },
    db: { type: 'string', value: 'FILE', description: 'SQLite state file', default: AGENT_DEFAULTS.dbFile },
    'tick-s': { type: 'number', unit: 's', description: 'period of the control tick', default: AGENT_DEFAULTS.tickS },
    'safe-mode': { type: 'string', choices: SAFE_MODES, description: 'what to do when the plan or price feed is lost', default: AGENT_DEFAULTS.safeMode },
    mqtt: { type: 'string', value: 'URL', description: 'MQTT broker for demand-response signals, e.g. mqtt://127.0.0.1:1883' },
    'mqtt-topic': { type: 'string', value: 'TOPIC', description: 'MQTT topic for signals (default mullet/<site>/dr)' },
    concurrency: { type: 'int', description: 'device calls in flight at most', default: AGENT_DEFAULTS.concurrency },
    'call-timeout-ms': { type: 'int', unit: 'ms', description: 'deadline of one device call', default: AGENT_DEFAULTS.callTimeoutMs },
    'restore-batch': { type: 'int', description: 'miners woken per restore batch', default: AGENT_DEFAULTS.restoreBatchSize },
    'restore-pacing-s': { type: 'number', unit: 's', description: 'time between restore batches', default: AGENT_DEFAULTS.restorePacingS },
    'margin-mw': { type: 'number', unit: 'MW', description: 'kept free below the import limit', default: AGENT_DEFAULTS.safetyMarginMW },
    'other-load-mw': { type: 'number', unit: 'MW', description: 'other loads the agent cannot curtail (auxiliaries)', default: AGENT_DEFAULTS.otherLoadMW },
    'confirm-timeout-s': { type: 'number', unit: 's', description: 'a command not seen in effect after this is re-sent', default: AGENT_DEFAULTS.confirmTimeoutS },
    'max-attempts': { type: 'int', description: 'sends per command before a miner is marked failed', default: AGENT_DEFAULTS.maxAttempts },
    'price-stale-s': { type: 'number', unit: 's', description: 'a price older than this is lost (safe mode)', default: AGENT_DEFAULTS.priceStaleS },
    'min-dwell-s': { type: 'number', unit: 's', description: 'a miner the agent put to sleep is not woken again before this (bounds how often signals can flip machines)', default: AGENT_DEFAULTS.minDwellS },
    'mqtt-client-id': { type: 'string', value: 'ID', description: 'MQTT client id of the persistent session (default mullet-agent-<site>): the broker keeps QoS 1 signals for it while the agent is down' },
    'allow-non-loopback': { type: 'boolean', description: 'let --listen bind an address other machines can reach (the API has no authentication yet: logged as a warning)' },
    'allowed-host': { type: 'string', multiple: true, value: 'NAME', description: 'a host name the API may be reached by (Host header) besides addresses and localhost, e.g. behind a proxy' },
  },
  examples: [
    'mullet agent --site site.yaml --inventory inventory.json',
    'mullet agent --site site.yaml --inventory inventory.json --plan plan.json --meter 127.0.0.1:5020 --safe-mode curtail-all',
    'mullet agent --site site.yaml --inventory inventory.json --price-feed http://127.0.0.1:9000/rt --mqtt mqtt://127.0.0.1:1883',
  ],
  async run(args, io) {
    const positive = (name: string): number => {
      const v = need(opt.num(args, name), name);
      if (!(v > 0)) throw badInput(`must be > 0, got ${v}`, `--${name}`);
      return v;
    };
    const nonNegative = (name: string): number => {
      const v = need(opt.num(args, name), name);
      if (!(v >= 0)) throw badInput(`must be >= 0, got ${v}`, `--${name}`);
      return v;
    };
    const log = (line: string): void => io.stderr(`${new Date().toISOString()} ${line}\n`);
    const planFile = opt.str(args, 'plan');
    const meter = opt.str(args, 'meter');
    const mqttUrl = opt.str(args, 'mqtt');
    const mqttTopic = opt.str(args, 'mqtt-topic');
    const mqttClientId = opt.str(args, 'mqtt-client-id');
    const allowedHosts = args.options['allowed-host'];
    const running = await startAgent({
      siteFile: need(opt.str(args, 'site'), 'site'),
      inventoryFile: need(opt.str(args, 'inventory'), 'inventory'),
      ...(planFile !== undefined ? { planFile } : {}),
      priceFeed: opt.str(args, 'price-feed') ?? 'none',
      ...(meter !== undefined ? { meter } : {}),
      ...(mqttUrl !== undefined ? { mqttUrl } : {}),
      ...(mqttTopic !== undefined ? { mqttTopic } : {}),
      ...(mqttClientId !== undefined ? { mqttClientId } : {}),
      allowNonLoopback: opt.bool(args, 'allow-non-loopback'),
      allowedHosts: Array.isArray(allowedHosts) ? allowedHosts.map(String) : [],
      minDwellS: nonNegative('min-dwell-s'),
      listen: opt.str(args, 'listen') ?? AGENT_DEFAULTS.listen,
      dbFile: opt.str(args, 'db') ?? AGENT_DEFAULTS.dbFile,
      tickS: positive('tick-s'),
      safeMode: (opt.str(args, 'safe-mode') ?? AGENT_DEFAULTS.safeMode) as SafeMode,
      concurrency: positive('concurrency'),
      callTimeoutMs: positive('call-timeout-ms'),
      connectTimeoutMs: Math.min(AGENT_DEFAULTS.connectTimeoutMs, positive('call-timeout-ms')),
      restoreBatchSize: positive('restore-batch'),
      restorePacingS: nonNegative('restore-pacing-s'),
      safetyMarginMW: nonNegative('margin-mw'),
      otherLoadMW: nonNegative('other-load-mw'),
      confirmTimeoutS: positive('confirm-timeout-s'),
      maxAttempts: positive('max-attempts'),
      priceStaleS: positive('price-stale-s'),
      cwd: io.cwd,
      log,
    });
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

export const agentCommands: readonly CommandSpec[] = [agent];
