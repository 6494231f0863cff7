import { runRootAction } from '../shared/src/root-action.ts';

// Entry point of the root action.yml (bundled to dist/index.js): `command` picks one of the four actions.
await runRootAction();
