import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { connect, DelegatingKubeConfig } from '../../src/kube/client.ts';
import { GreenlightError } from '../../src/runtime/errors.ts';

const kubeconfig = (current = 'staging') => `apiVersion: v1
kind: Config
clusters:
- name: staging
  cluster: { server: "https://staging.example.com:6443" }
- name: production
  cluster: { server: "https://production.example.com:6443" }
users:
- name: deployer
  user: { token: "tok-123456" }
contexts:
- name: staging
  context: { cluster: staging, user: deployer }
- name: production
  context: { cluster: production, user: deployer }
current-context: ${current}
`;

describe('connect', () => {
  it('reads kubeconfig content, masks its credentials and uses the current context', () => {
    const masked: string[] = [];
    const kube = connect({ kubeconfig: kubeconfig(), env: {}, mask: (s) => masked.push(s) });
    expect(kube.server).toBe('https://staging.example.com:6443');
    expect(kube.context).toBe('staging');
    expect(masked).toContain('tok-123456');
  });

  it('selects a context by name', () => {
    const kube = connect({ kubeconfig: kubeconfig(), context: 'production', env: {} });
    expect(kube.server).toBe('https://production.example.com:6443');
  });

  it('reads the file KUBECONFIG names when no content is given', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'greenlight-kc-')), 'config');
    writeFileSync(file, kubeconfig('production'));
    expect(connect({ env: { KUBECONFIG: file } }).context).toBe('production');
  });

  it.each([
    [
      'an unknown context',
      { kubeconfig: kubeconfig(), context: 'qa', env: {} },
      /has no context "qa" \(it has: staging, production\)/,
    ],
    ['no current context', { kubeconfig: kubeconfig(''), env: {} }, /has no current context/],
    [
      'a missing file',
      { env: { KUBECONFIG: '/nonexistent/kubeconfig' } },
      /KUBECONFIG \(\/nonexistent\/kubeconfig\) could not be read/,
    ],
  ])('explains %s without printing the credentials', (_, options, message) => {
    try {
      connect(options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GreenlightError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('tok-123456');
    }
  });
});

describe('DelegatingKubeConfig', () => {
  it("copies the base's clusters, users and contexts and lets the base authenticate, then the subclass", async () => {
    const base = new KubeConfig();
    base.loadFromString(kubeconfig('production'));
    const order: string[] = [];
    const baseAuth = base.applySecurityAuthentication.bind(base);
    base.applySecurityAuthentication = async (context) => {
      order.push('base');
      await baseAuth(context);
    };
    class Tagging extends DelegatingKubeConfig {
      override async applySecurityAuthentication(context: RequestContext): Promise<void> {
        await super.applySecurityAuthentication(context);
        order.push('subclass');
      }
    }
    const config = new Tagging(base);
    expect(config.getCurrentContext()).toBe('production');
    expect(config.getContexts().map((c) => c.name)).toEqual(['staging', 'production']);
    expect(config.getCurrentCluster()?.server).toBe('https://production.example.com:6443');
    const context = new RequestContext('https://production.example.com:6443/api/v1/pods', HttpMethod.GET);
    await config.applySecurityAuthentication(context);
    expect(order).toEqual(['base', 'subclass']);
    expect(context.getHeaders().Authorization).toBe('Bearer tok-123456');
  });
});
