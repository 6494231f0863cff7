// Blue-green: the pure deploy planner and the deploy executor (promote, switch and rollback live beside them).
export * from './deploy.ts';
export * from './plan.ts';
