export * from './commands/index.ts';
export * from './github/index.ts';
export * from './health/index.ts';
export * from './image/index.ts';
export * from './kube/index.ts';
export * from './release/index.ts';
export * from './runtime/index.ts';
export * from './version/index.ts';
