import { defineCommand } from '../runtime/command.ts';
import { notYetAvailable } from './pending.ts';

/** Inputs of `promote`; descriptions are in actions/promote/action.yml. */
export const promoteInputs = {
  app: { type: 'string', required: true },
  namespace: { type: 'string', required: true },
  environment: { type: 'string', required: true },
  action: { type: 'enum', values: ['promote', 'rollback', 'abort'], default: 'promote' },
  'expected-digest': { type: 'string' },
  'verify-for': { type: 'duration', default: '60s' },
  'health-checks': { type: 'yaml' },
  'scale-down-delay': { type: 'duration', default: '30s' },
  'keep-previous': { type: 'boolean', default: 'false' },
  route: { type: 'enum', values: ['service', 'ingress'], default: 'service' },
  timeout: { type: 'duration', default: '10m' },
  'from-environment': { type: 'string' },
  'from-namespace': { type: 'string' },
  'from-kubeconfig': { type: 'string', secret: true },
  'from-context': { type: 'string' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
  token: { type: 'string', secret: true },
} as const;

export const promote = defineCommand({
  name: 'promote',
  description: 'Flip traffic to the candidate in one step, verify, and roll back by itself on failure',
  inputs: promoteInputs,
  outputs: ['active-color', 'previous-color', 'revision', 'image', 'rolled-back'],
  async run(_inputs) {
    return notYetAvailable('promote', 'promote: one atomic flip, a verification window, automatic rollback');
  },
});
