// ITSM ticket sync. Started from an assistant's draft; the retry, logging and concurrency are
// rewritten (see RATIONALE.md).

import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Incident, Ticket, toTicket } from "./mapping.ts";

export type SyncResult = {
  created: number;
  failed: { externalId: string; reason: string }[];
};

interface Settings {
  sourceUrl: string;
  sourceToken: string;
  targetUrl: string;
  targetToken: string;
}

const PAGE = 10;
const ATTEMPTS = 8;
const BASE_MS = 200;
const CAP_MS = 5_000;
const TIMEOUT_MS = 10_000;
const WORKERS = 4;
const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);

class PermanentError extends Error {}

function settings(): Settings {
  const env = process.env;
  const missing = ["ITSM_SOURCE_URL", "ITSM_SOURCE_TOKEN", "ITSM_TARGET_URL", "ITSM_TARGET_TOKEN"].filter((n) => !env[n]);
  if (missing.length > 0) {
    throw new Error(`missing environment variables: ${missing.join(", ")}`);
  }
  return {
    sourceUrl: env.ITSM_SOURCE_URL!,
    sourceToken: env.ITSM_SOURCE_TOKEN!,
    targetUrl: env.ITSM_TARGET_URL!,
    targetToken: env.ITSM_TARGET_TOKEN!,
  };
}

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (!Number.isNaN(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const date = Date.parse(header);
  if (!Number.isNaN(date)) {
    return Math.max(0, date - Date.now());
  }
  return null;
}

function backoff(attempt: number): number {
  return Math.random() * Math.min(CAP_MS, BASE_MS * 2 ** attempt);
}

function log(event: string, fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ event, ...fields }) + "\n");
}

async function request(url: string, init: RequestInit, label: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      log("request_error", { label, attempt, error: err instanceof Error ? err.message : String(err) });
      if (attempt >= ATTEMPTS) throw err;
      await sleep(backoff(attempt));
      continue;
    }
    if (res.ok) return res;
    const body = await res.text();
    log("request_failed", { label, attempt, status: res.status });
    if (!RETRYABLE.has(res.status)) {
      throw new PermanentError(`HTTP ${res.status}: ${body.slice(0, 200)}`);
    }
    if (attempt >= ATTEMPTS) {
      throw new Error(`HTTP ${res.status} after ${attempt} attempts`);
    }
    await sleep(Math.max(backoff(attempt), retryAfterMs(res.headers.get("Retry-After")) ?? 0));
  }
}

async function readIncidents(cfg: Settings): Promise<Incident[]> {
  const all: Incident[] = [];
  let offset = 0;

  while (true) {
    const url = `${cfg.sourceUrl}/api/now/table/incident?sysparm_limit=${PAGE}&sysparm_offset=${offset}`;
    const res = await request(
      url,
      {
        method: "GET",
        headers: {
          Authorization: `Bearer ${cfg.sourceToken}`,
          Accept: "application/json",
        },
      },
      `page ${offset}`,
    );

    const page = (await res.json()) as { result: Incident[] };
    const rows = page.result ?? [];
    all.push(...rows);

    const count = Number(res.headers.get("X-Total-Count"));
    offset += PAGE;
    if (rows.length < PAGE || (!Number.isNaN(count) && offset >= count)) {
      break;
    }
  }

  // A record can appear on two pages: keep the first by number.
  const byNumber = new Map<string, Incident>();
  for (const row of all) {
    const key = row.number ?? "";
    if (!byNumber.has(key)) {
      byNumber.set(key, row);
    }
  }
  return Array.from(byNumber.values());
}

async function create(ticket: Ticket, cfg: Settings): Promise<void> {
  const body = JSON.stringify(ticket);
  await request(
    `${cfg.targetUrl}/v1/tickets`,
    {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${cfg.targetToken}`,
        "Idempotency-Key": createHash("sha256").update(body).digest("hex"),
      },
      body,
    },
    `ticket ${ticket.externalId}`,
  );
}

export async function syncTickets(): Promise<SyncResult> {
  const cfg = settings();
  const result: SyncResult = { created: 0, failed: [] };
  const queue = (await readIncidents(cfg)).map(toTicket);

  const worker = async (): Promise<void> => {
    for (let ticket = queue.shift(); ticket; ticket = queue.shift()) {
      try {
        await create(ticket, cfg);
        result.created++;
      } catch (error) {
        result.failed.push({
          externalId: ticket.externalId,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));

  log("done", { created: result.created, failed: result.failed.length });
  return result;
}
