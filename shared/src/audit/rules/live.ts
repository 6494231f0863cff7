import type { V1ConfigMap, V1Deployment, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import { APP_LABEL, COLOR_LABEL } from '../../bluegreen/switch.ts';
import { ingressColors } from '../../bluegreen/traffic.ts';
import {
  type Color,
  decodeRecord,
  RecordFormatError,
  type ReleaseRecord,
  type ReleaseRevision,
  recordName,
} from '../../release/record.ts';
import type { AuditContext } from '../context.ts';
import type { AuditObject } from '../types.ts';
import { defineRule, report } from './helpers.ts';

/** Labels of the release record (the colour and app labels come from the blue-green switch, which sets them). */
const ENVIRONMENT_LABEL = 'greenlight.dev/environment';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

function time(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function podName(pod: V1Pod): string {
  return `${pod.metadata?.namespace ? `${pod.metadata.namespace}/` : ''}${pod.metadata?.name ?? '?'}`;
}

/** A colour Deployment of an app: `<app>-blue` or `<app>-green`, with its colour label on the pod template. */
interface ColorDeployment {
  target: AuditObject;
  deployment: V1Deployment;
  app: string;
  namespace: string;
  color: Color;
  replicas: number;
}

function colorDeployments(context: AuditContext): ColorDeployment[] {
  const out: ColorDeployment[] = [];
  for (const target of context.ofKind('Deployment')) {
    const deployment = target.object as V1Deployment;
    const labels = deployment.spec?.template?.metadata?.labels ?? {};
    const color = labels[COLOR_LABEL];
    const app = labels[APP_LABEL] ?? deployment.metadata?.labels?.[APP_LABEL];
    if ((color !== 'blue' && color !== 'green') || !app) continue;
    const replicas = Math.max(deployment.spec?.replicas ?? 1, deployment.status?.replicas ?? 0);
    out.push({ target, deployment, app, namespace: deployment.metadata?.namespace ?? '', color, replicas });
  }
  return out;
}

/** A release record found in the cluster, decoded; undefined `record` when it cannot be read. */
interface FoundRecord {
  target: AuditObject;
  app: string;
  namespace: string;
  record?: ReleaseRecord;
  problem?: string;
}

function releaseRecords(context: AuditContext): FoundRecord[] {
  const out: FoundRecord[] = [];
  for (const target of context.ofKind('ConfigMap')) {
    const configMap = target.object as V1ConfigMap;
    const labels = configMap.metadata?.labels ?? {};
    if (labels[MANAGED_BY] !== 'greenlight' || !labels[APP_LABEL] || !labels[ENVIRONMENT_LABEL]) continue;
    // Other ConfigMaps of the app (its config) carry the same labels; the record has its own name.
    if (configMap.metadata?.name !== recordName(labels[APP_LABEL], labels[ENVIRONMENT_LABEL])) continue;
    const base = { target, app: labels[APP_LABEL], namespace: configMap.metadata?.namespace ?? '' };
    try {
      out.push({ ...base, record: decodeRecord(configMap.data) });
    } catch (error) {
      if (!(error instanceof RecordFormatError)) throw error;
      out.push({ ...base, problem: error.message });
    }
  }
  return out;
}

/** The colour the app's active Service selects, if the Service exists and selects one. */
function serviceColor(
  context: AuditContext,
  app: string,
  namespace: string,
): { target: AuditObject; color?: string } | undefined {
  const target = context
    .ofKind('Service')
    .find(
      (service) =>
        service.object.metadata?.name === app && (service.object.metadata?.namespace ?? '') === namespace,
    );
  if (!target) return undefined;
  return { target, color: (target.object as V1Service).spec?.selector?.[COLOR_LABEL] };
}

function newest(revisions: readonly ReleaseRevision[], color: Color, status: ReleaseRevision['status']) {
  return [...revisions].reverse().find((revision) => revision.color === color && revision.status === status);
}

/** What the record says about each colour of the app in one namespace (records of several environments merged). */
function recordsFor(records: readonly FoundRecord[], app: string, namespace: string): ReleaseRecord[] {
  return records
    .filter((found) => found.app === app && found.namespace === namespace && found.record)
    .map((found) => found.record as ReleaseRecord);
}

/** The verdict on a colour Deployment that is scaled up and not active. */
type IdleVerdict =
  | { kind: 'recent-candidate' }
  | { kind: 'previous'; since?: number }
  | { kind: 'leftover'; why: string };

function judgeIdle(
  colour: ColorDeployment,
  records: readonly ReleaseRecord[],
  now: number,
  graceMs: number,
): IdleVerdict {
  for (const record of records) {
    const candidate = newest(record.revisions, colour.color, 'candidate');
    if (candidate) {
      const updated = time(candidate.updatedAt) ?? time(candidate.createdAt) ?? 0;
      if (now - updated <= graceMs) return { kind: 'recent-candidate' };
      return {
        kind: 'leftover',
        why: `its candidate revision ${candidate.revision} was last updated ${Math.round((now - updated) / 3_600_000)} h ago and never promoted`,
      };
    }
    const previous = newest(record.revisions, colour.color, 'previous');
    if (previous) {
      const active = [...record.revisions].reverse().find((revision) => revision.status === 'active');
      return { kind: 'previous', since: time(active?.promotedAt) ?? time(active?.updatedAt) };
    }
  }
  const last = records
    .flatMap((record) => record.revisions)
    .filter((revision) => revision.color === colour.color)
    .sort((a, b) => a.revision - b.revision)
    .pop();
  if (last) {
    const reason = last.reason ? ` (${last.reason})` : '';
    return {
      kind: 'leftover',
      why: `its last revision on ${colour.color}, ${last.revision}, is ${last.status}${reason}`,
    };
  }
  return {
    kind: 'leftover',
    why: records.length === 0 ? 'no release record names it' : 'the release record has no revision on it',
  };
}

/** The active colour of an app: the record's active revision, else the colour the Service selects. */
function activeColor(records: readonly ReleaseRecord[], service: string | undefined): Color | undefined {
  for (const record of records) {
    const active = [...record.revisions].reverse().find((revision) => revision.status === 'active');
    if (active) return active.color;
  }
  return service === 'blue' || service === 'green' ? service : undefined;
}

export const liveRules = [
  defineRule({
    id: 'GL-LIVE-001',
    family: 'live',
    title: 'Crash loop or OOM kill nobody noticed',
    severity: 'error',
    mode: 'live',
    why: 'Kubernetes restarts crashing containers so well that a memory leak or a crash loop can run for weeks while the Service still answers.',
    fix: 'Read the previous container log (kubectl logs --previous), fix the crash or raise the memory limit, and alert on restarts.',
    *check(context) {
      const { restartThreshold, restartWindowMs } = context.config.settings;
      const now = context.now.getTime();
      for (const target of context.ofKind('Pod')) {
        const pod = target.object as V1Pod;
        for (const [index, status] of (pod.status?.containerStatuses ?? []).entries()) {
          const terminated = status.lastState?.terminated;
          const finished = time(terminated?.finishedAt);
          const waiting = status.state?.waiting?.reason;
          const recent =
            waiting === 'CrashLoopBackOff' || (finished !== undefined && now - finished <= restartWindowMs);
          if (!recent) continue;
          const oom = terminated?.reason === 'OOMKilled';
          if (!oom && status.restartCount <= restartThreshold) continue;
          const cause = oom
            ? `was OOM-killed (exit ${terminated?.exitCode ?? '?'})`
            : `last exited with ${terminated?.reason ?? 'an error'} (exit ${terminated?.exitCode ?? '?'})`;
          yield report(
            target,
            ['status', 'containerStatuses', index],
            `container "${status.name}" of pod ${podName(pod)} restarted ${status.restartCount} times and ${cause}${waiting ? `; now ${waiting}` : ''}`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-LIVE-002',
    family: 'live',
    title: 'Pod not ready',
    severity: 'warning',
    mode: 'live',
    why: 'A pod that stays unready takes no traffic and hides a broken dependency, a bad config or a probe that can never pass.',
    fix: 'Describe the pod (events, probe failures, container waiting reason) and fix what keeps it unready; delete it if it is a leftover.',
    *check(context) {
      const now = context.now.getTime();
      const after = context.config.settings.notReadyAfterMs;
      for (const target of context.ofKind('Pod')) {
        const pod = target.object as V1Pod;
        if (
          pod.metadata?.deletionTimestamp ||
          pod.status?.phase === 'Succeeded' ||
          pod.status?.phase === 'Failed'
        )
          continue;
        const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
        if (ready?.status === 'True') continue;
        const since =
          time(ready?.lastTransitionTime) ??
          time(pod.status?.startTime) ??
          time(pod.metadata?.creationTimestamp);
        if (since === undefined || now - since < after) continue;
        const waiting = pod.status?.containerStatuses?.find((status) => status.state?.waiting)?.state?.waiting
          ?.reason;
        yield report(
          target,
          ['status', 'conditions'],
          `pod ${podName(pod)} has not been ready for ${Math.round((now - since) / 60_000)} min (phase ${pod.status?.phase ?? 'unknown'}${waiting ? `, ${waiting}` : ''})`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-LIVE-003',
    family: 'live',
    title: 'Leftover candidate colour',
    severity: 'warning',
    mode: 'live',
    why: 'A colour that is scaled up but neither live nor a recent candidate costs capacity, confuses the next deploy and may run an unreviewed version.',
    fix: 'Promote or abort it (`promote` with action abort), or scale the Deployment to zero.',
    *check(context) {
      const records = releaseRecords(context);
      const now = context.now.getTime();
      for (const colour of colorDeployments(context)) {
        if (colour.replicas === 0) continue;
        const appRecords = recordsFor(records, colour.app, colour.namespace);
        const service = serviceColor(context, colour.app, colour.namespace);
        const active = activeColor(appRecords, service?.color);
        if (active === colour.color || active === undefined) continue;
        const verdict = judgeIdle(colour, appRecords, now, context.config.settings.candidateGraceMs);
        if (verdict.kind !== 'leftover') continue;
        yield report(
          colour.target,
          ['spec', 'replicas'],
          `Deployment ${colour.namespace}/${colour.deployment.metadata?.name ?? '?'} (${colour.color}) runs ${colour.replicas} replicas while ${active} is live: ${verdict.why}`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-LIVE-004',
    family: 'live',
    title: 'Old colour still scaled up',
    severity: 'notice',
    mode: 'live',
    why: 'The previous colour is kept up briefly for an instant rollback; left up for days it doubles the cost and drifts away from anything you would roll back to.',
    fix: 'Scale the previous colour down once the new one is trusted (promote does it after scale-down-delay unless keep-previous is set).',
    *check(context) {
      const records = releaseRecords(context);
      const now = context.now.getTime();
      const grace = context.config.settings.candidateGraceMs;
      for (const colour of colorDeployments(context)) {
        if (colour.replicas === 0) continue;
        const appRecords = recordsFor(records, colour.app, colour.namespace);
        const active = activeColor(appRecords, serviceColor(context, colour.app, colour.namespace)?.color);
        if (active === undefined || active === colour.color) continue;
        const verdict = judgeIdle(colour, appRecords, now, grace);
        if (verdict.kind !== 'previous' || (verdict.since !== undefined && now - verdict.since <= grace))
          continue;
        const age =
          verdict.since === undefined
            ? ''
            : ` ${Math.round((now - verdict.since) / 3_600_000)} h after the promotion of ${active}`;
        yield report(
          colour.target,
          ['spec', 'replicas'],
          `Deployment ${colour.namespace}/${colour.deployment.metadata?.name ?? '?'} (previous colour ${colour.color}) still runs ${colour.replicas} replicas${age}`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-LIVE-005',
    family: 'live',
    title: 'Drift between the release record and the cluster',
    severity: 'warning',
    mode: 'live',
    why: 'When the live objects no longer match the release record, promote and rollback act on a state that is not there: someone changed the cluster by hand.',
    fix: 'Redeploy through Greenlight, or find who edited the Service or Deployment and undo it; never edit live colours by hand.',
    *check(context) {
      const deployments = colorDeployments(context);
      for (const found of releaseRecords(context)) {
        if (!found.record) {
          yield report(
            found.target,
            ['data'],
            `release record ConfigMap ${found.namespace}/${found.target.object.metadata?.name ?? '?'} cannot be read: ${found.problem}`,
          );
          continue;
        }
        const note = found.record.switching;
        if (note) {
          yield report(
            found.target,
            ['data'],
            `the release record (${found.record.environment}) notes a ${note.action} to revision ${note.revision} on ${note.color} that ${note.holder} started at ${note.startedAt} and never recorded; the next deploy, promote, rollback or abort settles it from where traffic goes`,
          );
        }
        const active = [...found.record.revisions].reverse().find((revision) => revision.status === 'active');
        if (!active) continue;
        // An app routed by Ingresses on its colour Services (promote with route: ingress) is judged by them: its
        // active Service is not what serves, and promote leaves it alone.
        const ingresses = context
          .ofKind('Ingress')
          .filter((ingress) => (ingress.object.metadata?.namespace ?? '') === found.namespace);
        const routing = ingresses
          .map((ingress) => ({ ingress, colors: ingressColors([ingress.object as V1Ingress], found.app) }))
          .filter((entry) => entry.colors.size > 0);
        for (const { ingress, colors } of routing) {
          if (colors.size === 1 && colors.has(active.color)) continue;
          yield report(
            ingress,
            ['spec', 'rules'],
            `Ingress ${found.namespace}/${ingress.object.metadata?.name ?? '?'} routes to ${[...colors].map((c) => `${found.app}-${c}`).join(' and ')}, but the release record (${found.record.environment}) says ${active.color} is active (revision ${active.revision})`,
          );
        }
        const service = routing.length > 0 ? undefined : serviceColor(context, found.app, found.namespace);
        if (service && service.color !== active.color) {
          yield report(
            service.target,
            ['spec', 'selector'],
            `Service ${found.namespace}/${found.app} selects ${service.color ? `colour ${service.color}` : 'no colour'}, but the release record (${found.record.environment}) says ${active.color} is active (revision ${active.revision})`,
          );
        }
        const live = deployments.find(
          (colour) =>
            colour.app === found.app && colour.namespace === found.namespace && colour.color === active.color,
        );
        if (!live) {
          yield report(
            found.target,
            ['data'],
            `the release record (${found.record.environment}) says ${active.deployment} is active, but it does not exist`,
          );
          continue;
        }
        if (live.replicas === 0) {
          yield report(
            live.target,
            ['spec', 'replicas'],
            `the active colour ${active.color} of ${found.app} is scaled to zero`,
          );
        }
        const running = (live.deployment.spec?.template?.spec?.containers ?? []).map(
          (container) => container.image ?? '',
        );
        for (const image of active.images) {
          if (running.includes(image.reference)) continue;
          const index = (live.deployment.spec?.template?.spec?.containers ?? []).findIndex((container) =>
            (container.image ?? '').startsWith(image.repository),
          );
          yield report(
            live.target,
            index >= 0
              ? ['spec', 'template', 'spec', 'containers', index, 'image']
              : ['spec', 'template', 'spec', 'containers'],
            `Deployment ${found.namespace}/${active.deployment} runs ${index >= 0 ? running[index] : 'no image'} where the release record (revision ${active.revision}) deployed ${image.reference}`,
          );
        }
      }
    },
  }),
];
