// Fast checks of the face's parts without a desktop: the decision board's guard, the
// notification policy (settle, repeat, error throttling), the menu model, the icons, and the
// tray helper guard when the display cannot be opened.
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { DecisionBoard } from '../../src/daemon/decisions/board.js';
import type { DecisionSource, PendingDecision, DecisionView } from '../../src/daemon/decisions/types.js';
import { EventBus, type DaemonEvent } from '../../src/daemon/events/bus.js';
import { Orchestrator } from '../../src/daemon/jobs/orchestrator.js';
import type { JobSummary } from '../../src/daemon/jobs/types.js';
import { isAnkibridgeError } from '../../src/errors/index.js';
import { encodeIco, encodePng, iconPixels, STATE_COLOURS, trayIconBase64 } from '../../src/tray/icons.js';
import { applySnapshot, createMenuModel } from '../../src/tray/menu.js';
import { Notifier } from '../../src/tray/notifier.js';
import { startTrayHost, trayUnavailableReason } from '../../src/tray/tray-host.js';

function decision(over: Partial<PendingDecision> = {}): PendingDecision {
  const side = (label: string, n: number) => ({ label, reviewsSinceBase: n, notesChangedSinceBase: 0, newestReviewAt: null, cards: 10, source: 'live collection', reviewsPerDay: [] });
  return {
    id: 'SER1:1-2',
    deviceId: 'SER1',
    deviceLabel: 'Phone',
    state: 'both-changed',
    headline: 'Phone has 3 new reviews, desktop has 1',
    desktop: side('this computer', 1),
    phone: side('Phone', 3),
    baseAt: null,
    recommended: 'sync-both',
    createdAt: '2026-11-25T00:00:00.000Z',
    actions: [
      { id: 'sync-both', label: 'Sync both', job: { kind: 'noop', params: {} }, recommended: true, needsConfirmation: false, guard: null, available: true },
      { id: 'copy-desktop-to-phone', label: 'Copy desktop → phone', job: { kind: 'usb.push', params: { device: 'SER1' } }, recommended: false, needsConfirmation: true, guard: '3 reviews made on the phone since 1 Nov will be lost', available: true },
    ],
    ...over,
  };
}

class ListSource implements DecisionSource {
  items: PendingDecision[] = [];
  private l = new Set<() => void>();
  list() {
    return this.items;
  }
  onChange(f: () => void) {
    this.l.add(f);
    return () => this.l.delete(f);
  }
  set(items: PendingDecision[]) {
    this.items = items;
    for (const f of this.l) f();
  }
}

describe('DecisionBoard', () => {
  it('announces new and cleared decisions, refuses an overwrite without confirmation with the guard sentence, runs it when confirmed', async () => {
    const bus = new EventBus();
    const events: DaemonEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const { noopHandler } = await import('../../src/daemon/jobs/builtin.js');
    // The USB layer's handlers take `confirm` (the board adds it once the person confirmed).
    const push = { kind: 'usb.push', description: 'test push', paramsSchema: { type: 'object', additionalProperties: false, properties: { device: { type: 'string' }, confirm: { type: 'boolean' } } }, run: async () => ({ pushed: true }) };
    const orchestrator = new Orchestrator({ bus, history: { upsert: () => undefined, get: () => undefined } as never, log: pino({ level: 'silent' }), maxQueuePerCollection: () => 5, pausedReason: () => undefined });
    orchestrator.register(noopHandler as never);
    orchestrator.register(push as never);
    const source = new ListSource();
    const board = new DecisionBoard({ bus, orchestrator, source });
    source.set([decision()]);
    expect(events.map((e) => e.type)).toEqual(['decision.pending', 'decisions.changed']);
    source.set([decision()]);
    expect(events).toHaveLength(2); // unchanged content: no new announcement
    let err: unknown;
    try {
      board.act('SER1:1-2', 'copy-desktop-to-phone', { confirm: false, origin: 'api' });
    } catch (e) {
      err = e;
    }
    expect(isAnkibridgeError(err) && err.code).toBe('ANKIBRIDGE_ERR_DECISION_CONFIRMATION_REQUIRED');
    expect((err as Error).message).toBe('This would overwrite work: 3 reviews made on the phone since 1 Nov will be lost.');
    expect(orchestrator.list()).toEqual([]);
    expect(() => board.act('SER1:1-2', 'nonsense', { confirm: true, origin: 'api' })).toThrow(/offers no action "nonsense"/);
    expect(() => board.act('gone', 'sync-both', { confirm: false, origin: 'api' })).toThrow(/no pending decision gone/);
    const job = board.act('SER1:1-2', 'copy-desktop-to-phone', { confirm: true, origin: 'tray' });
    expect(job).toMatchObject({ kind: 'usb.push', origin: 'tray', params: { device: 'SER1', confirm: true } });
    expect(board.get('SER1:1-2').activeJob).toBe(job.id);
    expect(() => board.act('SER1:1-2', 'sync-both', { confirm: false, origin: 'api' })).toThrow(/already being carried out/);
    await orchestrator.waitFor(job.id);
    expect(events.some((e) => e.type === 'decision.job-finished' && e.data['state'] === 'succeeded')).toBe(true);
    source.set([]);
    expect(events.filter((e) => e.type === 'decision.cleared')).toHaveLength(1);
    board.dispose();
  });
});

describe('Notifier', () => {
  afterEach(() => vi.useRealTimers());
  const view = (d = decision()): DecisionView => ({ ...d, activeJob: null });
  const ev = (type: string, data: Record<string, unknown>): DaemonEvent => ({ id: 1, type, at: '', data });

  it('waits for a decision to settle, condenses flapping and repeats, throttles errors, keeps "synced" opt-in', async () => {
    vi.useFakeTimers();
    let now = 0;
    const shown: Array<{ title: string; body: string; actions: Array<{ key: string }> }> = [];
    const cfg = { decisions: true, errors: true, synced: false };
    const n = new Notifier({ config: () => cfg, show: async (x) => (shown.push(x), null), onAnswer: () => undefined, now: () => now, settleMs: 1000, repeatMs: 60_000, errorGapMs: 30_000 });
    // plug, unplug within the settle time: nothing shown
    n.handle(ev('decision.pending', { decision: view() }));
    n.handle(ev('decision.cleared', { id: 'SER1:1-2', deviceId: 'SER1' }));
    await vi.advanceTimersByTimeAsync(2000);
    expect(shown).toHaveLength(0);
    expect(n.flapsCondensed).toBe(1);
    // plug and stay: one notification, with the recommended action as a button
    n.handle(ev('decision.pending', { decision: view() }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.body).toBe('Phone has 3 new reviews, desktop has 1. Recommended: Sync both.');
    expect(shown[0]?.actions.map((a) => a.key)).toEqual(['default', 'sync-both']);
    // the same question again soon: condensed; a different one: shown
    n.handle(ev('decision.pending', { decision: view() }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown).toHaveLength(1);
    n.handle(ev('decision.pending', { decision: view(decision({ state: 'phone-ahead' })) }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(shown).toHaveLength(2);
    // errors: one per gap, the held ones counted into the next
    const failed = (id: string) => ({ job: { id, kind: 'usb.merge', state: 'failed', error: { message: 'The phone was unplugged.' } } as unknown as JobSummary });
    n.handle(ev('job.finished', failed('a')));
    n.handle(ev('job.finished', failed('b')));
    n.handle(ev('job.finished', failed('c')));
    expect(shown).toHaveLength(3);
    now = 31_000;
    n.handle(ev('job.finished', failed('d')));
    expect(shown[3]?.body).toBe('The phone was unplugged. (and 2 more errors since the last notice)');
    // "synced" only when asked for
    const ok = { job: { id: 'e', kind: 'usb.merge', state: 'succeeded', error: null } };
    n.handle(ev('job.finished', ok));
    expect(shown).toHaveLength(4);
    cfg.synced = true;
    n.handle(ev('job.finished', ok));
    expect(shown[4]?.title).toBe('ankibridge: Sync both done');
    n.dispose();
  });
});

describe('tray menu model', () => {
  it('shows a section per phone; actions that lose work sit behind a confirm submenu with the guard', () => {
    const m = createMenuModel();
    applySnapshot(m, { state: 'idle', statusLine: 'ankibridge — Idle', decisions: [], paused: false, running: undefined });
    expect(m.phones.every((p) => p.header.hidden && p.actions['sync-both'].direct.hidden)).toBe(true);
    expect(m.resume.hidden).toBe(true);
    applySnapshot(m, { state: 'needs-you', statusLine: 's', decisions: [{ ...decision(), activeJob: null }], paused: true, running: undefined });
    const p = m.phones[0];
    expect(p?.header.title).toBe('Phone: Both changed');
    expect(p?.actions['sync-both'].direct).toMatchObject({ hidden: false, title: '    Sync both (recommended)' });
    expect(p?.actions['copy-desktop-to-phone'].direct.hidden).toBe(true);
    expect(p?.actions['copy-desktop-to-phone'].guarded).toMatchObject({ hidden: false, title: '    Copy desktop → phone…' });
    expect(p?.actions['copy-desktop-to-phone'].guardText.title).toBe('3 reviews made on the phone since 1 Nov will be lost');
    expect(p?.actions['copy-desktop-to-phone'].confirm.command).toEqual({ type: 'decide', slot: 0, action: 'copy-desktop-to-phone', confirm: true });
    expect(p?.actions['copy-phone-to-desktop'].guarded.hidden).toBe(true); // not offered by this decision
    expect(m.phones[1]?.header.hidden).toBe(true);
    expect(m.pause.hidden).toBe(true);
    expect(m.resume.hidden).toBe(false);
  });
});

describe('icons', () => {
  it('are valid PNGs (and ICO on Windows) with the state colour in the middle of the disc edge', () => {
    const png = encodePng(iconPixels('error', 32), 32, 32);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(32);
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    expect(raw.length).toBe((32 * 4 + 1) * 32);
    const px = iconPixels('needs-you', 32);
    const o = (16 * 32 + 4) * 4; // left part of the disc, off the glyph
    expect([...px.subarray(o, o + 3)]).toEqual(STATE_COLOURS['needs-you']);
    const ico = Buffer.from(trayIconBase64('idle', 'win32'), 'base64');
    expect(ico.readUInt16LE(2)).toBe(1);
    expect(ico.subarray(22, 26).toString('latin1')).toBe('\x89PNG');
    expect(encodeIco(png, 32).length).toBe(png.length + 22);
  });
});

describe('tray helper guard', () => {
  it('says why there is no tray without a display', () => {
    expect(trayUnavailableReason({}, 'linux')).toBe('no display (DISPLAY and WAYLAND_DISPLAY are not set)');
    expect(trayUnavailableReason({ DISPLAY: ':0' }, 'linux')).toBeUndefined();
    expect(trayUnavailableReason({}, 'aix')).toMatch(/no tray helper for aix/);
  });

  it('returns quickly with a reason when the helper cannot open the display (systray2 ready() would hang)', async () => {
    const saved = process.env['DISPLAY'];
    process.env['DISPLAY'] = ':93'; // no X server there
    try {
      const t0 = Date.now();
      const r = await startTrayHost({ menu: { icon: trayIconBase64('idle'), title: '', tooltip: '', items: [] }, onClick: () => undefined, onLost: () => undefined, dataDir: '/tmp', readyTimeoutMs: 8000 });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/the tray helper exited \(code 1\)/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      if (saved === undefined) delete process.env['DISPLAY'];
      else process.env['DISPLAY'] = saved;
    }
  });
});
