// Semantic versions as users write them (`1.2.3`, `v1.2.3`), with errors that say what is wrong.
import * as semver from 'semver';

/** The clean version (`1.2.3-rc.1`) of `text`, which may start with `v`; undefined when it is not SemVer 2. */
export function cleanVersion(text: string): string | undefined {
  const trimmed = text.trim();
  const body = /^[vV]/.test(trimmed) ? trimmed.slice(1) : trimmed;
  if (/^[=v]/i.test(body)) return undefined;
  return semver.valid(body) ?? undefined;
}

/** Says why `text` is not a semantic version (X.Y.Z[-pre][+build], optionally with a leading `v`). */
export function semverProblem(text: string): string {
  const body = text.trim().replace(/^[vV]/, '');
  if (body === '') return 'it is empty';
  const core = body.split(/[-+]/, 1)[0] as string;
  const parts = core.split('.');
  if (parts.length !== 3) {
    return `"${text}" has ${parts.length} number${parts.length === 1 ? '' : 's'} before any pre-release, a version has three (X.Y.Z)`;
  }
  const names = ['major', 'minor', 'patch'];
  for (const [i, part] of parts.entries()) {
    if (!/^\d+$/.test(part)) return `the ${names[i]} part "${part}" of "${text}" is not a number`;
    if (part.length > 1 && part.startsWith('0'))
      return `the ${names[i]} part "${part}" of "${text}" has a leading zero`;
  }
  const rest = body.slice(core.length);
  if (rest !== '') {
    const plus = rest.indexOf('+');
    const pre = rest.startsWith('-') ? rest.slice(1, plus === -1 ? undefined : plus) : undefined;
    const build = plus === -1 ? undefined : rest.slice(plus + 1);
    for (const id of pre === undefined ? [] : pre.split('.')) {
      if (!/^[0-9A-Za-z-]+$/.test(id))
        return `the pre-release identifier "${id}" of "${text}" is empty or has characters other than letters, digits and "-"`;
      if (/^0\d+$/.test(id))
        return `the numeric pre-release identifier "${id}" of "${text}" has a leading zero`;
    }
    for (const id of build === undefined ? [] : build.split('.')) {
      if (!/^[0-9A-Za-z-]+$/.test(id))
        return `the build identifier "${id}" of "${text}" is empty or has characters other than letters, digits and "-"`;
    }
  }
  return `"${text}" is not a semantic version (X.Y.Z[-pre-release][+build])`;
}

/** True when `a` is a pre-release version. */
export function isPrerelease(version: string): boolean {
  return (semver.prerelease(version)?.length ?? 0) > 0;
}

/** The highest final (non-pre-release) version among `versions`, or undefined. */
export function highestRelease(versions: readonly string[]): string | undefined {
  const finals = versions.filter((v) => !isPrerelease(v));
  return finals.length === 0 ? undefined : semver.rsort([...finals])[0];
}
