// A Prometheus exporter whose metric values the tests set. Prometheus scrapes
// GET /metrics every second; tests change values through the control routes:
//   PUT    /control/metrics   {"name","value","labels"?,"type"?,"help"?}  set one sample
//   POST   /control/metrics   {"name","by"?,"labels"?}                     add to a counter (default 1)
//   DELETE /control/metrics                                              forget every metric
//   GET    /control/metrics                                              the current samples as JSON
import http from 'node:http';

export type MetricType = 'gauge' | 'counter';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: MetricType;
  help: string;
  samples: Map<string, Sample>;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelsKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`)
    .join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export class MetricStore {
  private readonly families = new Map<string, Family>();

  set(
    name: string,
    value: number,
    labels: Record<string, string> = {},
    type: MetricType = 'gauge',
    help = '',
  ): void {
    this.family(name, type, help).samples.set(labelsKey(labels), { name, labels: { ...labels }, value });
  }

  add(name: string, by = 1, labels: Record<string, string> = {}, help = ''): number {
    const family = this.family(name, 'counter', help);
    const key = labelsKey(labels);
    const sample = family.samples.get(key) ?? { name, labels: { ...labels }, value: 0 };
    sample.value += by;
    family.samples.set(key, sample);
    return sample.value;
  }

  clear(): void {
    this.families.clear();
  }

  samples(): Sample[] {
    return [...this.families.values()].flatMap((family) => [...family.samples.values()]);
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, family] of [...this.families.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (family.help)
        lines.push(`# HELP ${name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${name} ${family.type}`);
      for (const sample of family.samples.values()) {
        const labels = Object.entries(sample.labels)
          .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
          .join(',');
        lines.push(`${name}${labels ? `{${labels}}` : ''} ${formatValue(sample.value)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private family(name: string, type: MetricType, help: string): Family {
    if (!metricName.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric ${name} is a ${existing.type}, not a ${type}`);
      if (help) existing.help = help;
      return existing;
    }
    const family: Family = { type, help, samples: new Map() };
    this.families.set(name, family);
    return family;
  }
}

function parseLabels(input: unknown): Record<string, string> {
  if (input === undefined) return {};
  if (!input || typeof input !== 'object' || Array.isArray(input))
    throw new Error('labels must be an object');
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!labelName.test(key) || key.startsWith('__'))
      throw new Error(`invalid label name ${JSON.stringify(key)}`);
    labels[key] = String(value);
  }
  return labels;
}

export async function startExporter(options: {
  host: string;
  port: number;
}): Promise<{ store: MetricStore; close: () => Promise<void> }> {
  const store = new MetricStore();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(body)}\n`);
      };
      const path = new URL(req.url ?? '/', 'http://exporter').pathname;
      try {
        if (path === '/metrics' && req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(store.render());
          return;
        }
        if (path === '/healthz') return reply(200, { ok: true });
        if (path === '/control/metrics') {
          if (req.method === 'GET') return reply(200, store.samples());
          if (req.method === 'DELETE') {
            store.clear();
            return reply(200, { cleared: true });
          }
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
          const name = String(body.name ?? '');
          const labels = parseLabels(body.labels);
          const help = typeof body.help === 'string' ? body.help : '';
          if (req.method === 'PUT') {
            if (typeof body.value !== 'number') throw new Error('value must be a number');
            const type = body.type === 'counter' ? 'counter' : 'gauge';
            store.set(name, body.value, labels, type, help);
            return reply(200, { name, labels, value: body.value });
          }
          if (req.method === 'POST') {
            const by = body.by === undefined ? 1 : Number(body.by);
            if (!Number.isFinite(by) || by < 0) throw new Error('by must be a number >= 0');
            return reply(200, { name, labels, value: store.add(name, by, labels, help) });
          }
        }
        return reply(404, { error: `no route ${req.method} ${path}` });
      } catch (error) {
        return reply(400, { error: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    store,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
