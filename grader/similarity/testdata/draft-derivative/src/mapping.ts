// Mapping of a source incident onto a target ticket (brief, section 6).

export interface Assignee {
  display_value?: string;
  link?: string;
  value?: string;
}

export interface Incident {
  sys_id?: string;
  number?: string;
  short_description?: string;
  description?: string;
  priority?: string;
  state?: string;
  opened_at?: string;
  assigned_to?: Assignee | string;
  category?: string;
  sys_updated_on?: string;
  [key: string]: unknown;
}

export interface Ticket {
  externalId: string;
  title: string;
  description: string;
  priority: "critical" | "high" | "medium" | "low";
  status: "new" | "in_progress" | "on_hold" | "resolved" | "closed" | "cancelled";
  openedAt: string | null;
  assignee: string | null;
}

const TITLE_LIMIT = 80;

const PRIORITIES: Record<string, Ticket["priority"]> = {
  "1": "critical",
  "2": "high",
  "3": "medium",
  "4": "low",
  "5": "low",
};

const STATUSES: Record<string, Ticket["status"]> = {
  "1": "new",
  "2": "in_progress",
  "3": "on_hold",
  "6": "resolved",
  "7": "closed",
  "8": "cancelled",
};

function toTitle(summary: string | undefined, fallback: string): string {
  const collapsed = (summary ?? "").replace(/\s+/g, " ").trim();
  if (!collapsed) {
    return fallback;
  }
  // Count code points, not UTF-16 units, so an emoji is one character.
  const points = Array.from(collapsed);
  if (points.length <= TITLE_LIMIT) {
    return collapsed;
  }
  return points.slice(0, TITLE_LIMIT - 3).join("").trimEnd() + "...";
}

function toOpenedAt(value: string | undefined): string | null {
  if (!value) return null;
  const parts = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(value);
  return parts ? `${parts[1]}T${parts[2]}Z` : null;
}

function toAssignee(ref: Assignee | string | undefined): string | null {
  if (!ref || typeof ref !== "object") return null;
  const who = ref.display_value?.trim();
  return who ? who : null;
}

export function toTicket(incident: Incident): Ticket {
  const id = incident.number ?? "";
  return {
    externalId: id,
    title: toTitle(incident.short_description, id),
    description: (incident.description ?? "").trim(),
    priority: PRIORITIES[incident.priority ?? ""] ?? "medium",
    status: STATUSES[incident.state ?? ""] ?? "new",
    openedAt: toOpenedAt(incident.opened_at),
    assignee: toAssignee(incident.assigned_to),
  };
}
