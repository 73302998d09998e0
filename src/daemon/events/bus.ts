/**
 * Daemon events with monotonic ids, kept in a bounded ring so an SSE client that reconnects with
 * Last-Event-ID gets what it missed. Ids start at the boot time in microseconds, so an id from a
 * previous run of the daemon is always smaller than every id of this run and is detected as a gap.
 */
export interface DaemonEvent {
  id: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export type EventListener = (e: DaemonEvent) => void;

export class EventBus {
  private nextId: number;
  readonly firstId: number;
  private readonly ring: DaemonEvent[] = [];
  private readonly listeners = new Set<EventListener>();

  constructor(
    private readonly capacity = 1000,
    now = Date.now(),
  ) {
    this.firstId = now * 1000;
    this.nextId = this.firstId;
  }

  emit(type: string, data: Record<string, unknown> = {}): DaemonEvent {
    const e: DaemonEvent = { id: this.nextId++, type, at: new Date().toISOString(), data };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one bad listener must not stop the others */
      }
    }
    return e;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  /**
   * Events after `id`, or `undefined` when they can no longer be given completely (the id is from
   * another run, or older than the ring) — the client must then re-read the state.
   */
  since(id: number): DaemonEvent[] | undefined {
    if (id > this.lastId) return undefined;
    if (id === this.lastId) return [];
    const oldest = this.ring[0];
    if (oldest === undefined || id < oldest.id - 1) return undefined;
    return this.ring.filter((e) => e.id > id);
  }
}
