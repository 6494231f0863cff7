import type { Command } from '../runtime/command.ts';
import { audit } from './audit.ts';
import { buildImage } from './build-image.ts';
import { deployBluegreen } from './deploy-bluegreen.ts';
import { promote } from './promote.ts';

export { audit, buildImage, deployBluegreen, promote };

/** The four actions by the name the root action's `command` input and the CLI use. */
export const actionCommands: Readonly<Record<string, Command>> = {
  'build-image': buildImage as unknown as Command,
  'deploy-bluegreen': deployBluegreen as unknown as Command,
  promote: promote as unknown as Command,
  audit: audit as unknown as Command,
};
