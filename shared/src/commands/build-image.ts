import { defineCommand } from '../runtime/command.ts';
import { notYetAvailable } from './pending.ts';

/** Inputs of `build-image`; descriptions are in actions/build-image/action.yml. */
export const buildImageInputs = {
  image: { type: 'string', required: true },
  mode: { type: 'enum', values: ['build', 'retag'], default: 'build' },
  context: { type: 'string', default: '.' },
  file: { type: 'string' },
  target: { type: 'string' },
  tags: { type: 'lines' },
  flavor: { type: 'lines' },
  labels: { type: 'lines' },
  'build-args': { type: 'lines' },
  secrets: { type: 'lines', secret: true },
  platforms: { type: 'list' },
  'cache-from': { type: 'lines' },
  'cache-to': { type: 'lines' },
  push: { type: 'boolean', default: 'true' },
  builder: { type: 'enum', values: ['auto', 'buildx', 'buildah'], default: 'auto' },
  version: { type: 'string' },
  'tag-prefix': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string', secret: true },
  source: { type: 'string' },
  overwrite: { type: 'boolean', default: 'false' },
} as const;

export const buildImage = defineCommand({
  name: 'build-image',
  description: 'Build, tag and push an image, or retag an existing digest without rebuilding',
  inputs: buildImageInputs,
  outputs: ['digest', 'image', 'tags', 'version', 'labels', 'json'],
  async run(_inputs) {
    return notYetAvailable('build-image', 'build-image: build, tag, push, and retag by digest');
  },
});
