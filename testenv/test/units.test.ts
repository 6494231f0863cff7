// Pure parts of testenv, no environment needed.
import { describe, expect, it } from 'vitest';
import { MetricStore } from '../src/exporter.ts';
import { type ActiveFault, takeFault, validateFaultRule } from '../src/faults.ts';
import { formatEnv, parseEnv } from '../src/state.ts';

describe('fault rules', () => {
  const active = (rule: Partial<ActiveFault>, id: string): ActiveFault => ({
    kind: 'status',
    status: 500,
    applied: 0,
    id,
    ...rule,
  });

  it('validates rules and rejects bad ones with the reason', () => {
    expect(validateFaultRule({ kind: 'latency', latencyMs: 10, method: 'get' })).toEqual({
      kind: 'latency',
      latencyMs: 10,
      method: 'GET',
    });
    expect(() => validateFaultRule({ kind: 'latency' })).toThrow(/latencyMs/);
    expect(() => validateFaultRule({ kind: 'status', status: 700 })).toThrow(/100-599/);
    expect(() => validateFaultRule({ kind: 'boom' })).toThrow(/kind must be/);
    expect(() => validateFaultRule({ kind: 'reset', path: '(' })).toThrow();
    expect(() => validateFaultRule({ kind: 'reset', count: 0 })).toThrow(/count/);
  });

  it('applies the first matching rule, counts it down and retires it', () => {
    const rules = [
      active({ method: 'POST', count: 1 }, 'a'),
      active({ path: '^/api/v1/pods', count: 2 }, 'b'),
    ];
    expect(takeFault(rules, 'GET', '/api/v1/nodes', 0)).toBeUndefined();
    expect(takeFault(rules, 'GET', '/api/v1/pods?watch=1', 0)?.id).toBe('b');
    expect(takeFault(rules, 'POST', '/api/v1/pods', 0)?.id).toBe('a');
    expect(takeFault(rules, 'POST', '/api/v1/pods', 0)?.id).toBe('b');
    expect(takeFault(rules, 'POST', '/api/v1/pods', 0)).toBeUndefined();
    expect(rules).toHaveLength(0);
  });

  it('lets the first `skip` matching requests through, then applies', () => {
    expect(validateFaultRule({ kind: 'reset', skip: 1 })).toEqual({ kind: 'reset', skip: 1 });
    expect(() => validateFaultRule({ kind: 'reset', skip: -1 })).toThrow(/skip/);
    const rules = [active({ method: 'PUT', skip: 1, count: 1 }, 's')];
    expect(takeFault(rules, 'GET', '/a', 0)).toBeUndefined();
    expect(takeFault(rules, 'PUT', '/a', 0)).toBeUndefined();
    expect(rules[0]).toMatchObject({ skipped: 1, applied: 0 });
    expect(takeFault(rules, 'PUT', '/a', 0)?.id).toBe('s');
    expect(takeFault(rules, 'PUT', '/a', 0)).toBeUndefined();
    expect(rules).toHaveLength(0);
  });

  it('drops a rule whose window has passed', () => {
    const rules = [active({ until: 1000 }, 'w')];
    expect(takeFault(rules, 'GET', '/', 999)?.id).toBe('w');
    expect(takeFault(rules, 'GET', '/', 1001)).toBeUndefined();
    expect(rules).toHaveLength(0);
  });
});

describe('metric store', () => {
  it('renders the Prometheus text format with escaped labels', () => {
    const store = new MetricStore();
    store.set('up_gauge', 1.5);
    store.add('requests_total', 2, { code: '500', path: 'a"b\\c' }, 'requests');
    store.add('requests_total', 1, { path: 'a"b\\c', code: '500' });
    expect(store.render()).toBe(
      '# HELP requests_total requests\n# TYPE requests_total counter\nrequests_total{code="500",path="a\\"b\\\\c"} 3\n# TYPE up_gauge gauge\nup_gauge 1.5\n',
    );
    expect(() => store.set('requests_total', 1)).toThrow(/is a counter/);
    expect(() => store.set('bad name', 1)).toThrow(/invalid metric name/);
  });
});

describe('env file', () => {
  it('round-trips values that need shell quoting', () => {
    const env = { A: 'plain', B: "it's /tmp/x y", C: '', D: 'p@ss:w0rd=+/' };
    expect(parseEnv(formatEnv(env))).toEqual(env);
    expect(formatEnv({ B: "it's" })).toBe(`export B='it'\\''s'`);
  });
});
