import { defineCommand } from '../runtime/command.ts';
import { notYetAvailable } from './pending.ts';

/** Inputs of `audit`; descriptions are in actions/audit/action.yml. */
export const auditInputs = {
  path: { type: 'lines' },
  'values-files': { type: 'lines' },
  set: { type: 'lines' },
  cluster: { type: 'boolean', default: 'false' },
  namespaces: { type: 'list' },
  'kubernetes-version': { type: 'string' },
  config: { type: 'string' },
  baseline: { type: 'string' },
  'fail-on': { type: 'enum', values: ['error', 'warning', 'never'], default: 'error' },
  format: { type: 'list', default: 'annotations,summary' },
  'sarif-file': { type: 'string' },
  'json-file': { type: 'string' },
  kubeconfig: { type: 'string', secret: true },
  context: { type: 'string' },
} as const;

export const audit = defineCommand({
  name: 'audit',
  description: 'Check charts, manifests and live clusters against production lessons',
  inputs: auditInputs,
  outputs: ['findings', 'errors', 'warnings', 'sarif-file', 'json-file'],
  async run(_inputs) {
    return notYetAvailable('audit', 'audit: the production lessons as checks');
  },
});
