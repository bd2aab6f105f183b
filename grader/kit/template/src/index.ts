// src/index.ts: the entry point of your client. The grader bundles this file (and what it
// imports) with esbuild for Node.js 24 and calls syncTickets() once, in a fresh process, with the
// four ITSM_* environment variables set. The types below are the contract as BRIEF.md states it;
// split the work into as many modules under src/ as you like.

/** One incident that was not created, with a human-readable reason (BRIEF.md section 7). */
export type FailedTicket = { externalId: string; reason: string };

/**
 * What one sync resolves with (BRIEF.md sections 1 and 7): `created` counts the tickets the
 * target confirmed in this run (201, a replayed 201 included); every unique incident read is
 * either created or in `failed`, never both.
 */
export type SyncResult = {
  created: number;
  failed: { externalId: string; reason: string }[];
};

/**
 * The configuration: these environment variables and nothing else (BRIEF.md section 1). The
 * URLs are scheme, host and port only; for https, Node's NODE_EXTRA_CA_CERTS carries the CA.
 */
export const ENV_VARIABLES = ["ITSM_SOURCE_URL", "ITSM_SOURCE_TOKEN", "ITSM_TARGET_URL", "ITSM_TARGET_TOKEN"] as const;

/** One of the four variables. */
export type EnvVariable = (typeof ENV_VARIABLES)[number];

/** A reference field of a source record, e.g. assigned_to (BRIEF.md section 2). */
export type SourceReference = { display_value: string; link: string; value: string };

/**
 * A source incident as the brief describes it (section 2): every field may be missing and
 * further ServiceNow fields may appear. Response bodies are untrusted input: parse them as
 * `unknown` and check them before treating them as this type.
 */
export type SourceIncident = {
  sys_id?: string;
  number?: string;
  short_description?: string;
  description?: string;
  priority?: string;
  state?: string;
  opened_at?: string;
  assigned_to?: SourceReference | "";
  category?: string;
  sys_updated_on?: string;
  [field: string]: unknown;
};

/** A target ticket's priority (BRIEF.md section 5). */
export type TicketPriority = "critical" | "high" | "medium" | "low";

/** A target ticket's status (BRIEF.md section 5). */
export type TicketStatus = "new" | "in_progress" | "on_hold" | "resolved" | "closed" | "cancelled";

/** The body of POST /v1/tickets: all seven fields, nothing else (target.schema.json). */
export type TargetTicket = {
  externalId: string;
  title: string;
  description: string;
  priority: TicketPriority;
  status: TicketStatus;
  openedAt: string | null;
  assignee: string | null;
};

/**
 * Performs one complete sync: reads every source page, maps each unique incident and creates
 * its ticket once, and resolves with the result. Rejects with an Error when a source page cannot
 * be read after retries (BRIEF.md section 7).
 */
export async function syncTickets(): Promise<SyncResult> {
  throw new Error("not implemented");
}
