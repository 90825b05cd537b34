// Time parameters of the HTTP APIs (GET /archive, the lookup API): epoch millis or ISO-8601. Pure.
import { MAX_EPOCH_MS } from './contracts';

/** Epoch millis, or ISO-8601 (date, optional time, optional zone); anything else is malformed. */
const EPOCH_MS = /^[0-9]{1,16}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** null for a malformed time; V8's Date.parse alone is lenient (it reads "5" as May 2001). */
export function parseTime(raw: string): number | null {
  let ms: number;
  if (EPOCH_MS.test(raw)) ms = Number(raw);
  else {
    const iso = ISO_8601.exec(raw);
    if (!iso) return null;
    // Date.parse rolls 2026-02-30 over to March 2 instead of refusing it.
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return null;
    ms = Date.parse(raw);
  }
  return Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : null;
}
