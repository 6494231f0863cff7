// The audit: rules by family over rendered charts, manifests and live clusters; an engine that applies the
// config (severity, suppressions with reasons and expiry), the baseline, and reporters (annotations, job summary,
// SARIF 2.1.0, JSON).
export * from './api-versions.ts';
export * from './baseline.ts';
export * from './charts.ts';
export * from './config.ts';
export * from './context.ts';
export * from './engine.ts';
export * from './image-ref.ts';
export * from './jvm.ts';
export * from './live/collect.ts';
export * from './quantity.ts';
export * from './reporters/index.ts';
export * from './rules/index.ts';
export * from './run.ts';
export * from './sources.ts';
export * from './types.ts';
export * from './workloads.ts';
