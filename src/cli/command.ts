/**
 * The shape of a CLI command. Commands take their streams from CliIo so tests can run them in
 * process and read what a user would see.
 */
export interface CliIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the user asks the process to stop (SIGINT/SIGTERM); tests resolve it themselves. */
  readonly stopSignal?: Promise<string>;
}

export interface Command {
  /** Words that select the command: ['certs', 'create'], ['up']. */
  readonly name: readonly string[];
  readonly summary: string;
  /** The full help text, shown by `gatehouse help NAME` and `NAME --help`. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export function processIo(): CliIo {
  const stopSignal = new Promise<string>((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, stopSignal };
}
