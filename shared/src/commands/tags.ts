import { join } from 'node:path';
import { defineCommand } from '../runtime/command.ts';
import { gitContextFromEnv } from '../version/context.ts';
import { computeMetadata, type MetadataRequest } from '../version/metadata.ts';
import { readVersionFile } from '../version/sources.ts';

/** Inputs of the CLI-only `tags` command; the same names and forms as build-image's. */
export const tagsInputs = {
  image: { type: 'list' },
  tags: { type: 'lines' },
  flavor: { type: 'lines' },
  labels: { type: 'lines' },
  annotations: { type: 'lines' },
  'existing-tags': { type: 'list' },
  'tag-prefix': { type: 'string' },
  version: { type: 'string' },
  'version-dir': { type: 'string' },
} as const;

/**
 * `greenlight tags`: computes tags, version, labels and annotations from tag rules and the event the runner
 * describes (GITHUB_* variables and the event file), without building anything, so users can check their rules.
 */
export const tags = defineCommand({
  name: 'tags',
  description: 'Compute image tags, version, labels and annotations from tag rules, without building',
  inputs: tagsInputs,
  outputs: ['version', 'tags', 'tag-names', 'labels', 'annotations', 'release', 'explanation', 'json'],
  async run(inputs, { host, env, summary }) {
    const context = gitContextFromEnv(env);
    const request: MetadataRequest = {
      images: inputs.image,
      tagRules: inputs.tags,
      flavor: inputs.flavor,
      labels: inputs.labels,
      annotations: inputs.annotations,
      context,
      existingTags: inputs['existing-tags'],
    };
    if (inputs.version) request.version = inputs.version;
    if (inputs['tag-prefix']) request.tagPrefix = inputs['tag-prefix'];
    // As build-image does: the version files of `version-dir`, else of the workspace (the current directory).
    const dir = inputs['version-dir'] || env.GITHUB_WORKSPACE || process.cwd();
    const found = await readVersionFile(dir);
    if (found)
      request.fileVersion = {
        ...found,
        source: inputs['version-dir'] ? join(dir, found.source) : found.source,
      };
    const metadata = computeMetadata(request);
    const lines = metadata.explanation.map(
      (e) => `${e.rule}: ${e.produced.length > 0 ? `${e.produced.join(', ')} <- ` : 'nothing, '}${e.reason}`,
    );
    await host.group('Tag rules', async () => {
      for (const line of lines) host.info(line);
    });
    summary.heading('Tags').table(
      ['rule', 'produced', 'why'],
      metadata.explanation.map((e) => [e.rule, e.produced.join(' ') || '-', e.reason]),
    );
    const pairs = (record: Record<string, string>) =>
      Object.entries(record)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n');
    return {
      version: metadata.version,
      tags: metadata.tags.join('\n'),
      'tag-names': metadata.tagNames.join('\n'),
      labels: pairs(metadata.labels),
      annotations: pairs(metadata.annotations),
      release: metadata.release ?? '',
      explanation: lines.join('\n'),
      json: JSON.stringify(metadata),
    };
  },
});
