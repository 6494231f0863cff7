// The secrets the tests hand to the bundles, and a scan of every log for them.
import { parse as parseYaml } from 'yaml';
import { loadEnv } from '../../testenv/src/index.ts';
import { allLogs } from './app.ts';

export interface Secret {
  what: string;
  value: string;
}

interface KubeconfigUsers {
  users?: { name?: string; user?: Record<string, string> }[];
}

/**
 * The test secrets: TESTENV_REGISTRY_PASSWORD, and from each kubeconfig its client key (as given, base64, and the
 * lines of the PEM inside), token and password.
 */
export function testSecrets(kubeconfigs: readonly string[]): Secret[] {
  const secrets: Secret[] = [
    { what: 'TESTENV_REGISTRY_PASSWORD', value: loadEnv().TESTENV_REGISTRY_PASSWORD },
  ];
  for (const text of kubeconfigs) {
    const config = parseYaml(text) as KubeconfigUsers;
    for (const entry of config.users ?? []) {
      const user = entry.user ?? {};
      const name = entry.name ?? '?';
      if (user['client-key-data']) {
        secrets.push({ what: `client-key-data of ${name}`, value: user['client-key-data'] });
        const pem = Buffer.from(user['client-key-data'], 'base64').toString('utf8');
        for (const line of pem.split('\n'))
          if (line.length >= 16 && !line.startsWith('-----'))
            secrets.push({ what: `client key of ${name} (PEM line)`, value: line });
      }
      if (user.token) secrets.push({ what: `token of ${name}`, value: user.token });
      if (user.password) secrets.push({ what: `password of ${name}`, value: user.password });
    }
  }
  return secrets.filter((s) => s.value.length >= 8);
}

/**
 * Where any secret appears in the logs, summaries and outputs of every step this process ran. `::add-mask::`
 * lines are skipped: they are how a step registers a secret with the runner, which consumes them and never shows
 * them.
 */
export function scanForSecrets(secrets: readonly Secret[], logs: readonly string[] = allLogs): string[] {
  const found: string[] = [];
  logs.forEach((log, index) => {
    const lines = log.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    for (const secret of secrets) {
      const at = lines.findIndex((line) => line.includes(secret.value));
      if (at >= 0) found.push(`${secret.what} in log ${index}, line ${at + 1}`);
    }
  });
  return found;
}
