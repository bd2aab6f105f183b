/*
 * Incident → ticket sync, as a handful of small classes:
 *   Settings      reads the four ITSM_* variables
 *   Limiter       four request slots shared by the source and the target
 *   Policy        what to retry, how long to wait, when to stop
 *   Http          one request with its retries, through the limiter
 *   IncidentFeed  an async generator over the source's offset pages
 *   TicketWriter  maps and posts, four workers draining a queue
 */
import { randomUUID } from "node:crypto";

export type SyncResult = {
  created: number;
  failed: { externalId: string; reason: string }[];
};

type Row = { [field: string]: unknown };
type Body = {
  externalId: string;
  title: string;
  description: string;
  priority: "critical" | "high" | "medium" | "low";
  status: "new" | "in_progress" | "on_hold" | "resolved" | "closed" | "cancelled";
  openedAt: string | null;
  assignee: string | null;
};

class Settings {
  readonly sourceUrl: string;
  readonly sourceToken: string;
  readonly targetUrl: string;
  readonly targetToken: string;

  constructor(env: NodeJS.ProcessEnv) {
    const take = (name: string): string => {
      const value = env[name];
      if (!value) throw new Error(`configuration: ${name} is empty`);
      return value;
    };
    this.sourceUrl = take("ITSM_SOURCE_URL").replace(/\/+$/, "");
    this.sourceToken = take("ITSM_SOURCE_TOKEN");
    this.targetUrl = take("ITSM_TARGET_URL").replace(/\/+$/, "");
    this.targetToken = take("ITSM_TARGET_TOKEN");
  }
}

class Limiter {
  private active = 0;
  private queue: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.size) {
      await new Promise<void>((ok) => this.queue.push(ok));
    }
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

class Stop extends Error {}

class Policy {
  static readonly retryable = new Set([408, 409, 429, 500, 502, 503, 504]);
  static readonly attemptMs = 10_000;
  static readonly totalMs = 30_000;
  static readonly maxAttempts = 12;

  static delay(attempt: number, retryAfter: string | null): number {
    const exp = Math.min(5_000, 100 * Math.pow(2, attempt));
    const random = exp / 2 + Math.random() * (exp / 2);
    const hinted = Policy.hint(retryAfter);
    return hinted === null ? random : Math.max(random, hinted);
  }

  static hint(header: string | null): number | null {
    if (header === null || header === "") return null;
    const asNumber = Number.parseInt(header, 10);
    if (String(asNumber) === header.trim()) return asNumber * 1_000;
    const when = Date.parse(header);
    return Number.isNaN(when) ? null : Math.max(when - Date.now(), 0);
  }
}

class Http {
  constructor(private readonly limiter: Limiter) {}

  async request(label: string, url: string, init: RequestInit): Promise<Response> {
    const deadline = Date.now() + Policy.totalMs;
    let attempt = 0;
    for (;;) {
      attempt++;
      let retryAfter: string | null = null;
      let why: string;
      try {
        const response = await this.limiter.run(async () => {
          const r = await fetch(url, { ...init, signal: AbortSignal.timeout(Policy.attemptMs) });
          await r.clone().arrayBuffer();
          return r;
        });
        if (response.status < 300) return response;
        why = `status ${response.status}`;
        if (!Policy.retryable.has(response.status)) {
          console.warn(`[${label}] attempt ${attempt}: ${why}, not retried`);
          throw new Stop(`${why} from ${new URL(url).pathname}`);
        }
        retryAfter = response.headers.get("Retry-After");
      } catch (e) {
        if (e instanceof Stop) throw e;
        why = (e as Error)?.name === "TimeoutError" ? "timed out" : `network error ${(e as Error)?.message ?? e}`;
      }
      console.warn(`[${label}] attempt ${attempt}: ${why}`);
      const wait = Policy.delay(attempt, retryAfter);
      if (attempt >= Policy.maxAttempts || Date.now() + wait > deadline) {
        throw new Stop(`${why} after ${attempt} attempts`);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

class IncidentFeed {
  constructor(
    private readonly http: Http,
    private readonly settings: Settings,
  ) {}

  async *rows(): AsyncGenerator<Row> {
    const known = new Set<string>();
    for (let offset = 0; ; offset += 10) {
      const page = await this.http
        .request(`offset ${offset}`, `${this.settings.sourceUrl}/api/now/table/incident?sysparm_limit=10&sysparm_offset=${offset}`, {
          headers: { Authorization: "Bearer " + this.settings.sourceToken },
        })
        .catch((e: unknown) => {
          throw new Error(`cannot read the source at offset ${offset}: ${(e as Error).message}`);
        });
      const payload = (await page.json()) as { result?: Row[] };
      const batch = payload.result ?? [];
      for (const row of batch) {
        const id = String(row["number"] ?? "");
        if (known.has(id)) continue;
        known.add(id);
        yield row;
      }
      const total = Number(page.headers.get("X-Total-Count") ?? NaN);
      if (batch.length === 0 || (Number.isFinite(total) && offset + 10 >= total)) return;
    }
  }
}

class TicketWriter {
  static toBody(row: Row): Body {
    const s = (k: string): string => (typeof row[k] === "string" ? (row[k] as string) : "");
    const number = s("number");
    let title = s("short_description").replace(/\s+/g, " ").trim() || number;
    const chars = Array.from(title);
    if (chars.length > 80) title = chars.slice(0, 77).join("").trimEnd() + "...";
    const priorities: Record<string, Body["priority"]> = { "1": "critical", "2": "high", "3": "medium", "4": "low", "5": "low" };
    const states: Record<string, Body["status"]> = { "1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "cancelled" };
    const when = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(s("opened_at"));
    const ref = row["assigned_to"];
    const name = ref && typeof ref === "object" && typeof (ref as Row)["display_value"] === "string" ? ((ref as Row)["display_value"] as string).trim() : "";
    return {
      externalId: number,
      title,
      description: s("description").trim(),
      priority: priorities[s("priority")] ?? "medium",
      status: states[s("state")] ?? "new",
      openedAt: when ? `${when[1]}T${when[2]}Z` : null,
      assignee: name.length > 0 ? name : null,
    };
  }

  readonly result: SyncResult = { created: 0, failed: [] };

  constructor(
    private readonly http: Http,
    private readonly settings: Settings,
  ) {}

  async post(body: Body, key: string): Promise<void> {
    try {
      await this.http.request(body.externalId, `${this.settings.targetUrl}/v1/tickets`, {
        method: "POST",
        headers: { Authorization: "Bearer " + this.settings.targetToken, "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
      this.result.created++;
    } catch (e) {
      this.result.failed.push({ externalId: body.externalId, reason: (e as Error).message });
    }
  }
}

export async function syncTickets(): Promise<SyncResult> {
  const settings = new Settings(process.env);
  const http = new Http(new Limiter(4));
  const writer = new TicketWriter(http, settings);
  const posts: Promise<void>[] = [];
  for await (const row of new IncidentFeed(http, settings).rows()) {
    // One key per ticket, made once: every retry of this create reuses it.
    posts.push(writer.post(TicketWriter.toBody(row), randomUUID()));
  }
  await Promise.all(posts);
  return writer.result;
}
