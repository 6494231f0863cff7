// actions/deploy-bluegreen/src/main.ts
import { deployBluegreen, runAction } from "../../../dist/greenlight.js";
await runAction(deployBluegreen);
