export * from './context.ts';
export * from './docker-tag.ts';
export * from './metadata.ts';
export * from './release-version.ts';
export * from './rules.ts';
export * from './semver.ts';
export * from './template.ts';
