export * from './deployments.ts';
