// Health gates: the candidate's endpoints, HTTP checks and Prometheus thresholds, each with its own budget inside
// a total timeout, returning structured results. Used by deploy (before promotion) and promote (verification).
export * from './endpoints.ts';
export * from './http.ts';
export * from './prometheus.ts';
export * from './result.ts';
export * from './run.ts';
export * from './spec.ts';
