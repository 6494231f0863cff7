import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  isTransient,
  kubeError,
  missingPermission,
  RBAC_ROLE_PATH,
  statusCode,
} from '../../src/kube/errors.ts';
import { sameRun } from '../../src/kube/lock.ts';
import { collectionOf } from '../../src/kube/watch.ts';

const forbidden = (message: string) =>
  new ApiException(
    403,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message }),
    {},
  );

describe('kube error translation', () => {
  it('names the missing permission of a 403', () => {
    const error = kubeError(
      forbidden(
        'services "api" is forbidden: User "system:serviceaccount:shop:deployer" cannot patch resource "services" in API group "" in the namespace "shop"',
      ),
      { what: 'apply', object: { kind: 'Service', name: 'api', namespace: 'shop' } },
    );
    expect(error.message).toContain(
      'system:serviceaccount:shop:deployer may not patch services in namespace "shop"',
    );
    expect(error.hint).toContain(RBAC_ROLE_PATH);
    expect(error.object?.name).toBe('api');
  });

  it('reads the API group and a cluster-wide refusal', () => {
    expect(
      missingPermission(
        'User "u" cannot list resource "deployments" in API group "apps" at the cluster scope',
      ),
    ).toEqual({ user: 'u', verb: 'list', resource: 'deployments', group: 'apps', namespace: undefined });
  });

  /** What client-node's Watch.watch rejects with when the server refuses a watch: no Status, the status apart. */
  const refusedWatch = (status: number, text: string) =>
    Object.assign(new Error(text), { statusCode: status });

  it('reads the status of a refused watch as well as of an ApiException', () => {
    expect(statusCode(refusedWatch(403, 'Forbidden'))).toBe(403);
    expect(statusCode(new ApiException(404, 'x', '', {}))).toBe(404);
    expect(statusCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(kubeError(refusedWatch(401, 'Unauthorized'), { what: 'watch' }).reason).toContain(
      '401 Unauthorized',
    );
  });

  it('names the permission the call needs when a 403 comes without a Status', () => {
    const permission = { verb: 'watch', resource: 'deployments', group: 'apps', namespace: 'shop' };
    const error = kubeError(refusedWatch(403, 'Forbidden'), { what: 'watch', permission });
    expect(error.reason).toBe(
      'permission denied: the identity in the kubeconfig may not watch deployments.apps in namespace "shop"',
    );
    expect(error.hint).toBe(
      `grant the verb "watch" on "deployments" (apiGroup "apps") to the identity in the kubeconfig; ${RBAC_ROLE_PATH} is the Role Greenlight needs`,
    );
    // The permission a Status names comes first.
    const listed = kubeError(
      forbidden('User "u" cannot list resource "deployments" in API group "apps" in the namespace "shop"'),
      { what: 'list', permission },
    );
    expect(listed.reason).toBe('permission denied: u may not list deployments.apps in namespace "shop"');
  });

  it.each([
    ['/api/v1/namespaces/shop/pods', { resource: 'pods', group: '', namespace: 'shop' }],
    ['/apis/apps/v1/namespaces/x/deployments', { resource: 'deployments', group: 'apps', namespace: 'x' }],
    [
      '/apis/discovery.k8s.io/v1/namespaces/x/endpointslices',
      { resource: 'endpointslices', group: 'discovery.k8s.io', namespace: 'x' },
    ],
    ['/api/v1/namespaces', { resource: 'namespaces', group: '', namespace: undefined }],
    ['/apis/apps/v1/deployments', { resource: 'deployments', group: 'apps', namespace: undefined }],
    ['/version', undefined],
  ])('reads the resource and API group of the collection %s', (path, collection) => {
    expect(collectionOf(path)).toEqual(collection);
  });

  it('quotes the causes of a 422', () => {
    const body = {
      kind: 'Status',
      code: 422,
      message: 'Deployment.apps "api-blue" is invalid',
      details: { causes: [{ field: 'spec.selector', message: 'field is immutable' }] },
    };
    const error = kubeError(new ApiException(422, 'x', JSON.stringify(body), {}), { what: 'apply' });
    expect(error.reason).toContain('spec.selector: field is immutable');
  });

  it.each([
    [new ApiException(503, 'x', '', {}), true],
    [new ApiException(429, 'x', '', {}), true],
    [new ApiException(404, 'x', '', {}), false],
    [
      Object.assign(new Error('fetch failed'), {
        cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      }),
      true,
    ],
    [new Error('bad input'), false],
  ])('classifies transient failures (%#)', (error, transient) => {
    expect(isTransient(error)).toBe(transient);
  });

  it('lets a later attempt of the same workflow run take over', () => {
    expect(sameRun('github:o/r/runs/7/attempts/2', 'github:o/r/runs/7/attempts/1')).toBe(true);
    expect(sameRun('github:o/r/runs/7/attempts/2', 'github:o/r/runs/8/attempts/1')).toBe(false);
    expect(sameRun('cli:host/pid/1', 'cli:host/pid/2')).toBe(false);
  });
});
