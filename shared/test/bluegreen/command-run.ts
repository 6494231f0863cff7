// Runs the deploy-bluegreen command in-process the way the action does (inputs by name, the process environment,
// the edge that reports failures), for tests that check what a step would log, set and annotate.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { deployBluegreen } from '../../src/commands/deploy-bluegreen.ts';
import { execute } from '../../src/runtime/command.ts';
import { CliHost } from '../../src/runtime/host.ts';

export interface CommandRun {
  /** The outputs, or undefined when the step failed. */
  outputs: Record<string, string> | undefined;
  /** Every log line, annotations included. */
  lines: string[];
  /** The error annotations' messages. */
  errors: string[];
}

/**
 * Runs deploy-bluegreen with `inputs` and `env` on top of the process environment (an undefined value removes the
 * variable for the run), then puts the environment back.
 */
export async function runDeployCommand(
  inputs: Record<string, string>,
  env: Record<string, string | undefined>,
): Promise<CommandRun> {
  const lines: string[] = [];
  const errors: string[] = [];
  const host = new CliHost({ write: (line) => lines.push(line) });
  const annotate = host.annotate.bind(host);
  host.annotate = (level, message, place) => {
    if (level === 'error') errors.push(message);
    annotate(level, message, place);
  };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const outputs = await execute(
      deployBluegreen,
      (name) => inputs[name],
      host,
      new AbortController().signal,
    );
    return { outputs, lines, errors };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    process.exitCode = 0;
  }
}

/**
 * A workspace holding `manifests/<app>.yaml`: a Deployment `<app>` whose containers run `images` (name to image)
 * and its Service. Returns the folder, for GITHUB_WORKSPACE.
 */
export function manifestWorkspace(app: string, images: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlight-deploy-inputs-'));
  mkdirSync(join(dir, 'manifests'));
  const labels = { app };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: Object.entries(images).map(([name, image]) => ({ name, image })) },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app },
    spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
  };
  writeFileSync(
    join(dir, 'manifests', `${app}.yaml`),
    [deployment, service].map((o) => stringify(o)).join('---\n'),
  );
  return dir;
}
