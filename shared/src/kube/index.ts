// Kubernetes plumbing shared by deploy, promote and audit: the client, server-side apply, watch-based waits,
// retries, the Lease lock and error translation that names a missing RBAC permission.
export * from './apply.ts';
export * from './client.ts';
export * from './errors.ts';
export * from './lock.ts';
export * from './retry.ts';
export * from './rollout.ts';
export * from './watch.ts';
