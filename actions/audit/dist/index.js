// actions/audit/src/main.ts
import { audit, runAction } from "../../../dist/greenlight.js";
await runAction(audit);
