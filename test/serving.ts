// `orrery serve` as a process, the way a user starts it: wait for the line that says where it
// listens, then talk to it over HTTP.

import { type ChildProcess, spawn } from 'node:child_process';

export interface Serving {
  /** the URL the line "serving … on URL" names */
  readonly url: string;
  /** what it wrote so far, stderr then stdout (the request log goes to stdout) */
  output(): string;
  /** SIGTERM, and its exit */
  stop(): Promise<void>;
}

/** Starts `command args` (a `serve` on port 0) and resolves once it says where it listens; rejects if it exits first. */
export async function serving(command: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Serving> {
  const child: ChildProcess = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /on (http:\/\/\S+) /.exec(stderr);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    output: () => stderr + stdout,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
