import { describe, expect, it } from 'vitest';
import { GreenlightError } from '../../src/runtime/errors.ts';
import { dateHelper, formatDate, isRawOnly, renderTemplate } from '../../src/version/template.ts';

const AT = new Date('2026-07-08T21:05:09.042Z');

describe('formatDate', () => {
  it.each([
    ['YYYYMMDD', 'UTC', '20260708'],
    ['YY-M-D', 'UTC', '26-7-8'],
    ['HH:mm:ss.SSS', 'UTC', '21:05:09.042'],
    ['H m s', 'UTC', '21 5 9'],
    ['hh h A a', 'UTC', '09 9 PM pm'],
    ['[build-]YYYY', 'UTC', 'build-2026'],
    ['X x', 'UTC', '1783544709 1783544709042'],
    ['Z', 'UTC', '+00:00'],
    ['YYYY-MM-DD HH A', 'Asia/Tokyo', '2026-07-09 06 AM'],
    ['Z', 'Asia/Kolkata', '+05:30'],
  ])('%s in %s', (format, zone, expected) => {
    expect(formatDate(AT, format, zone)).toBe(expected);
  });

  it('names an unknown time zone', () => {
    expect(() => formatDate(AT, 'YYYY', 'Nowhere/Land')).toThrow('unknown time zone "Nowhere/Land"');
  });
});

describe('renderTemplate', () => {
  const helpers = {
    echo: (args: string[], options: Record<string, string>) =>
      [...args, ...Object.entries(options).map(([k, v]) => `${k}:${v}`)].join('|'),
  };

  it.each([
    ['plain text', 'plain text'],
    ['{{echo}}', ''],
    ["{{ echo 'a b' \"c\" d k='v w' n=1 }}", 'a b|c|d|k:v w|n:1'],
    ['x-{{echo 1}}-{{echo 2}}', 'x-1-2'],
  ])('%s', (template, expected) => {
    expect(renderTemplate(template, helpers, 'test')).toBe(expected);
  });

  it.each([
    ["{{echo 'open}}", 'unbalanced quote'],
    ['{{k=v}}', 'does not start with a name'],
    ['{{}}', 'does not start with a name'],
    ['{{missing}}', 'unknown expression {{missing}}'],
  ])('rejects %s', (template, message) => {
    expect(() => renderTemplate(template, helpers, 'test')).toThrow(GreenlightError);
    expect(() => renderTemplate(template, helpers, 'test')).toThrow(message);
  });

  it('knows a raw-only pattern', () => {
    expect(isRawOnly('{{ raw }}')).toBe(true);
    expect(isRawOnly('v{{raw}}')).toBe(false);
  });

  it('renders an unknown date as empty and defaults the format', () => {
    expect(dateHelper(undefined, 'commit_date')([], {})).toBe('');
    expect(dateHelper(AT, 'date')([], {})).toBe('20260708');
  });
});
