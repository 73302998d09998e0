/**
 * The tray menu as data: a fixed tree of items (systray2 numbers items once, when the tray
 * starts, so the tree never changes shape; items are shown, hidden and retitled instead), and
 * what each item does. Kept apart from systray2 so it can be tested without a display.
 */
import type { DecisionActionId, DecisionView } from '../daemon/decisions/types.js';
import { PAIR_STATE_WORDS } from '../daemon/decisions/types.js';
import type { FaceSnapshot } from './face-state.js';

/** What a click asks for; face.ts carries it out through the daemon's own commands. */
export type MenuCommand =
  | { type: 'sync-now' }
  | { type: 'decide'; slot: number; action: DecisionActionId; confirm: boolean }
  | { type: 'pause'; minutes: number | null }
  | { type: 'resume' }
  | { type: 'open-dashboard'; slot?: number; focusDecision?: string }
  | { type: 'open-logs' }
  | { type: 'quit' };

export interface TrayItem {
  title: string;
  tooltip: string;
  enabled: boolean;
  hidden: boolean;
  checked: boolean;
  items?: TrayItem[];
  command?: MenuCommand;
}

/** Phones shown in the menu at once; more are summarised in the dashboard. */
export const PHONE_SLOTS = 3;
const ACTION_IDS: DecisionActionId[] = ['sync-both', 'copy-phone-to-desktop', 'copy-desktop-to-phone'];

const item = (title: string, command?: MenuCommand, extra: Partial<TrayItem> = {}): TrayItem => ({
  title,
  tooltip: '',
  enabled: command !== undefined,
  hidden: false,
  checked: false,
  ...(command ? { command } : {}),
  ...extra,
});

export const SEPARATOR_TITLE = '<SEPARATOR>';
const separator = (): TrayItem => ({ title: SEPARATOR_TITLE, tooltip: '', enabled: true, hidden: false, checked: false });

export interface PhoneSlot {
  header: TrayItem;
  summary: TrayItem;
  /** Per action: the direct item (no loss) and the confirm submenu (loses work); one of them is shown. */
  actions: Record<DecisionActionId, { direct: TrayItem; guarded: TrayItem; guardText: TrayItem; confirm: TrayItem }>;
  open: TrayItem;
  separator: TrayItem;
}

export interface TrayMenuModel {
  status: TrayItem;
  syncNow: TrayItem;
  phones: PhoneSlot[];
  pause: TrayItem;
  resume: TrayItem;
  root: TrayItem[];
}

export function createMenuModel(): TrayMenuModel {
  const phones: PhoneSlot[] = [];
  for (let slot = 0; slot < PHONE_SLOTS; slot++) {
    const actions = {} as PhoneSlot['actions'];
    for (const a of ACTION_IDS) {
      const guardText = item('');
      const confirm = item('', { type: 'decide', slot, action: a, confirm: true });
      actions[a] = {
        direct: item('', { type: 'decide', slot, action: a, confirm: false }),
        guarded: item('', undefined, { enabled: true, items: [guardText, confirm] }),
        guardText,
        confirm,
      };
    }
    phones.push({ header: item(''), summary: item(''), actions, open: item('    Show in the dashboard', { type: 'open-dashboard', slot }), separator: separator() });
  }
  const pause = item('Pause', undefined, {
    enabled: true,
    items: [item('For 10 minutes', { type: 'pause', minutes: 10 }), item('For 1 hour', { type: 'pause', minutes: 60 }), item('Until resumed', { type: 'pause', minutes: null })],
  });
  const model: TrayMenuModel = {
    status: item('ankibridge'),
    syncNow: item('Sync now', { type: 'sync-now' }),
    phones,
    pause,
    resume: item('Resume', { type: 'resume' }),
    root: [],
  };
  model.root = [
    model.status,
    model.syncNow,
    separator(),
    ...phones.flatMap((p) => [p.header, p.summary, ...ACTION_IDS.flatMap((a) => [p.actions[a].direct, p.actions[a].guarded]), p.open, p.separator]),
    pause,
    model.resume,
    item('Open dashboard', { type: 'open-dashboard' }),
    item('Open logs', { type: 'open-logs' }),
    separator(),
    item('Quit', { type: 'quit' }),
  ];
  return model;
}

function phoneSummary(d: DecisionView): string {
  const n = (v: number | null) => (v === null ? '?' : String(v));
  return `    Phone: ${n(d.phone.reviewsSinceBase)} new reviews · Desktop: ${n(d.desktop.reviewsSinceBase)}`;
}

/** Fills the fixed tree from the snapshot (mutates the items systray2 already knows). */
export function applySnapshot(model: TrayMenuModel, snap: FaceSnapshot): void {
  model.status.title = snap.statusLine;
  model.pause.hidden = snap.paused;
  model.resume.hidden = !snap.paused;
  model.phones.forEach((slot, i) => {
    const d = snap.decisions[i];
    const all = [slot.header, slot.summary, slot.open, slot.separator, ...ACTION_IDS.flatMap((a) => [slot.actions[a].direct, slot.actions[a].guarded])];
    for (const it of all) it.hidden = d === undefined;
    if (!d) return;
    slot.header.title = `${d.deviceLabel}: ${PAIR_STATE_WORDS[d.state]}`;
    slot.summary.title = d.activeJob ? '    Working on it…' : d.state === 'phone-not-ready' ? `    ${d.headline}`.slice(0, 120) : phoneSummary(d);
    for (const a of ACTION_IDS) {
      const s = slot.actions[a];
      const act = d.actions.find((x) => x.id === a);
      const usable = act !== undefined && act.available && d.activeJob === null;
      const label = `    ${act?.label ?? a}${act?.recommended ? ' (recommended)' : ''}`;
      s.direct.hidden = !usable || act.needsConfirmation;
      s.direct.title = label;
      s.guarded.hidden = !usable || !act.needsConfirmation;
      s.guarded.title = `${label}…`;
      s.guardText.title = act?.guard ?? '';
      s.confirm.title = `Yes, ${(act?.label ?? a).toLowerCase()} (backed up first)`;
    }
  });
}
