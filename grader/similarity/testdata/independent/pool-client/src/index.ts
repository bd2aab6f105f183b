import { createHash } from "node:crypto";
import { send, GaveUp, type Reply } from "./call.ts";
import { endpoints } from "./env.ts";
import { Gate } from "./gate.ts";
import { ticketOf } from "./ticket.ts";

export type SyncResult = {
  created: number;
  failed: { externalId: string; reason: string }[];
};

function nextLink(header: string | null): string | undefined {
  for (const part of (header ?? "").split(",")) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?next"?/);
    if (m) return m[1];
  }
  return undefined;
}

export async function syncTickets(): Promise<SyncResult> {
  const ep = endpoints();
  const gate = new Gate(4);
  const seen = new Set<string>();
  const outcome: SyncResult = { created: 0, failed: [] };
  const pending: Promise<void>[] = [];

  let url: string | undefined = `${ep.source.base}/api/now/table/incident?sysparm_limit=10&sysparm_offset=0`;
  while (url !== undefined) {
    const offset = new URL(url).searchParams.get("sysparm_offset") ?? "?";
    const page = await pageAt(gate, url, ep.source.token, offset);
    for (const row of page.rows) {
      const t = ticketOf(row);
      if (seen.has(t.externalId)) continue;
      seen.add(t.externalId);
      const body = JSON.stringify(t);
      const key = createHash("sha256").update(body).digest("base64url");
      pending.push(
        send(gate, { url: `${ep.target.base}/v1/tickets`, method: "POST", token: ep.target.token, body, key, what: `ticket ${t.externalId}` }).then(
          () => {
            outcome.created += 1;
          },
          (err: unknown) => {
            outcome.failed.push({ externalId: t.externalId, reason: err instanceof Error ? err.message : String(err) });
          },
        ),
      );
    }
    url = page.next;
  }
  await Promise.all(pending);
  return outcome;
}

async function pageAt(gate: Gate, url: string, token: string, offset: string): Promise<{ rows: Record<string, unknown>[]; next: string | undefined }> {
  let res: Reply;
  try {
    res = await send(gate, { url, method: "GET", token, what: `source page at offset ${offset}` });
  } catch (err) {
    throw new Error(err instanceof GaveUp ? err.message : `source page at offset ${offset} failed`);
  }
  const result = (res.json as { result?: unknown } | null)?.result;
  const rows = Array.isArray(result) ? (result as Record<string, unknown>[]) : [];
  return { rows, next: rows.length > 0 ? nextLink(res.link) : undefined };
}
