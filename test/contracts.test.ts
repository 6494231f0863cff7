// The contract between each action.yml and the code: every input the code reads is declared, every declared
// input is read, defaults agree, outputs agree, and the root action.yml is the union of the four.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rootActionYaml } from '../scripts/root-action.ts';
import { actionCommands } from '../shared/src/commands/index.ts';

const root = join(import.meta.dirname, '..');

interface ActionYaml {
  name: string;
  description: string;
  branding?: { icon: string; color: string };
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

function actionYaml(name: string): ActionYaml {
  return parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8')) as ActionYaml;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe.each(Object.entries(actionCommands))('action %s', (name, command) => {
  const yaml = actionYaml(name);

  it('runs on node24 from its committed bundle, with branding', () => {
    expect(yaml.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(yaml.branding?.icon).toBeTruthy();
    expect(yaml.description.length).toBeGreaterThan(20);
  });

  it('declares exactly the inputs the code reads', () => {
    expect(Object.keys(yaml.inputs).sort()).toEqual(Object.keys(command.inputs).sort());
  });

  it('states the same defaults and required flags as the code', () => {
    for (const [input, spec] of Object.entries(command.inputs)) {
      const declared = yaml.inputs[input];
      expect(declared?.description, `${input} has a description`).toBeTruthy();
      expect(declared?.default, `default of ${input}`).toBe(spec.default);
      expect(declared?.required ?? false, `required of ${input}`).toBe(spec.required ?? false);
    }
  });

  it('declares exactly the outputs the code sets', () => {
    expect(Object.keys(yaml.outputs).sort()).toEqual([...command.outputs].sort());
  });

  it('reads each declared input somewhere in its command code', () => {
    const dir = join(root, 'shared', 'src', 'commands');
    const code = sourceFiles(dir)
      .filter((file) => file.includes(name))
      .map((file) =>
        readFileSync(file, 'utf8').replace(/export const \w+Inputs = \{[\s\S]*?\} as const;/, ''),
      )
      .join('\n');
    for (const input of Object.keys(command.inputs)) {
      const read = code.includes(`inputs['${input}']`) || code.includes(`inputs.${input}`);
      expect(read, `input ${input} is read by the ${name} code`).toBe(true);
    }
  });
});

describe('inputs are read only through the runtime edge', () => {
  it('no code calls core.getInput or reads INPUT_ variables outside shared/src/runtime and the root action', () => {
    const files = [
      ...sourceFiles(join(root, 'shared', 'src')),
      ...['build-image', 'deploy-bluegreen', 'promote', 'audit'].flatMap((a) =>
        sourceFiles(join(root, 'actions', a, 'src')),
      ),
    ].filter(
      (file) => !file.includes(`${join('shared', 'src', 'runtime')}`) && !file.endsWith('root-action.ts'),
    );
    const offenders = files.filter((file) =>
      /getInput\(|INPUT_/.test(readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '')),
    );
    expect(offenders.filter((f) => !f.endsWith('cli.ts'))).toEqual([]);
  });
});

describe('root action.yml', () => {
  it('is the union of the four actions (regenerate with npm run build)', () => {
    expect(readFileSync(join(root, 'action.yml'), 'utf8')).toBe(rootActionYaml(root));
  });

  it('declares a required command input and every action input', () => {
    const yaml = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionYaml;
    expect(yaml.inputs.command?.required).toBe(true);
    for (const [name, command] of Object.entries(actionCommands)) {
      for (const input of Object.keys(command.inputs))
        expect(yaml.inputs[input], `${name}.${input}`).toBeDefined();
    }
  });
});
