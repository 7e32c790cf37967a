import { blockSubsidyBtc, blockSubsidySats } from '../../bitcoin/subsidy.js';
import { badInput } from '../../core/errors.js';
import { opt, need, type CommandSpec } from '../command.js';
import { printJson } from '../output.js';

const subsidy: CommandSpec = {
  path: ['chain', 'subsidy'],
  summary: 'block subsidy at a height, in BTC and satoshis (consensus-exact)',
  options: {
    height: { type: 'int', value: 'N', unit: 'blocks', description: 'block height', required: true },
  },
  json: true,
  examples: ['mullet chain subsidy --height 840000 --json'],
  run(args, io) {
    const height = need(opt.num(args, 'height'), 'height');
    if (height < 0) throw badInput(`must be >= 0, got ${height}`, '--height');
    const sats = blockSubsidySats(height);
    const result = { height, subsidySats: Number(sats), subsidyBtc: blockSubsidyBtc(height) };
    if (opt.bool(args, 'json')) printJson(io, result);
    else io.stdout(`height ${height}: subsidy ${result.subsidyBtc} BTC (${result.subsidySats} sats)\n`);
    return Promise.resolve();
  },
};

export const chainCommands: readonly CommandSpec[] = [subsidy];
