const LEVELS = ["critical", "high", "medium", "low", "low"] as const;
const STATES: { [code: string]: string } = { "1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "cancelled" };

export type Ticket = {
  externalId: string;
  title: string;
  description: string;
  priority: string;
  status: string;
  openedAt: string | null;
  assignee: string | null;
};

function str(x: unknown): string {
  return typeof x === "string" ? x : "";
}

function shorten(summary: string, fallback: string): string {
  const flat = summary.split(/\s+/).filter(Boolean).join(" ");
  if (flat === "") return fallback;
  const cps = [...flat];
  return cps.length > 80 ? cps.slice(0, 77).join("").trimEnd() + "..." : flat;
}

export function ticketOf(row: Record<string, unknown>): Ticket {
  const num = str(row.number);
  const level = /^[1-5]$/.test(str(row.priority)) ? LEVELS[Number(row.priority) - 1]! : "medium";
  const opened = str(row.opened_at).match(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/);
  const who = row.assigned_to;
  const display = who !== null && typeof who === "object" ? str((who as { display_value?: unknown }).display_value).trim() : "";
  return {
    externalId: num,
    title: shorten(str(row.short_description), num),
    description: str(row.description).trim(),
    priority: level,
    status: STATES[str(row.state)] ?? "new",
    openedAt: opened ? `${opened[1]}T${opened[2]}Z` : null,
    assignee: display === "" ? null : display,
  };
}
