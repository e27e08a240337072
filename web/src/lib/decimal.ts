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

/** A decimal string to show: as given, or a dash for none. */
export function show(text: string | null | undefined): string {
  return text == null || text === '' ? '—' : text;
}
