/**
 * The question put to the person at plug-in, in the shape of the daemon's PendingDecision
 * (src/daemon/decisions/types.ts; declared structurally here because sync may not import daemon).
 * The safe choice is the default; an action that loses work names what is lost and needs a
 * confirmation; a first meeting has no default (never act alone).
 */
import type { CollectionSummary } from '../../apkg/collection/summary.js';
import type { PairState } from './pair-state.js';
import type { Loss, SinceBase } from './side.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SideSummaryView {
  label: string;
  reviewsSinceBase: number | null;
  notesChangedSinceBase: number | null;
  newestReviewAt: string | null;
  cards: number;
  source: string;
  reviewsPerDay: Array<{ day: string; count: number }>;
}

export type ActionId = 'sync-both' | 'copy-phone-to-desktop' | 'copy-desktop-to-phone';

export interface ActionView {
  id: ActionId;
  label: string;
  job: { kind: 'usb.pull' | 'usb.push' | 'usb.merge'; params: { [key: string]: Json }; collection?: string };
  recommended: boolean;
  needsConfirmation: boolean;
  guard: string | null;
  available: boolean;
  unavailableReason?: string;
}

/** A phone that is plugged in but cannot be read yet (charging only, locked, PTP, …): not a pair state. */
export type DecisionState = PairState | 'phone-not-ready';

export interface DecisionView {
  id: string;
  deviceId: string;
  deviceLabel: string;
  state: DecisionState;
  headline: string;
  desktop: SideSummaryView;
  phone: SideSummaryView;
  baseAt: string | null;
  actions: ActionView[];
  recommended: ActionId | null;
  createdAt: string;
}

export interface DecisionInput {
  deviceId: string;
  deviceLabel: string;
  digestPair: string;
  state: PairState;
  baseAt: number | null;
  desktop: { summary: CollectionSummary; since: SinceBase; source: string };
  phone: { summary: CollectionSummary; since: SinceBase; source: string };
  /** What a pull / push would lose (null sentence: nothing). */
  pullLoss: Loss;
  pushLoss: Loss;
  schemaChanged: 'desktop' | 'phone' | null;
  collection: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function side(label: string, s: DecisionInput['desktop'], hasBase: boolean): SideSummaryView {
  return {
    label,
    reviewsSinceBase: hasBase ? s.since.reviews : null,
    notesChangedSinceBase: hasBase ? s.since.notesChanged : null,
    newestReviewAt: s.summary.newestReview === null ? null : new Date(s.summary.newestReview).toISOString(),
    cards: s.summary.cards,
    source: s.source,
    reviewsPerDay: s.since.reviewsPerDay,
  };
}

export function buildDecision(d: DecisionInput): DecisionView {
  const hasBase = d.baseAt !== null;
  const params = { deviceId: d.deviceId };
  const recommended: ActionId | null =
    d.state === 'phone-ahead' ? 'copy-phone-to-desktop' : d.state === 'desktop-ahead' ? 'copy-desktop-to-phone' : d.state === 'both-changed' ? 'sync-both' : null;
  const mergeUnavailable =
    !hasBase ? 'there is no common base yet (first meeting)' : d.state === 'cannot-merge' ? `the ${d.schemaChanged === 'phone' ? 'phone' : 'desktop'} made a schema change since the last sync` : d.state === 'waiting-for-import' ? 'the last package sent to the phone is not imported yet' : undefined;
  const firstMeeting = d.state === 'first-meeting';
  const actions: ActionView[] = [
    {
      id: 'sync-both', label: 'Sync both', job: { kind: 'usb.merge', params, collection: d.collection },
      recommended: recommended === 'sync-both', needsConfirmation: false, guard: null,
      available: mergeUnavailable === undefined, ...(mergeUnavailable === undefined ? {} : { unavailableReason: mergeUnavailable }),
    },
    {
      id: 'copy-phone-to-desktop', label: 'Copy phone → desktop', job: { kind: 'usb.pull', params, collection: d.collection },
      recommended: recommended === 'copy-phone-to-desktop', needsConfirmation: firstMeeting || d.pullLoss.sentence !== null,
      guard: d.pullLoss.sentence ?? (firstMeeting ? 'the desktop collection is replaced by the phone’s (first sync of this pair)' : null), available: true,
    },
    {
      id: 'copy-desktop-to-phone', label: 'Copy desktop → phone', job: { kind: 'usb.push', params, collection: d.collection },
      recommended: recommended === 'copy-desktop-to-phone', needsConfirmation: firstMeeting || d.pushLoss.sentence !== null,
      guard: d.pushLoss.sentence ?? (firstMeeting ? 'the phone’s collection is replaced by the desktop’s (first sync of this pair)' : null), available: true,
    },
  ];
  const dr = d.desktop.since.reviews;
  const pr = d.phone.since.reviews;
  const headline =
    d.state === 'first-meeting'
      ? `First sync with this phone: phone has ${plural(d.phone.summary.revlog, 'review')} and ${plural(d.phone.summary.cards, 'card')}, desktop has ${plural(d.desktop.summary.revlog, 'review')} and ${plural(d.desktop.summary.cards, 'card')}`
      : d.state === 'waiting-for-import'
        ? 'Waiting for the import on the phone: open AnkiDroid and import the package ankibridge sent'
        : d.state === 'in-step'
          ? 'Phone and desktop are in step'
          : d.state === 'cannot-merge'
            ? `Cannot merge: a schema change on the ${d.schemaChanged ?? 'desktop'}; choose a side`
            : `Phone has ${plural(pr, 'new review')}, desktop has ${dr}`;
  return {
    id: `${d.deviceId.replace(/[^A-Za-z0-9._:-]/g, '_')}:${d.digestPair}`,
    deviceId: d.deviceId,
    deviceLabel: d.deviceLabel,
    state: d.state,
    headline,
    desktop: side('This computer', d.desktop, hasBase),
    phone: side(d.deviceLabel, d.phone, hasBase),
    baseAt: d.baseAt === null ? null : new Date(d.baseAt).toISOString(),
    actions,
    recommended,
    createdAt: new Date().toISOString(),
  };
}

/** Why a plugged-in phone cannot be read, in one word (the USB room's phone states) and what to do. */
export interface NotReady {
  /** 'charging-only', 'ptp', 'adb-only', 'locked', 'busy', 'no-collection', 'no-desktop', 'error', … */
  reason: string;
  /** The sentence for the person: "The phone is only charging. Set USB to "File transfer": …". */
  guidance: string;
}

function emptySide(label: string, source: string): SideSummaryView {
  return { label, reviewsSinceBase: null, notesChangedSinceBase: null, newestReviewAt: null, cards: 0, source, reviewsPerDay: [] };
}

/**
 * The question for a phone that is plugged in but cannot be read: no action is available (each
 * says why), the headline is what to do. It is replaced by the real decision once the phone can
 * be read (after a mode switch the phone re-enumerates; a locked phone is tried again).
 */
export function notReadyDecision(deviceId: string, deviceLabel: string, n: NotReady): DecisionView {
  const params = { deviceId };
  const action = (id: ActionId, label: string, kind: ActionView['job']['kind']): ActionView => ({
    id, label, job: { kind, params, collection: 'desktop' }, recommended: false, needsConfirmation: false, guard: null, available: false, unavailableReason: n.guidance,
  });
  return {
    id: `${deviceId.replace(/[^A-Za-z0-9._:-]/g, '_')}:not-ready-${n.reason.replace(/[^A-Za-z0-9._-]/g, '_')}`,
    deviceId,
    deviceLabel,
    state: 'phone-not-ready',
    headline: n.guidance,
    desktop: emptySide('This computer', 'not read yet'),
    phone: emptySide(deviceLabel, `not readable: ${n.reason}`),
    baseAt: null,
    actions: [action('sync-both', 'Sync both', 'usb.merge'), action('copy-phone-to-desktop', 'Copy phone → desktop', 'usb.pull'), action('copy-desktop-to-phone', 'Copy desktop → phone', 'usb.push')],
    recommended: null,
    createdAt: new Date().toISOString(),
  };
}
