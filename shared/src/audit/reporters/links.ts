/** Where rule pages are published; SARIF needs absolute URIs. */
export const DOCS_BASE = 'https://github.com/greenlight/greenlight/blob/main/docs/rules/';

/** The documentation page of a rule. */
export function ruleDocsUrl(ruleId: string): string {
  return `${DOCS_BASE}${ruleId}.md`;
}
