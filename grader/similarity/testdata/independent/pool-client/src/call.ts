import { setTimeout as pause } from "node:timers/promises";
import type { Gate } from "./gate.ts";

const PER_TRY_MS = 9_000;
const BUDGET_MS = 28_000;
const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 4_000;
const TRANSIENT = [408, 409, 429, 500, 502, 503, 504];

export class GaveUp extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export type Reply = { status: number; json: unknown; link: string | null };

export type Call = { url: string; method: "GET" | "POST"; token: string; body?: string; key?: string; what: string };

function waitFromHeader(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = new Date(value).getTime();
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function jittered(round: number): number {
  const ceiling = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (round - 1));
  return Math.floor(Math.random() * ceiling);
}

function report(what: string, round: number, outcome: string): void {
  console.error(JSON.stringify({ at: new Date().toISOString(), what, attempt: round, outcome }));
}

// send runs one logical request through the gate, retrying what the brief calls transient
// until the budget of the first attempt runs out.
export async function send(gate: Gate, call: Call): Promise<Reply> {
  const began = Date.now();
  for (let round = 1; ; round++) {
    let delay = jittered(round);
    try {
      const res = await gate.hold(() =>
        fetch(call.url, {
          method: call.method,
          headers: {
            authorization: `Bearer ${call.token}`,
            accept: "application/json",
            ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
            ...(call.key !== undefined ? { "idempotency-key": call.key } : {}),
          },
          ...(call.body !== undefined ? { body: call.body } : {}),
          signal: AbortSignal.timeout(PER_TRY_MS),
        }).then(async (r) => ({ r, text: await r.text() })),
      );
      if (res.r.ok) {
        return { status: res.r.status, json: res.text === "" ? null : JSON.parse(res.text), link: res.r.headers.get("link") };
      }
      report(call.what, round, `HTTP ${res.r.status}`);
      if (!TRANSIENT.includes(res.r.status)) {
        throw new GaveUp(`${call.what}: HTTP ${res.r.status} is not retryable`, res.r.status);
      }
      const asked = waitFromHeader(res.r.headers.get("retry-after"), Date.now());
      if (asked !== undefined) delay = Math.max(delay, asked);
    } catch (err) {
      if (err instanceof GaveUp) throw err;
      report(call.what, round, err instanceof Error ? `${err.name}: ${err.message}` : "unknown error");
    }
    if (Date.now() + delay - began > BUDGET_MS) {
      throw new GaveUp(`${call.what}: still failing after ${round} attempts`);
    }
    await pause(delay);
  }
}
