import { containerLabel, containersOf, defineRule, report } from './helpers.ts';

export const securityRules = [
  defineRule({
    id: 'GL-SEC-001',
    family: 'security',
    title: 'Privileged container',
    severity: 'error',
    mode: 'both',
    why: 'A privileged container is root on the node: one compromised app owns the whole machine and every pod on it.',
    fix: 'Remove securityContext.privileged; grant the single capability the app needs instead.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        if (container.securityContext?.privileged !== true) continue;
        yield report(
          workload.target,
          [...entry.path, 'securityContext', 'privileged'],
          `${containerLabel(entry)} runs privileged`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-002',
    family: 'security',
    title: 'Privilege escalation allowed',
    severity: 'warning',
    mode: 'both',
    why: 'Unless it is turned off, a process can gain more privileges than its parent through setuid binaries.',
    fix: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const security = container.securityContext;
        if (security?.allowPrivilegeEscalation === false || security?.privileged === true) continue;
        yield report(
          workload.target,
          security ? [...entry.path, 'securityContext'] : entry.path,
          `${containerLabel(entry)} does not set allowPrivilegeEscalation: false`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-003',
    family: 'security',
    title: 'Runs as root',
    severity: 'warning',
    mode: 'both',
    why: 'A process running as root in its container is one kernel bug away from root on the node.',
    fix: 'Set runAsNonRoot: true (pod or container securityContext) and a non-zero runAsUser the image supports.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const pod = workload.spec.securityContext;
        const own = container.securityContext;
        const user = own?.runAsUser ?? pod?.runAsUser;
        const nonRoot = own?.runAsNonRoot ?? pod?.runAsNonRoot;
        if (user === 0) {
          const path =
            own?.runAsUser === 0
              ? [...entry.path, 'securityContext', 'runAsUser']
              : [...workload.specPath, 'securityContext', 'runAsUser'];
          yield report(workload.target, path, `${containerLabel(entry)} runs as user 0 (root)`);
        } else if (nonRoot !== true && (user === undefined || user === null)) {
          yield report(
            workload.target,
            entry.path,
            `${containerLabel(entry)} may run as root: set runAsNonRoot: true`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-004',
    family: 'security',
    title: 'Writable root filesystem',
    severity: 'warning',
    mode: 'both',
    why: 'A writable root filesystem lets an intruder drop tools and change the app in place; it also hides state that should live on a volume.',
    fix: 'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app must write.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        if (container.securityContext?.readOnlyRootFilesystem === true) continue;
        yield report(
          workload.target,
          container.securityContext ? [...entry.path, 'securityContext'] : entry.path,
          `${containerLabel(entry)} has a writable root filesystem`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-005',
    family: 'security',
    title: 'Host network, PID or IPC namespace',
    severity: 'error',
    mode: 'both',
    why: "Sharing the host's network, process or IPC namespace lets the pod see and reach everything on the node.",
    fix: 'Remove hostNetwork, hostPID and hostIPC; expose ports through a Service.',
    *check(context) {
      for (const workload of context.workloads) {
        for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
          if (workload.spec[field] !== true) continue;
          yield report(workload.target, [...workload.specPath, field], `the pod spec sets ${field}: true`);
        }
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-006',
    family: 'security',
    title: 'hostPath volume',
    severity: 'warning',
    mode: 'both',
    why: "A hostPath volume ties the pod to one node's disk and can expose the node's files (the container runtime socket, /etc) to the pod.",
    fix: 'Use a PersistentVolumeClaim, a ConfigMap, a Secret or an emptyDir instead.',
    *check(context) {
      for (const workload of context.workloads) {
        const volumes = workload.spec.volumes ?? [];
        for (const [index, volume] of volumes.entries()) {
          if (!volume.hostPath) continue;
          yield report(
            workload.target,
            [...workload.specPath, 'volumes', index, 'hostPath'],
            `volume "${volume.name}" mounts the host path ${volume.hostPath.path}`,
          );
        }
      }
    },
  }),
  defineRule({
    id: 'GL-SEC-007',
    family: 'security',
    title: 'Added Linux capabilities',
    severity: 'warning',
    mode: 'both',
    why: 'Each added capability (NET_ADMIN, SYS_ADMIN, ...) hands the container part of root; SYS_ADMIN is nearly all of it.',
    fix: 'Drop ALL capabilities and add back only the one the app needs, such as NET_BIND_SERVICE.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const added = (container.securityContext?.capabilities?.add ?? []).filter(
          (name) => name !== 'NET_BIND_SERVICE',
        );
        if (added.length === 0) continue;
        yield report(
          workload.target,
          [...entry.path, 'securityContext', 'capabilities', 'add'],
          `${containerLabel(entry)} adds capabilities ${added.join(', ')}`,
        );
      }
    },
  }),
];
