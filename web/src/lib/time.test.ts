import { describe, expect, it } from 'vitest';

import { seriesPoints, showTime } from './time';

describe('times', () => {
  it('shows UTC times from ISO strings and nanoseconds', () => {
    expect(showTime('2026-11-25T23:29:00Z')).toBe('2026-11-25 23:29:00');
    expect(showTime('2026-11-25T23:30:06.178238577Z')).toBe('2026-11-25 23:30:06');
    expect(showTime(1_795_649_408_709 * 1e6)).toBe('2026-11-25 23:30:08');
    expect(showTime(null)).toBe('—');
    expect(showTime('not a time')).toBe('not a time');
  });

  it('makes chart points ascending and unique per second', () => {
    const points = seriesPoints(
      ['2026-01-01T00:02:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:02:00.5Z', 'junk'],
      [3, 1, 4, 9],
    );
    expect(points).toEqual([
      { time: 1767225600, value: 1 },
      { time: 1767225720, value: 4 },
    ]);
  });
});
