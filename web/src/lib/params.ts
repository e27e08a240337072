// Forms generated from a strategy's declared parameters (``GET /strategies/registry``: each
// parameter's type, default, range, step or choices), and the values they produce: integers
// and floats as JSON numbers, decimals as strings (exact), choices as given.
import { compare } from './decimal';

export interface ParamSchema {
  type: string;
  default?: unknown;
  description?: string;
  min?: unknown;
  max?: unknown;
  step?: unknown;
  choices?: unknown[];
}

export type ParamValues = Record<string, string>;

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

export function asSchema(raw: Record<string, unknown>): ParamSchema {
  const choices = Array.isArray(raw.choices) ? (raw.choices as unknown[]) : undefined;
  return {
    type: typeof raw.type === 'string' ? raw.type : 'text',
    default: raw.default,
    description: typeof raw.description === 'string' ? raw.description : '',
    min: raw.min,
    max: raw.max,
    step: raw.step,
    ...(choices ? { choices } : {}),
  };
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The form's starting values: each parameter's default (or its current value). */
export function initialValues(schema: Record<string, ParamSchema>, current?: Record<string, unknown>): ParamValues {
  const values: ParamValues = {};
  for (const [name, param] of Object.entries(schema)) {
    values[name] = text(current && name in current ? current[name] : param.default);
  }
  return values;
}

/** The range a parameter accepts, in words ("2 … 1000, step 1"). */
export function describeRange(param: ParamSchema): string {
  const parts: string[] = [];
  const min = text(param.min);
  const max = text(param.max);
  if (min || max) parts.push(`${min || '−∞'} … ${max || '∞'}`);
  if (text(param.step)) parts.push(`step ${text(param.step)}`);
  return parts.join(', ');
}

function outside(value: string, param: ParamSchema): string | undefined {
  const min = text(param.min);
  const max = text(param.max);
  if (min && DECIMAL.test(min) && DECIMAL.test(value) && compare(value, min) < 0) return `at least ${min}`;
  if (max && DECIMAL.test(max) && DECIMAL.test(value) && compare(value, max) > 0) return `at most ${max}`;
  return undefined;
}

/** The parameters to send, or the errors per field. */
export function parseParams(
  schema: Record<string, ParamSchema>,
  values: ParamValues,
): { params: Record<string, unknown>; errors: Record<string, string> } {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, param] of Object.entries(schema)) {
    const value = (values[name] ?? '').trim();
    if (value === '') {
      errors[name] = 'required';
      continue;
    }
    switch (param.type) {
      case 'int':
        if (!INTEGER.test(value)) errors[name] = 'a whole number';
        else params[name] = Number.parseInt(value, 10);
        break;
      case 'float':
        if (!NUMBER.test(value)) errors[name] = 'a number';
        else params[name] = Number(value);
        break;
      case 'decimal':
        if (!DECIMAL.test(value)) errors[name] = 'a decimal number (e.g. 0.5)';
        else params[name] = value; // exact: sent as a string
        break;
      case 'choice':
        if (param.choices && !param.choices.map(text).includes(value)) errors[name] = 'one of the choices';
        else params[name] = value;
        break;
      case 'bool':
        params[name] = value === 'true';
        break;
      default:
        params[name] = value;
    }
    if (!(name in errors)) {
      const range = outside(value, param);
      if (range) errors[name] = range;
    }
  }
  return { params, errors };
}
