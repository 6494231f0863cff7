import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../src/audit/rules/index.ts';

const docs = join(import.meta.dirname, '..', '..', '..', 'docs');

describe('rule pages', () => {
  it.each(ALL_RULES.map((rule) => [rule.id, rule] as const))(
    '%s has a page that matches the rule',
    (id, rule) => {
      const file = join(docs, 'rules', `${id}.md`);
      expect(existsSync(file)).toBe(true);
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0]).toBe(`# ${id}: ${rule.title}`);
      expect(text).toContain(`Severity: **${rule.severity}**`);
      for (const section of ['## Why it matters', '## How to fix', '## Example'])
        expect(text).toContain(section);
    },
  );

  it('has no page for a rule that does not exist', () => {
    const ids = new Set(ALL_RULES.map((rule) => rule.id));
    const pages = readdirSync(join(docs, 'rules')).filter(
      (name) => name.endsWith('.md') && name !== 'README.md',
    );
    expect(pages.filter((name) => !ids.has(name.replace(/\.md$/, '')))).toEqual([]);
  });

  it('lists every rule in docs/audit.md', () => {
    const text = readFileSync(join(docs, 'audit.md'), 'utf8');
    for (const rule of ALL_RULES) expect(text).toContain(`[${rule.id}](rules/${rule.id}.md)`);
  });
});
