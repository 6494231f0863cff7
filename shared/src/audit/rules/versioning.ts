import { releasesOfChart } from '../../version/release-map.ts';
import { defineRule, report } from './helpers.ts';

export const versioningRules = [
  defineRule({
    id: 'GL-VER-001',
    family: 'versioning',
    title: 'Chart.yaml is readable and versioned by SemVer',
    severity: 'error',
    mode: 'static',
    why: 'Helm refuses a chart whose version is not SemVer 2, and every tool that plans or maps versions reads Chart.yaml first.',
    fix: 'Give Chart.yaml an apiVersion, a name and a SemVer 2 version such as 1.4.0.',
    *check(context) {
      for (const info of context.charts) {
        if (!info.problem) continue;
        yield report(info.target, [], `Chart.yaml cannot be used: ${info.problem.reason}`);
      }
    },
  }),
  defineRule({
    id: 'GL-VER-002',
    family: 'versioning',
    title: 'Chart and app versions agree with the release map',
    severity: 'error',
    mode: 'static',
    why: 'A released chart version is tied to the app version it shipped; reusing it for another app version makes two different releases look alike.',
    fix: 'Bump the chart version whenever appVersion changes, so each chart version maps to one app version.',
    *check(context) {
      const map = context.releaseMap;
      if (!map) return;
      for (const info of context.charts) {
        const chart = info.chart;
        if (!chart) continue;
        if (!chart.appVersion) {
          yield report(
            info.target,
            ['version'],
            `chart ${chart.name} ${chart.version} has no appVersion to check against the release map`,
          );
          continue;
        }
        const appVersion = chart.appVersion.replace(/^v/, '');
        const shipped = releasesOfChart(map, chart.name, chart.version);
        const other = shipped.find((release) => release.app.version !== appVersion);
        if (!other) continue;
        yield report(
          info.target,
          ['appVersion'],
          `chart ${chart.name} ${chart.version} was released with app ${other.app.name} ${other.app.version}, but Chart.yaml now says appVersion ${chart.appVersion}: bump the chart version`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-VER-003',
    family: 'versioning',
    title: 'Chart changed but its version was not bumped',
    severity: 'error',
    mode: 'static',
    why: 'Helm repositories and release maps key on the chart version; a changed chart under an old version silently replaces what that version meant.',
    fix: 'Bump the chart version as the plan says: patch for values, minor for templates, major for removed values or a system app image change.',
    *check(context) {
      for (const info of context.charts) {
        const plan = info.plan;
        if (!plan || plan.declaredOk) continue;
        const why = plan.changes
          .filter((change) => change.bump !== 'none')
          .slice(0, 3)
          .map((change) => `${change.path} ${change.change} (${change.bump})`)
          .join(', ');
        yield report(
          info.target,
          ['version'],
          `chart ${plan.chart} changed since ${plan.previous ?? 'the base'} (${why}) but declares ${plan.declared}; it needs a ${plan.bump} bump to ${plan.next}`,
        );
      }
    },
  }),
];
