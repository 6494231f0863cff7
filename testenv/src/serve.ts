// Entry point of the Node daemons that `up` starts:
//   node testenv/src/serve.ts fault-proxy <config.json>
//   node testenv/src/serve.ts exporter --port N
import fs from 'node:fs';
import { startExporter } from './exporter.ts';
import { type FaultProxyOptions, startFaultProxy } from './fault-proxy.ts';

async function main(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  let close: () => Promise<void>;
  if (what === 'fault-proxy' && rest[0]) {
    const options = JSON.parse(fs.readFileSync(rest[0], 'utf8')) as FaultProxyOptions;
    ({ close } = await startFaultProxy(options));
    console.error(
      `fault proxy: https://${options.host}:${options.port} -> ${options.upstream.host}:${options.upstream.port}, control http://${options.host}:${options.controlPort}`,
    );
  } else if (what === 'exporter' && rest[0] === '--port' && rest[1]) {
    const port = Number(rest[1]);
    ({ close } = await startExporter({ host: '127.0.0.1', port }));
    console.error(`exporter: http://127.0.0.1:${port}/metrics`);
  } else {
    console.error('usage: serve.ts fault-proxy <config.json> | exporter --port N');
    process.exit(2);
  }
  const stop = (signal: string) => {
    console.error(`${what}: ${signal}, stopping`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
