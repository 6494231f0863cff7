// The release record: one ConfigMap per app and environment that says which colour is live, what each revision
// runs and what was checked. promote, rollback and audit read it instead of manifests.
export * from './record.ts';
export * from './store.ts';
