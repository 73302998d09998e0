import type { Database } from 'better-sqlite3';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import type { Json, JobSummary } from './types.js';

interface Row {
  id: string;
  kind: string;
  collection: string;
  origin: string;
  state: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
}

/** The job history in the state database (table daemon_job_history, migration daemon#1). */
export class JobHistory {
  constructor(private readonly db: Database) {}

  upsert(s: JobSummary): void {
    this.db
      .prepare(
        `INSERT INTO daemon_job_history (id, kind, collection, origin, state, created_at, started_at, finished_at, result, error)
         VALUES (@id, @kind, @collection, @origin, @state, @created_at, @started_at, @finished_at, @result, @error)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, started_at = excluded.started_at,
           finished_at = excluded.finished_at, result = excluded.result, error = excluded.error`,
      )
      .run({
        id: s.id,
        kind: s.kind,
        collection: s.collection,
        origin: s.origin,
        state: s.state,
        created_at: Date.parse(s.createdAt),
        started_at: s.startedAt ? Date.parse(s.startedAt) : null,
        finished_at: s.finishedAt ? Date.parse(s.finishedAt) : null,
        result: JSON.stringify({ params: s.params, result: s.result }),
        error: s.error ? JSON.stringify(s.error) : null,
      });
  }

  get(id: string): JobSummary | undefined {
    const row = this.db.prepare('SELECT * FROM daemon_job_history WHERE id = ?').get(id) as Row | undefined;
    return row ? toSummary(row) : undefined;
  }

  /** Newest first; `before` is a creation time in ms for paging. */
  list(limit: number, before?: number): JobSummary[] {
    const rows = (
      before === undefined
        ? this.db.prepare('SELECT * FROM daemon_job_history ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM daemon_job_history WHERE created_at < ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(before, limit)
    ) as Row[];
    return rows.map(toSummary);
  }

  /** After a crash, jobs left queued or running did not finish: say so in the history. */
  markInterrupted(): number {
    const e = makeError(DaemonErrors.JOB_INTERRUPTED);
    const error = JSON.stringify({ code: e.code, message: e.message, hint: e.hint });
    return this.db
      .prepare(`UPDATE daemon_job_history SET state = 'failed', finished_at = ?, error = ? WHERE state IN ('queued', 'running')`)
      .run(Date.now(), error).changes;
  }
}

function toSummary(r: Row): JobSummary {
  const stored = r.result ? (JSON.parse(r.result) as { params?: Json; result?: Json }) : {};
  return {
    id: r.id,
    kind: r.kind as JobSummary['kind'],
    collection: r.collection,
    origin: r.origin as JobSummary['origin'],
    state: r.state as JobSummary['state'],
    params: stored.params ?? {},
    createdAt: new Date(r.created_at).toISOString(),
    startedAt: r.started_at === null ? null : new Date(r.started_at).toISOString(),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
    progress: null,
    result: stored.result ?? null,
    error: r.error ? (JSON.parse(r.error) as JobSummary['error']) : null,
  };
}
