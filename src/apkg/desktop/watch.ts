/**
 * A watchable "does Anki Desktop have the collection open?" state for the daemon: chokidar on
 * the profile folder (the -wal file appears when Anki loads the profile and goes when it closes
 * it) triggers a probe at once, and a slow periodic probe catches what file events miss (network
 * folders, a lock taken without a new file). Disposable: close() stops both.
 */
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import { probeCollection, type ProbeResult } from './probe.js';

export interface CollectionWatchOptions {
  /** Called with the first state and then on every change of `state` or `walPresent`. */
  onState(result: ProbeResult): void;
  /** Periodic probe; default 5 s. */
  intervalMs?: number;
  /** Delay between a file event and its probe, so a burst of events gives one probe; default 150 ms. */
  debounceMs?: number;
  /** Test hook: use polling (e.g. on file systems without inotify). */
  usePolling?: boolean;
}

export interface CollectionWatch extends AsyncDisposable {
  /** The last probe result. */
  current(): ProbeResult;
  /** Probes now and reports a change if there is one. */
  refresh(): ProbeResult;
  /** Resolves once chokidar has scanned the folder and is watching. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchCollection(collectionPath: string, opts: CollectionWatchOptions): CollectionWatch {
  const folder = path.dirname(collectionPath);
  const base = path.basename(collectionPath);
  let last = probeCollection(collectionPath);
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;

  const refresh = (): ProbeResult => {
    const now = probeCollection(collectionPath);
    const changed = now.state !== last.state || now.walPresent !== last.walPresent;
    last = now;
    if (changed && !closed) opts.onState(now);
    return now;
  };
  const schedule = (): void => {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      refresh();
    }, opts.debounceMs ?? 150);
  };

  const watcher: FSWatcher = watch(folder, {
    depth: 0,
    ignoreInitial: true,
    persistent: true,
    usePolling: opts.usePolling ?? false,
    interval: 200,
    // Only the collection and its companions (-wal, -journal, -shm) matter.
    ignored: (p: string) => p !== folder && !path.basename(p).startsWith(base),
  });
  watcher.on('all', schedule);
  watcher.on('error', () => schedule());
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const timer = setInterval(refresh, opts.intervalMs ?? 5000);

  opts.onState(last);

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    if (debounce) clearTimeout(debounce);
    await watcher.close();
  };
  return { current: () => last, refresh, ready, close, [Symbol.asyncDispose]: close };
}
