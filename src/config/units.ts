/**
 * Unit parsers for the file format. Each returns `undefined` for text it does
 * not accept; the JSON Schemas carry the same grammar as patterns, so a value
 * that passed validation always parses.
 */

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/**
 * Parses a duration like Go's `time.ParseDuration` and compose: a sequence of
 * decimal numbers, each with a unit `ms`, `s`, `m` or `h` (`500ms`, `30s`,
 * `1h30m`, `1.5s`). A bare number is not a duration (which unit would it be?).
 *
 * @returns milliseconds, rounded to the nearest integer; `undefined` when the
 *   text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART)) {
    ms += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? 0);
  }
  return Math.round(ms);
}

/**
 * Formats milliseconds as the shortest duration {@link parseDuration} reads
 * back to the same value (`90000` → `1m30s`, `1500` → `1s500ms`, `0` → `0s`).
 */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

const CPU = /^(?:([0-9]+)m|([0-9]+(?:\.[0-9]+)?))$/;

/**
 * The largest CPU (nano-CPUs) or memory (bytes) limit accepted:
 * `Number.MAX_SAFE_INTEGER`, the largest integer a JavaScript number holds
 * exactly (Docker's fields are int64; beyond this the value would be silently
 * rounded). In bytes that is 8Pi minus 1.
 */
export const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Why a CPU or memory quantity is not a usable limit:
 *
 * - `syntax`: not a quantity at all;
 * - `not-positive`: zero or negative;
 * - `too-small`: positive, but rounds to 0 nano-CPUs or 0 bytes (Docker reads
 *   0 as "no limit");
 * - `too-large`: more than {@link MAX_LIMIT} nano-CPUs or bytes (or infinite);
 * - `fraction`: a memory number (no suffix, so bytes) that is not whole.
 */
export type QuantityProblem = 'syntax' | 'not-positive' | 'too-small' | 'too-large' | 'fraction';

/** A quantity converted to Docker's unit, or why it cannot be. */
export type QuantityResult = { ok: true; value: number } | { ok: false; problem: QuantityProblem };

function fail(problem: QuantityProblem): QuantityResult {
  return { ok: false, problem };
}

/** Rounds an amount in Docker's unit and checks it is from 1 to {@link MAX_LIMIT}. */
function limit(amount: number): QuantityResult {
  if (Number.isNaN(amount)) return fail('syntax');
  if (amount <= 0) return fail('not-positive');
  const rounded = Math.round(amount);
  if (rounded === 0) return fail('too-small');
  if (!Number.isSafeInteger(rounded)) return fail('too-large');
  return { ok: true, value: rounded };
}

/**
 * Reads a CPU quantity like Kubernetes: `500m` (milli-CPUs), `1`, `1.5`, or a
 * number, as nano-CPUs (Docker's `NanoCpus`), rounded to an integer.
 *
 * @returns the nano-CPUs (1 to {@link MAX_LIMIT}), or the
 *   {@link QuantityProblem}: a value that rounds to 0 nano-CPUs is
 *   `too-small`, never a limit of 0 (which Docker reads as unlimited).
 */
export function readCpu(value: string | number): QuantityResult {
  let cpus: number;
  if (typeof value === 'number') {
    cpus = value;
  } else {
    const m = CPU.exec(value);
    if (!m) return fail('syntax');
    cpus = m[1] !== undefined ? Number(m[1]) / 1000 : Number(m[2]);
  }
  return limit(cpus * 1e9);
}

/**
 * Parses a CPU quantity like Kubernetes: `500m` (milli-CPUs), `1`, `1.5`, or a
 * number.
 *
 * @returns nano-CPUs (Docker's `NanoCpus`: `"1"` → 1e9, `"500m"` → 5e8),
 *   rounded to an integer; `undefined` when the text is not a CPU quantity,
 *   is not positive, rounds to 0 nano-CPUs or is more than
 *   {@link MAX_LIMIT} nano-CPUs (see {@link readCpu} for which).
 */
export function parseCpu(value: string | number): number | undefined {
  const r = readCpu(value);
  return r.ok ? r.value : undefined;
}

const MEMORY_SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const MEMORY = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/**
 * Reads a memory quantity like Kubernetes as bytes: plain bytes, or a number
 * with a decimal suffix (`k`, `M`, `G`, `T`, `P`, `E`: powers of 1000) or a
 * binary one (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`: powers of 1024). A string
 * is rounded to whole bytes; a YAML number is bytes and must be whole.
 *
 * @returns the bytes (1 to {@link MAX_LIMIT}), or the {@link QuantityProblem}
 *   (`fraction` for a number that is not whole).
 */
export function readMemory(value: string | number): QuantityResult {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Number.isInteger(value)) return fail('fraction');
    return limit(value);
  }
  const m = MEMORY.exec(value);
  if (!m) return fail('syntax');
  return limit(Number(m[1]) * (MEMORY_SUFFIX[m[2] ?? ''] ?? 1));
}

/**
 * Parses a memory quantity like Kubernetes: plain bytes, or a number with a
 * decimal suffix (`k`, `M`, `G`, `T`, `P`, `E`: powers of 1000) or a binary
 * one (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`: powers of 1024). `512Mi` →
 * 536870912, `1G` → 1e9, `1.5Gi` → 1610612736.
 *
 * @returns bytes, rounded to an integer; `undefined` when the value is not a
 *   memory quantity, is a number that is not whole, rounds to 0 bytes, or is
 *   more than {@link MAX_LIMIT} bytes (see {@link readMemory} for which).
 */
export function parseMemory(value: string | number): number | undefined {
  const r = readMemory(value);
  return r.ok ? r.value : undefined;
}

/** A port mapping parsed from compose's short syntax. */
export interface ParsedPort {
  container: number;
  /** 0 when the short form has no host part: compose publishes it on any free host port. */
  host: number;
  protocol: 'tcp' | 'udp';
}

const PORT = /^([0-9]+)(?::([0-9]+))?(?:\/(tcp|udp))?$/;

/**
 * Parses compose's short port syntax: `"8080"` (container port 8080,
 * published on any free host port, as compose does), `"8080:80"` (host 8080,
 * container 80), `"0:80/udp"`. Host 0 means any free port.
 *
 * @returns the mapping, or `undefined` when the text does not have that shape
 *   or a port is out of range (container 1-65535, host 0-65535).
 */
export function parsePortString(text: string): ParsedPort | undefined {
  const m = PORT.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const second = m[2] === undefined ? undefined : Number(m[2]);
  const container = second ?? first;
  const host = second === undefined ? 0 : first;
  if (container < 1 || container > 65535 || host < 0 || host > 65535) return undefined;
  return { container, host, protocol: m[3] === 'udp' ? 'udp' : 'tcp' };
}
