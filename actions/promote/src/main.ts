import { promote, runAction } from '@greenlight/shared';

// The runner's entry point: inputs from INPUT_* variables, the core in @greenlight/shared, outputs and summary back.
await runAction(promote);
