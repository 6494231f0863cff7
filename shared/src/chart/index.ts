export * from './helm.ts';
export * from './manifests.ts';
export * from './render.ts';
export * from './template-lines.ts';
export * from './types.ts';
