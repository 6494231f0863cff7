import type { Rule } from '../types.ts';
import { availabilityRules } from './availability.ts';
import { dataRules } from './data.ts';
import { imageRules } from './images.ts';
import { lifecycleRules } from './lifecycle.ts';
import { liveRules } from './live.ts';
import { networkingRules } from './networking.ts';
import { probeRules } from './probes.ts';
import { resourceRules } from './resources.ts';
import { securityRules } from './security.ts';
import { versioningRules } from './versioning.ts';

/** Every rule, by family. IDs are stable: a rule that goes away leaves its ID unused. */
export const ALL_RULES: readonly Rule[] = [
  ...resourceRules,
  ...probeRules,
  ...imageRules,
  ...securityRules,
  ...availabilityRules,
  ...networkingRules,
  ...dataRules,
  ...lifecycleRules,
  ...versioningRules,
  ...liveRules,
];

/** The rule with `id`, if it exists. */
export function ruleById(id: string): Rule | undefined {
  return ALL_RULES.find((rule) => rule.id === id);
}
