/** setTimeout caps at 2^31-1 ms (24.8 days); longer waits re-arm. Never sooner than MIN_DELAY_MS. */
const MAX_DELAY_MS = 2_147_483_647;
export const MIN_DELAY_MS = 1000;

/**
 * One timer that fires at an absolute time. The 1 s floor is why no daemon timer fires more than
 * once a second, however the schedule is set.
 */
export function armTimer(at: number, now: () => number, fire: () => void): { cancel(): void } {
  let handle: NodeJS.Timeout | undefined;
  const arm = () => {
    const wait = at - now();
    if (wait > MAX_DELAY_MS) {
      handle = setTimeout(arm, MAX_DELAY_MS);
    } else {
      handle = setTimeout(fire, Math.max(MIN_DELAY_MS, wait));
    }
    // A pending schedule alone must not keep a test process (or a stopping daemon) alive.
    handle.unref();
  };
  arm();
  return { cancel: () => clearTimeout(handle) };
}
