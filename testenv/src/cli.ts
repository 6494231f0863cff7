// node testenv/src/cli.ts up|down|status
//   up      start (or reuse) the environment; prints `export NAME=value` lines
//           and writes them to .testenv/env
//   down    stop every process up started and remove the run's data
//   status  what runs, where, and whether it is healthy (exit 1 when not all up)
import { down, status, up } from './environment.ts';
import { formatEnv } from './state.ts';

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const result = await up();
      process.stdout.write(`${formatEnv(result.env)}\n`);
      process.stderr.write(
        `testenv: ${result.started ? `started ${result.startedComponents.join(', ')}` : 'already up'} in ${(result.ms / 1000).toFixed(1)} s\n`,
      );
      return 0;
    }
    case 'down':
      await down();
      return 0;
    case 'status': {
      const result = await status();
      if (result.components.length === 0) {
        process.stdout.write('testenv is not up\n');
        return 1;
      }
      for (const c of result.components) {
        const state = c.healthy ? 'healthy' : c.running ? 'UNHEALTHY' : 'STOPPED';
        process.stdout.write(
          `${c.name.padEnd(24)} ${state.padEnd(9)} ${c.address.padEnd(16)} pid ${String(c.pid ?? '-').padEnd(8)} ${c.log ?? ''}\n`,
        );
      }
      return result.up ? 0 : 1;
    }
    default:
      process.stderr.write('usage: testenv up|down|status\n');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`testenv: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
