export * from './command.ts';
export * from './duration.ts';
export * from './errors.ts';
export * from './host.ts';
export * from './inputs.ts';
export * from './summary.ts';
