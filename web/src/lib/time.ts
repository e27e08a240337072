// Times as the API gives them (ISO-8601 UTC strings, or integer nanoseconds), shown in UTC.

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "2026-11-25 23:29:00" (UTC) from an ISO string, a Date, or epoch nanoseconds. */
export function showTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = typeof value === 'number' ? new Date(Math.floor(value / 1e6)) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

/** Seconds since the epoch (what the charts plot) from an ISO string. */
export function epochSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

/** Points for a time-series chart: ascending, one per second (the last one wins). */
export function seriesPoints(times: string[], values: number[]): { time: number; value: number }[] {
  const bySecond = new Map<number, number>();
  times.forEach((iso, k) => {
    const value = values[k];
    const time = epochSeconds(iso);
    if (value !== undefined && Number.isFinite(time) && Number.isFinite(value)) bySecond.set(time, value);
  });
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}
