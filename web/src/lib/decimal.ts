// Exact decimal strings, as the API sends them: compared, checked against a tick or lot size
// and multiplied as scaled BigInts, never through floating point.

const UNSIGNED = /^\d+(\.\d+)?$/;
const SIGNED = /^-?\d+(\.\d+)?$/;

/** A plain unsigned decimal ("0.01", "30000"), the shape the API accepts for prices and sizes. */
export function isDecimal(text: string): boolean {
  return UNSIGNED.test(text);
}

interface Scaled {
  units: bigint;
  scale: number;
}

function parse(text: string): Scaled {
  if (!SIGNED.test(text)) throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const units = BigInt(whole + fraction);
  return { units: negative ? -units : units, scale: fraction.length };
}

function aligned(a: Scaled, b: Scaled): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale)];
}

/** -1, 0 or 1 as ``a`` is below, equal to or above ``b``. */
export function compare(a: string, b: string): -1 | 0 | 1 {
  const [x, y] = aligned(parse(a), parse(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sign of a decimal string (for colouring PnL), 0 for anything that is not one. */
export function sign(text: string | null | undefined): -1 | 0 | 1 {
  if (text == null || !SIGNED.test(text)) return 0;
  const { units } = parse(text);
  return units < 0n ? -1 : units > 0n ? 1 : 0;
}

/** Whether ``value`` is a whole multiple of ``step`` (a tick or lot size). */
export function isMultipleOf(value: string, step: string): boolean {
  const [v, s] = aligned(parse(value), parse(step));
  if (s === 0n) return true;
  return v % s === 0n;
}

function render(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return (negative ? '-' : '') + digits;
}

/** The exact product of two decimal strings ("0.5" x "30000.10" = "15000.050"). */
export function multiply(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  return render(x.units * y.units, x.scale + y.scale);
}

const EXPONENT = /^(-?)(\d+)(?:\.(\d+))?[eE]([-+]?\d+)$/;

/** A decimal in exponent notation ("0E-8", Python's str of a tiny Decimal) written out in plain
 * digits with the same exactness ("0.00000000"); any other text is returned as it is. */
export function plainDecimal(text: string): string {
  const match = EXPONENT.exec(text);
  if (!match) return text;
  const [, minus = '', whole = '', fraction = '', exponent = '0'] = match;
  const shift = Number.parseInt(exponent, 10);
  const digits = whole + fraction;
  const point = whole.length + shift; // where the decimal point goes in ``digits``
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, '');
  return minus + out;
}

/** A decimal string to show: as given (exponent notation written out), or a dash for none. */
export function show(text: string | null | undefined): string {
  return text == null || text === '' ? '—' : plainDecimal(text);
}
