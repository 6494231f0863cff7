export * from './commands/index.ts';
export * from './github/index.ts';
export * from './runtime/index.ts';
