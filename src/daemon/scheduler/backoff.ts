/** Exponential backoff after consecutive failures: initial, 2×, 4× … capped at max (seconds). */
export function backoffDelayMs(failures: number, initialSeconds: number, maxSeconds: number): number {
  if (failures <= 0) return 0;
  const seconds = Math.min(maxSeconds, initialSeconds * 2 ** Math.min(failures - 1, 30));
  return seconds * 1000;
}
