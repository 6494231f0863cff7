// actions/promote/src/main.ts
import { promote, runAction } from "../../../dist/greenlight.js";
await runAction(promote);
