/**
 * The decision a person is asked to make when a phone is plugged in (DESIGN.md "The state model
 * behind the guard"). The USB sync layer (src/sync/usb-sync, issue 6) computes it and hands it to
 * the daemon through a DecisionSource; the tray, the notifications, the dashboard and the API all
 * show the same object and answer it through the same DecisionBoard.act() → orchestrator job.
 *
 * Everything here is plain JSON, so it crosses the API and the SSE stream as it is.
 */
import type { Json, JobKind } from '../jobs/types.js';

/** The pair's state (desktop profile, phone), as in the design's table. */
export type PairState =
  | 'in-step'
  | 'desktop-ahead'
  | 'phone-ahead'
  | 'both-changed'
  | 'first-meeting'
  | 'cannot-merge'
  | 'waiting-for-import'
  /** Not a pair state: the phone is plugged in but cannot be read (charging only, locked, …); the headline says what to do. */
  | 'phone-not-ready';

export const PAIR_STATE_WORDS: Readonly<Record<PairState, string>> = {
  'in-step': 'In step',
  'desktop-ahead': 'Desktop ahead',
  'phone-ahead': 'Phone ahead',
  'both-changed': 'Both changed',
  'first-meeting': 'First meeting',
  'cannot-merge': 'Cannot merge',
  'waiting-for-import': 'Waiting for import on the phone',
  'phone-not-ready': 'Phone not ready',
};

/** One side's changes since the base (the last time both sides agreed). */
export interface SideSummary {
  /** "This computer" / "Pixel 7". */
  label: string;
  /** Reviews made on this side since the base (null at a first meeting: no base to count from). */
  reviewsSinceBase: number | null;
  /** Notes added or edited since the base (null when unknown). */
  notesChangedSinceBase: number | null;
  /** ISO time of the newest review on this side, null if none. */
  newestReviewAt: string | null;
  /** Size of the collection, for orientation. */
  cards: number;
  /** Where this side's state was read from: "live collection", "exported package from 12 Nov". */
  source: string;
  /** Reviews per calendar day (UTC), oldest first, for the small chart; days without reviews may be left out. */
  reviewsPerDay: Array<{ day: string; count: number }>;
}

export type DecisionActionId = 'sync-both' | 'copy-phone-to-desktop' | 'copy-desktop-to-phone';

export const ACTION_LABELS: Readonly<Record<DecisionActionId, string>> = {
  'sync-both': 'Sync both',
  'copy-phone-to-desktop': 'Copy phone → desktop',
  'copy-desktop-to-phone': 'Copy desktop → phone',
};

export interface DecisionAction {
  id: DecisionActionId;
  label: string;
  /** The job that carries it out; `confirm: true` is added to params once the person confirmed. */
  job: { kind: JobKind; params: { [key: string]: Json }; collection?: string };
  recommended: boolean;
  /** True when the action throws work away: it is refused unless confirmed. */
  needsConfirmation: boolean;
  /** What would be lost, as a sentence: "47 reviews made on the phone since 12 Nov will be lost". Null when nothing is. */
  guard: string | null;
  /** False when the action cannot be taken at all (e.g. merge after a schema change), with the reason. */
  available: boolean;
  unavailableReason?: string;
}

export interface PendingDecision {
  /** Stable while the question stands (e.g. `<phone serial>:<fingerprint digest>`); [A-Za-z0-9._:-]. */
  id: string;
  deviceId: string;
  deviceLabel: string;
  state: PairState;
  /** One line: "Phone has 23 new reviews, desktop has 5". */
  headline: string;
  desktop: SideSummary;
  phone: SideSummary;
  /** ISO time both sides last agreed, null at a first meeting. */
  baseAt: string | null;
  actions: DecisionAction[];
  /** The action id the safe default is, or null when there is no safe default (never act alone). */
  recommended: DecisionActionId | null;
  createdAt: string;
}

/** What the board adds: the job carrying the decision out, if one was started. */
export interface DecisionView extends PendingDecision {
  activeJob: string | null;
}

/**
 * Implemented by the USB sync layer (one source for all phones). `list()` is the pending
 * decisions now, one per connected phone that needs one (in-step phones have none); `onChange`
 * is called whenever that set or a decision's content changes (plug, unplug, re-read).
 */
export interface DecisionSource {
  list(): PendingDecision[];
  onChange(listener: () => void): () => void;
}
