import type { V1Endpoint, V1EndpointSlice, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  type EndpointCensus,
  endpointCensus,
  formatCensus,
  formatSelector,
  isNoop,
  onlyColor,
  planSwitch,
  readyTotal,
  selectorPatch,
} from '../../src/bluegreen/switch.ts';
import { type Color, otherColor } from '../../src/release/record.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const APP = 'api';
const NS = 'shop';

function service(
  name: string,
  selector: Record<string, string> | undefined,
  annotations?: Record<string, string>,
): V1Service {
  return {
    metadata: { name, namespace: NS, resourceVersion: `rv-${name}`, annotations },
    spec: { selector },
  };
}

const appSel = (color?: string): Record<string, string> =>
  color ? { 'greenlight.dev/app': APP, 'greenlight.dev/color': color } : { 'greenlight.dev/app': APP };

const standard = (active: Color) => [
  service('api', appSel(active)),
  service('api-preview', appSel(otherColor(active))),
  service('api-blue', appSel('blue')),
  service('api-green', appSel('green')),
  service('other', { 'greenlight.dev/app': 'other', 'greenlight.dev/color': 'blue' }),
  service('external', undefined),
];

describe('planSwitch with route: service', () => {
  it.each<{
    name: string;
    services: V1Service[];
    target: Color;
    switched: string[];
    unchanged: string[];
    leftAlone: string[];
    before: Color | undefined;
  }>([
    {
      name: 'flips the active Service from blue to green, leaving preview and colour Services alone',
      services: standard('blue'),
      target: 'green',
      switched: ['api'],
      unchanged: [],
      leftAlone: ['api-blue', 'api-green', 'api-preview'],
      before: 'blue',
    },
    {
      name: 'is a no-op when the active Service already selects the target',
      services: standard('green'),
      target: 'green',
      switched: [],
      unchanged: ['api'],
      leftAlone: ['api-blue', 'api-green', 'api-preview'],
      before: 'green',
    },
    {
      name: 'switches every other Service that selects the app, the active one first',
      services: [
        service('api-grpc', appSel('blue')),
        ...standard('blue'),
        service('api-admin', appSel('green')),
      ],
      target: 'green',
      switched: ['api', 'api-grpc'],
      unchanged: ['api-admin'],
      leftAlone: ['api-blue', 'api-green', 'api-preview'],
      before: 'blue',
    },
    {
      name: 'narrows a Service that selects both colours to the target',
      services: [service('api', appSel()), service('api-metrics', appSel())],
      target: 'blue',
      switched: ['api', 'api-metrics'],
      unchanged: [],
      leftAlone: [],
      before: undefined,
    },
    {
      name: 'leaves alone a Service annotated greenlight.dev/switch: "false"',
      services: [
        service('api', appSel('blue')),
        service('api-debug', appSel('blue'), { 'greenlight.dev/switch': 'false' }),
      ],
      target: 'green',
      switched: ['api'],
      unchanged: [],
      leftAlone: ['api-debug'],
      before: 'blue',
    },
    {
      name: 'leaves alone a Service whose colour value is not a colour',
      services: [service('api', appSel('blue')), service('api-canary', appSel('canary'))],
      target: 'green',
      switched: ['api'],
      unchanged: [],
      leftAlone: ['api-canary'],
      before: 'blue',
    },
  ])('$name', ({ services, target, switched, unchanged, leftAlone, before }) => {
    const plan = planSwitch({ app: APP, namespace: NS, target, services, route: 'service' });
    expect(plan.services.map((s) => s.name)).toEqual(switched);
    expect(plan.unchanged).toEqual(unchanged);
    expect(plan.leftAlone.map((l) => l.name).sort()).toEqual(leftAlone);
    expect(plan.activeBefore).toBe(before);
    expect(isNoop(plan)).toBe(switched.length === 0);
    for (const change of plan.services) {
      expect(change.to['greenlight.dev/color']).toBe(target);
      expect(change.to['greenlight.dev/app']).toBe(APP);
      expect(change.resourceVersion).toBe(`rv-${change.name}`);
    }
    if (switched.length > 0) expect(plan.services[0]?.role).toBe('active');
  });

  it('keeps the other keys of a selector and changes only the colour', () => {
    const plan = planSwitch({
      app: APP,
      namespace: NS,
      target: 'green',
      route: 'service',
      services: [service('api', { ...appSel('blue'), tier: 'web' })],
    });
    expect(plan.services[0]?.to).toEqual({ ...appSel('green'), tier: 'web' });
    expect(plan.services[0]?.from).toEqual({ ...appSel('blue'), tier: 'web' });
    expect(plan.services[0]?.fromColor).toBe('blue');
  });

  it.each([
    [
      'the active Service is missing',
      [service('api-preview', appSel('green'))],
      /does not exist.*deploy-bluegreen/,
    ],
    [
      'the active Service does not select the app',
      [service('api', { app: 'api' })],
      /does not select greenlight.dev\/app=api/,
    ],
  ])('fails with a hint when %s', (_name, services, message) => {
    const run = () => planSwitch({ app: APP, namespace: NS, target: 'green', services, route: 'service' });
    expect(run).toThrow(GreenlightError);
    expect(run).toThrow(message);
  });
});

function ingress(name: string, backends: string[], defaultBackend?: string): V1Ingress {
  return {
    metadata: { name, namespace: NS, resourceVersion: `rv-${name}` },
    spec: {
      defaultBackend: defaultBackend
        ? { service: { name: defaultBackend, port: { number: 80 } } }
        : undefined,
      rules: [
        {
          host: 'api.example.com',
          http: {
            paths: backends.map((b, i) => ({
              path: `/p${i}`,
              pathType: 'Prefix',
              backend: { service: { name: b, port: { number: 80 } } },
            })),
          },
        },
      ],
    },
  };
}

describe('planSwitch with route: ingress', () => {
  const services = standard('blue');

  it('moves every backend on the old colour Service to the target colour Service', () => {
    const plan = planSwitch({
      app: APP,
      namespace: NS,
      target: 'green',
      route: 'ingress',
      services,
      ingresses: [
        ingress('web', ['api-blue', 'static', 'api-blue'], 'api-blue'),
        ingress('unrelated', ['x']),
      ],
    });
    expect(plan.services).toEqual([]);
    expect(plan.ingresses.map((i) => i.name)).toEqual(['web']);
    const moved = plan.ingresses[0];
    expect(moved?.backends).toEqual(['default backend', 'api.example.com/p0', 'api.example.com/p2']);
    const names = moved?.to.spec?.rules?.[0]?.http?.paths.map((p) => p.backend.service?.name);
    expect(names).toEqual(['api-green', 'static', 'api-green']);
    expect(moved?.to.spec?.defaultBackend?.service?.name).toBe('api-green');
    expect(moved?.resourceVersion).toBe('rv-web');
  });

  it('is a no-op when the Ingress already routes to the target', () => {
    const plan = planSwitch({
      app: APP,
      namespace: NS,
      target: 'green',
      route: 'ingress',
      services,
      ingresses: [ingress('web', ['api-green'])],
    });
    expect(isNoop(plan)).toBe(true);
    expect(plan.unchanged).toEqual(['web']);
  });

  it('needs no active Service: traffic enters through the Ingress', () => {
    const plan = planSwitch({
      app: APP,
      namespace: NS,
      target: 'blue',
      route: 'ingress',
      services: [],
      ingresses: [ingress('web', ['api-green'])],
    });
    expect(plan.ingresses.map((i) => i.name)).toEqual(['web']);
    expect(plan.activeBefore).toBe('green');
  });

  it('fails with a hint when no Ingress routes to either colour', () => {
    expect(() =>
      planSwitch({ app: APP, namespace: NS, target: 'green', route: 'ingress', services, ingresses: [] }),
    ).toThrow(/no Ingress in the namespace has a backend on api-blue or api-green/);
  });
});

describe('selector helpers', () => {
  it('builds a merge patch that carries the resourceVersion precondition', () => {
    expect(selectorPatch({ resourceVersion: '42', to: appSel('green') })).toEqual({
      metadata: { resourceVersion: '42' },
      spec: { selector: appSel('green') },
    });
  });
  it('formats selectors for messages', () => {
    expect(formatSelector(appSel('blue'))).toBe('greenlight.dev/app=api,greenlight.dev/color=blue');
    expect(formatSelector({})).toBe('(empty)');
  });
});

describe('endpointCensus', () => {
  const pod = (name: string, color: string): V1Pod => ({
    metadata: { name, labels: { 'greenlight.dev/app': APP, 'greenlight.dev/color': color } },
  });
  const endpoint = (pod: string, ready?: boolean): V1Endpoint => ({
    addresses: [`10.0.0.${pod.length}`],
    targetRef: { kind: 'Pod', name: pod },
    conditions: ready === undefined ? {} : { ready },
  });
  const slice = (...endpoints: V1Endpoint[]): V1EndpointSlice => ({ addressType: 'IPv4', endpoints });
  const pods = [pod('api-blue-1', 'blue'), pod('api-blue-2', 'blue'), pod('api-green-1', 'green')];

  it.each<{ name: string; slices: V1EndpointSlice[]; expected: EndpointCensus; only?: Color }>([
    {
      name: 'counts ready endpoints by the colour of their pod',
      slices: [slice(endpoint('api-blue-1', true), endpoint('api-blue-2', true))],
      expected: { ready: { blue: 2, green: 0 }, readyUnknown: 0, notReady: 0 },
      only: 'blue',
    },
    {
      name: 'counts an endpoint listed in two slices once',
      slices: [slice(endpoint('api-green-1', true)), slice(endpoint('api-green-1', true))],
      expected: { ready: { blue: 0, green: 1 }, readyUnknown: 0, notReady: 0 },
      only: 'green',
    },
    {
      name: 'reads a missing ready condition as ready',
      slices: [slice(endpoint('api-green-1'))],
      expected: { ready: { blue: 0, green: 1 }, readyUnknown: 0, notReady: 0 },
      only: 'green',
    },
    {
      name: 'keeps not-ready endpoints apart',
      slices: [slice(endpoint('api-green-1', true), endpoint('api-blue-1', false))],
      expected: { ready: { blue: 0, green: 1 }, readyUnknown: 0, notReady: 1 },
      only: 'green',
    },
    {
      name: 'sees a mix of colours',
      slices: [slice(endpoint('api-green-1', true), endpoint('api-blue-1', true))],
      expected: { ready: { blue: 1, green: 1 }, readyUnknown: 0, notReady: 0 },
    },
    {
      name: 'counts a ready endpoint of an unknown pod as unknown',
      slices: [slice(endpoint('api-green-1', true), endpoint('gone-pod', true))],
      expected: { ready: { blue: 0, green: 1 }, readyUnknown: 1, notReady: 0 },
    },
    {
      name: 'sees zero ready endpoints',
      slices: [slice()],
      expected: { ready: { blue: 0, green: 0 }, readyUnknown: 0, notReady: 0 },
    },
  ])('$name', ({ slices, expected, only }) => {
    const census = endpointCensus(slices, pods);
    expect(census).toEqual(expected);
    expect(onlyColor(census, 'blue')).toBe(only === 'blue');
    expect(onlyColor(census, 'green')).toBe(only === 'green');
    expect(readyTotal(census)).toBe(expected.ready.blue + expected.ready.green + expected.readyUnknown);
  });

  it('formats a census for the log', () => {
    expect(formatCensus({ ready: { blue: 0, green: 3 }, readyUnknown: 0, notReady: 1 })).toBe(
      'blue 0 ready, green 3 ready, 1 not ready',
    );
  });
});
