import { defineCommand } from '../runtime/command.ts';
import { notYetAvailable } from './pending.ts';

/** Inputs of `deploy-bluegreen`; descriptions are in actions/deploy-bluegreen/action.yml. */
export const deployInputs = {
  app: { type: 'string', required: true },
  namespace: { type: 'string', required: true },
  environment: { type: 'string', required: true },
  images: { type: 'lines' },
  chart: { type: 'string' },
  'chart-version': { type: 'string' },
  'values-files': { type: 'lines' },
  set: { type: 'lines' },
  manifests: { type: 'lines' },
  'health-checks': { type: 'yaml' },
  timeout: { type: 'duration', default: '10m' },
  promote: { type: 'enum', values: ['manual', 'auto'], default: 'manual' },
  'keep-failed': { type: 'boolean', default: 'false' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
} as const;

export const deployBluegreen = defineCommand({
  name: 'deploy-bluegreen',
  description: 'Put a release on the idle colour of an environment and prove it healthy',
  inputs: deployInputs,
  outputs: ['color', 'previous-color', 'revision', 'ready-for-promotion', 'preview-url', 'release'],
  async run(_inputs) {
    return notYetAvailable('deploy-bluegreen', 'deploy-bluegreen: put a release on the idle colour');
  },
});
