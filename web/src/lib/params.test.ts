import { describe, expect, it } from 'vitest';

import { asSchema, describeRange, initialValues, parseParams } from './params';

// sma_cross and a choice, as GET /strategies/registry describes them.
const SCHEMA = {
  fast: asSchema({ type: 'int', default: 10, description: 'fast SMA period', min: 2, max: 1000, step: 1 }),
  nbdev: asSchema({ type: 'float', default: 2.0, min: 0.1, max: 10.0, step: null }),
  size: asSchema({ type: 'decimal', default: '1', min: '0', max: null, step: null }),
  mode: asSchema({ type: 'choice', default: 'long', choices: ['long', 'short'] }),
};

describe('strategy parameter forms', () => {
  it('start from the defaults, or the current values', () => {
    expect(initialValues(SCHEMA)).toEqual({ fast: '10', nbdev: '2', size: '1', mode: 'long' });
    expect(initialValues(SCHEMA, { fast: 5, size: '0.25' })).toMatchObject({ fast: '5', size: '0.25' });
  });

  it('describe the range', () => {
    expect(describeRange(SCHEMA.fast)).toBe('2 … 1000, step 1');
    expect(describeRange(SCHEMA.size)).toBe('0 … ∞');
    expect(describeRange(SCHEMA.mode)).toBe('');
  });

  it('send numbers as numbers and decimals as exact strings', () => {
    const parsed = parseParams(SCHEMA, { fast: '12', nbdev: '1.5', size: '0.10000000000000001', mode: 'short' });
    expect(parsed.errors).toEqual({});
    expect(parsed.params).toEqual({ fast: 12, nbdev: 1.5, size: '0.10000000000000001', mode: 'short' });
  });

  it('refuse what the strategy would refuse', () => {
    const parsed = parseParams(SCHEMA, { fast: '1.5', nbdev: 'x', size: '-1', mode: 'sideways' });
    expect(parsed.errors).toEqual({
      fast: 'a whole number',
      nbdev: 'a number',
      size: 'at least 0',
      mode: 'one of the choices',
    });
    expect(parseParams(SCHEMA, { fast: '1', nbdev: '20', size: '', mode: 'long' }).errors).toEqual({
      fast: 'at least 2',
      nbdev: 'at most 10',
      size: 'required',
    });
  });
});
