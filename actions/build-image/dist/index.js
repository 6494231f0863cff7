// actions/build-image/src/main.ts
import { buildImage, runAction } from "../../../dist/greenlight.js";
await runAction(buildImage);
