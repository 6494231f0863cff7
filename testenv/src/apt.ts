// Debian packages the environment runs. Installed with apt-get when missing.
import { CommandError, run, which } from './proc.ts';

/** package -> a command it provides, to tell quickly whether it is there. */
export const debianPackages: Record<string, string> = {
  'docker-registry': 'docker-registry',
  buildah: 'buildah',
  skopeo: 'skopeo',
  prometheus: 'prometheus',
  'busybox-static': '/bin/busybox',
  'apache2-utils': 'htpasswd',
  openssl: 'openssl',
  unzip: 'unzip',
};

async function installed(pkg: string): Promise<boolean> {
  try {
    // dpkg-query's own format syntax, not a JavaScript template.
    const format = ['-f=$', '{Status}'].join('');
    const { stdout } = await run('dpkg-query', ['-W', format, pkg]);
    return stdout.trim() === 'install ok installed';
  } catch (error) {
    // dpkg-query exits 1 for a package it does not know.
    if (error instanceof CommandError && error.code === 1) return false;
    throw error;
  }
}

export async function ensureDebianPackages(log: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const [pkg, command] of Object.entries(debianPackages)) {
    if (which(command) && (await installed(pkg))) continue;
    missing.push(pkg);
  }
  // busybox-static: its binary must be static to run from an image FROM scratch.
  if (!missing.includes('busybox-static') && !(await installed('busybox-static')))
    missing.push('busybox-static');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages: ${missing.join(' ')}; install them as root: apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env, timeoutMs: 300_000 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    env,
    timeoutMs: 900_000,
    hint: 'apt-get could not install the packages the test environment needs',
  });
}
