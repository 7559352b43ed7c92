#!/usr/bin/env -S node --max-semi-space-size=1
// The command line: `serve`, `check`, --help, --version. Configuration errors are the
// user's to fix, so they print as one list of problems with exit code 2, never a stack.
// The demo is not here: it needs a dev dependency and runs from a checkout (npm run demo).
//
// --max-semi-space-size=1 (the shebang; the Dockerfile's ENTRYPOINT repeats it): V8's young
// generation grows to 16 MB by default, which a daemon that allocates little per poll never
// needs; capped at 1 MB, the RSS after importing the daemon fell from 97 to 73 MB under
// allocation churn, with no measurable cost per scrape (bench, case 1).

import { ConfigError, parseConfig, settingsHelp, type Config } from './config/parse-config.js';
import { createLogger, type Logger } from './log.js';
import { version } from './version.js';

const commands = {
  serve: 'Poll PostgreSQL and the Coder replicas on a schedule and serve /metrics (the daemon).',
  check:
    'Poll once and say whether Coder fits: exit 0 fits, 1 warning, 2 overcommitted, PostgreSQL full or unreachable, or cannot judge. --coder.replicas N --coder.pool-max M judge a plan.',
} as const;

type Command = keyof typeof commands;

function usage(): string {
  const list = Object.entries(commands)
    .map(([name, help]) => `  ${name.padEnd(8)}${help}`)
    .join('\n');
  return `coder-pg-capacity ${version}: will PostgreSQL run out of connections for Coder?

Usage: coder-pg-capacity <command> [flags]

Commands:
${list}

Flags (each also read from the environment variable named, flags win):
${settingsHelp()}

  --help     Show this help.
  --version  Print the version.
`;
}

/** Runs until the process is told to stop; resolves with the exit code. */
async function runCommand(command: Command, config: Config, logger: Logger): Promise<number> {
  if (command === 'check') {
    // check logs to stderr (its report is on stdout), so it makes its own logger.
    const { runCheck } = await import('./commands/check.js');
    return runCheck(config);
  }
  const { runServe } = await import('./commands/serve.js');
  return runServe(config, logger);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--version')) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return command === undefined ? 2 : 0;
  }
  if (!(command in commands)) {
    const demo = command === 'demo' ? ' The demo runs from a checkout: npm ci && npm run demo.' : '';
    process.stderr.write(`unknown command "${command}"; expected one of: ${Object.keys(commands).join(', ')}. Run coder-pg-capacity --help.${demo}\n`);
    return 2;
  }
  let config: Config;
  try {
    config = parseConfig(rest, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`coder-pg-capacity: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  return runCommand(command as Command, config, createLogger(config.log.level));
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    // Exit now: a stopped daemon must not linger on a handle someone forgot (SIGTERM within 2 s).
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`coder-pg-capacity: ${(error as Error).message ?? String(error)}\n`);
    // Whatever the command started is cleaned up by the time its promise rejects.
    process.exit(1);
  },
);
