import type { Logger } from 'pino';
import type { ConfigStore } from '../config/store.js';
import type { EventBus } from '../events/bus.js';
import type { JobHistory } from '../jobs/history.js';
import type { Orchestrator } from '../jobs/orchestrator.js';
import type { DecisionBoard } from '../decisions/board.js';
import type { DaemonProviders } from '../providers.js';
import type { PauseState } from '../scheduler/pause.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { DashboardSessions } from './sessions.js';
import type { ApiTokens } from './tokens.js';

/** Everything the HTTP API needs from the daemon; built by the daemon, or by a test. */
export interface ApiContext {
  version: string;
  startedAt: number;
  tokens: ApiTokens;
  tokenFile: string;
  config: ConfigStore;
  orchestrator: Orchestrator;
  scheduler: Scheduler;
  pause: PauseState;
  bus: EventBus;
  history: JobHistory;
  providers: DaemonProviders;
  sessions: DashboardSessions;
  /** Pending decisions (one per connected phone) and their answers. */
  decisions: DecisionBoard;
  log: Logger;
  /** The port the listener is bound to, once it is (Host and Origin must carry it). */
  port(): number | undefined;
  addresses(): Array<{ address: string; family: string; port: number }>;
  /** Asks the daemon to stop gracefully (after the response is sent). */
  requestShutdown(reason: string): void;
}
