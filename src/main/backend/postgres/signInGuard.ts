// The sign-in guard (migration 0048): PostgreSQL tells SQL nothing about failed sign-ins, but its log
// does, and the process that owns the server reads that log. Each failed password authentication
// is reported to cs_private.record_sign_in_failure, which counts it, audits it and locks the login
// at the configured number in a row. Every few seconds the guard also runs
// cs_private.sign_in_guard_poll, which locks an account whose password was changed outside
// Countersign and ends its sessions, and marks the guard as alive (public.sign_in_protection).
//
// The server writes its log with `log_line_prefix` = signInGuardLogPrefix. Only the text after the
// prefix can come from a client (the user name in the message); PostgreSQL starts every further
// line of a message with a tab, so a user name cannot forge a line of its own.
import type pg from 'pg';

/** %m: time with milliseconds; %p: process id; %e: SQLSTATE; %h: client host. */
export const signInGuardLogPrefix = '%m [%p] %e %h ';

export interface FailedSignIn {
  login: string;
  at: Date;
  clientAddr: string;
}

const failedPassword =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) UTC \[\d+\] 28P01 (\S+) FATAL: {2}password authentication failed for user "(.*)"$/;

/** A failed password authentication, from one line of the server's log (log_timezone UTC). */
export function parseFailedSignIn(line: string): FailedSignIn | null {
  const match = failedPassword.exec(line);
  if (!match) return null;
  const [, time, host, login] = match as unknown as [string, string, string, string];
  const at = new Date(`${time.replace(' ', 'T')}Z`);
  if (Number.isNaN(at.getTime())) return null;
  return { login, at, clientAddr: host === '[local]' ? 'local' : host };
}

export interface SignInGuardOptions {
  /** Opens an operator connection to the project database (the deployment's owner). */
  connect(): Promise<pg.Client>;
  log(line: string): void;
  /** How often to look for passwords changed outside Countersign; default 2 seconds. */
  pollIntervalMs?: number;
}

export class SignInGuard {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private partial = '';

  constructor(private readonly options: SignInGuardOptions) {}

  start(): void {
    const interval = this.options.pollIntervalMs ?? 2_000;
    this.timer = setInterval(() => this.enqueue(() => this.poll()), interval);
    this.timer.unref();
    this.enqueue(() => this.poll());
  }

  /** Server output as it arrives (chunks, not lines). */
  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const failure = parseFailedSignIn(line.replace(/\r$/, ''));
      if (failure) this.enqueue(() => this.report(failure));
    }
  }

  /** Resolves when everything fed so far has been reported. */
  settled(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (error) {
        // The server may be stopping or restarting; the next report or poll connects again.
        await this.client?.end().catch(() => undefined);
        this.client = null;
        this.options.log(`countersign sign-in guard: ${(error as Error).message}`);
      }
    });
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= this.options.connect().finally(() => {
      this.connecting = null;
    });
    const client = await this.connecting;
    client.on('error', () => undefined);
    this.client = client;
    return client;
  }

  private async report(failure: FailedSignIn): Promise<void> {
    const client = await this.connection();
    const { rows } = await client.query<{ r: { person: boolean; locked?: boolean; failures?: number } }>(
      'select cs_private.record_sign_in_failure($1, $2, $3) as r',
      [failure.login, failure.at.toISOString(), failure.clientAddr],
    );
    const result = rows[0]?.r;
    // The login name may be anything a stranger typed: it is not logged. A person is named by id.
    if (result?.person && result.locked && result.failures !== undefined) {
      this.options.log(
        `countersign sign-in guard: a login was locked after ${result.failures} failed sign-ins`,
      );
    }
  }

  private async poll(): Promise<void> {
    const client = await this.connection();
    const { rows } = await client.query<{ locked: number }>(
      'select cs_private.sign_in_guard_poll() as locked',
    );
    const locked = rows[0]?.locked ?? 0;
    if (locked > 0) {
      this.options.log(
        `countersign sign-in guard: ${locked} login(s) locked: password changed outside Countersign`,
      );
    }
  }
}
