import { describe, expect, it } from 'vitest';

import { compare, isDecimal, isMultipleOf, multiply, plainDecimal, show, sign } from './decimal';

describe('decimal strings', () => {
  it('accepts the shapes the API takes', () => {
    expect(isDecimal('0.01')).toBe(true);
    expect(isDecimal('30000')).toBe(true);
    for (const bad of ['', '.5', '1.', '-1', '1e3', '1,5', ' 1', '0x10']) {
      expect(isDecimal(bad), bad).toBe(false);
    }
  });

  it('compares exactly, whatever the scales', () => {
    expect(compare('0.1', '0.10')).toBe(0);
    expect(compare('0.30000000000000001', '0.3')).toBe(1); // a float would say equal
    expect(compare('-2', '1.5')).toBe(-1);
    expect(compare('100000000000000000001', '100000000000000000000')).toBe(1);
  });

  it('checks multiples of a tick or lot', () => {
    expect(isMultipleOf('30000.01', '0.01')).toBe(true);
    expect(isMultipleOf('30000.015', '0.01')).toBe(false);
    expect(isMultipleOf('0.3', '0.1')).toBe(true); // 0.3 % 0.1 is not 0 in floating point
    expect(isMultipleOf('0.00002', '0.00001')).toBe(true);
    expect(isMultipleOf('1', '0.00001')).toBe(true);
    expect(isMultipleOf('0.000015', '0.00001')).toBe(false);
  });

  it('multiplies exactly', () => {
    expect(multiply('0.5', '30000.10')).toBe('15000.050');
    expect(multiply('0.1', '0.2')).toBe('0.02');
    expect(multiply('-3', '0.001')).toBe('-0.003');
    expect(multiply('0.00001', '29980.00')).toBe('0.2998000');
  });

  it('tells the sign of a PnL', () => {
    expect(sign('-0.29975000')).toBe(-1);
    expect(sign('0.00')).toBe(0);
    expect(sign('12.5')).toBe(1);
    expect(sign(null)).toBe(0);
    expect(sign('n/a')).toBe(0);
  });

  it('shows values as given', () => {
    expect(show('29980.00')).toBe('29980.00');
    expect(show('0E-8')).toBe('0.00000000');
    expect(show(null)).toBe('—');
  });

  it('writes exponent notation out exactly', () => {
    expect(plainDecimal('0E-8')).toBe('0.00000000');
    expect(plainDecimal('1.5E-7')).toBe('0.00000015');
    expect(plainDecimal('-2.50E+3')).toBe('-2500');
    expect(plainDecimal('1.2345E2')).toBe('123.45');
    expect(plainDecimal('7E0')).toBe('7');
    expect(plainDecimal('29980.00')).toBe('29980.00');
    expect(plainDecimal('n/a')).toBe('n/a');
  });
});
