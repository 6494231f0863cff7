import { heapSetting, javaVersionOfImage, jvmEvidence } from '../jvm.ts';
import { formatBytes, parseQuantity } from '../quantity.ts';
import { containerLabel, containersOf, defineRule, report } from './helpers.ts';

const GIB = 2 ** 30;

export const resourceRules = [
  defineRule({
    id: 'GL-RES-001',
    family: 'resources',
    title: 'CPU and memory requests',
    severity: 'warning',
    mode: 'both',
    why: 'Without requests the scheduler packs pods onto nodes that cannot hold them under real load.',
    fix: 'Set resources.requests.cpu and resources.requests.memory from a load test.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const requests = container.resources?.requests ?? {};
        const missing = ['cpu', 'memory'].filter((name) => requests[name] === undefined);
        if (missing.length === 0) continue;
        yield report(
          workload.target,
          [...entry.path, 'resources'],
          `${containerLabel(entry)} has no ${missing.join(' or ')} request`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-RES-002',
    family: 'resources',
    title: 'CPU and memory limits',
    severity: 'warning',
    mode: 'both',
    why: 'A container without a memory limit can take the node down with it; one without a CPU limit starves its neighbours.',
    fix: 'Set resources.limits.memory (and cpu) from a load test; keep requests at or below limits.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const limits = container.resources?.limits ?? {};
        const missing = ['cpu', 'memory'].filter((name) => limits[name] === undefined);
        if (missing.length === 0) continue;
        yield report(
          workload.target,
          [...entry.path, 'resources'],
          `${containerLabel(entry)} has no ${missing.join(' or ')} limit`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-RES-003',
    family: 'resources',
    title: 'JVM memory limit leaves room beside the heap',
    severity: 'error',
    mode: 'both',
    why: 'A JVM uses memory beyond its heap (metaspace, threads, buffers); a limit equal to the heap gets it OOM-killed.',
    fix: 'Set the memory limit to the maximum heap (-Xmx) plus about 1 GiB, or lower the heap.',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const evidence = jvmEvidence(container);
        if (!evidence) continue;
        const heap = heapSetting(container);
        const limit = parseQuantity(container.resources?.limits?.memory);
        if (!heap || limit === undefined) continue;
        const heapBytes = heap.kind === 'fixed' ? heap.bytes : (limit * heap.percent) / 100;
        if (limit - heapBytes >= GIB) continue;
        yield report(
          workload.target,
          [...entry.path, 'resources', 'limits', 'memory'],
          `${containerLabel(entry)} runs a JVM (${evidence}) with ${heap.text} (heap ${formatBytes(heapBytes)}) under a memory limit of ${formatBytes(limit)}: leave at least 1 GiB beside the heap, a limit of ${formatBytes(heapBytes + GIB)} or more`,
        );
      }
    },
  }),
  defineRule({
    id: 'GL-RES-004',
    family: 'resources',
    title: 'Java 11 or newer',
    severity: 'warning',
    mode: 'both',
    why: 'Java before 11 (and early 8 updates) ignores container memory and CPU limits and sizes itself from the node.',
    fix: 'Move to a Java 11+ base image (17 or 21 preferred).',
    *check(context) {
      for (const { workload, entry, container } of containersOf(context, { init: true })) {
        const version = javaVersionOfImage(container.image ?? '');
        if (version === undefined || version >= 11) continue;
        yield report(
          workload.target,
          [...entry.path, 'image'],
          `${containerLabel(entry)} runs Java ${version} (${container.image}); use Java 11 or newer`,
        );
      }
    },
  }),
];
