// A backoff-scenario client whose waits are fixed and known (100, 200, 400, 800 ms after the
// 1st to 4th failed attempt), with 4 request slots shared FIFO like the calibration clients. It
// records what it did and when (epoch milliseconds, microsecond resolution) and how late its
// own event loop ran (a 5 ms interval), and prints it all as one JSON line at the end, so that
// printing never runs inside a measured wait.
import { readFile } from "node:fs/promises";

const T0 = performance.timeOrigin;
const now = () => T0 + performance.now();
const events = [];
const ev = (o) => events.push(o);

const LAG_MS = 5;
let due = performance.now() + LAG_MS;
const lag = setInterval(() => {
  const n = performance.now();
  if (n - due >= LAG_MS) ev({ ev: "lag", at: T0 + due, late: n - due });
  due = n + LAG_MS;
}, LAG_MS);

ev({ ev: "start", t: now() });
const src = process.env.ITSM_SOURCE_URL;
const tgt = process.env.ITSM_TARGET_URL;
const sourceHeaders = { Authorization: "Bearer " + process.env.ITSM_SOURCE_TOKEN };
const targetHeaders = { Authorization: "Bearer " + process.env.ITSM_TARGET_TOKEN, "Content-Type": "application/json" };
const golden = JSON.parse(await readFile(new URL("./tickets.json", import.meta.url), "utf8"));

// Every page, ten rows at a time, then each incident once, in the order served.
const tickets = [];
const seen = new Set();
for (let offset = 0; ; offset += 10) {
  const page = await fetch(src + "/api/now/table/incident?sysparm_limit=10&sysparm_offset=" + offset, { headers: sourceHeaders });
  const rows = (await page.json()).result;
  ev({ ev: "page", t: now(), status: page.status, offset });
  for (const row of rows) {
    if (!seen.has(row.number)) {
      seen.add(row.number);
      tickets.push(golden[row.number]);
    }
  }
  if (rows.length < 10) break;
}

const ASK = [100, 200, 400, 800];
let free = 4;
const queue = [];
const acquire = () => (free > 0 ? (free--, Promise.resolve()) : new Promise((res) => queue.push(res)));
const release = () => {
  const next = queue.shift();
  if (next) next();
  else free++;
};

async function sync(ticket) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const woke = now();
    await acquire();
    const send = now();
    let status = -1;
    try {
      const res = await fetch(tgt + "/v1/tickets", {
        method: "POST",
        headers: { ...targetHeaders, "Idempotency-Key": "probe-" + ticket.externalId },
        body: JSON.stringify(ticket),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = -1;
    }
    const got = now();
    release();
    ev({ ev: "attempt", id: ticket.externalId, attempt, queued: woke, send, got, status });
    if ((status >= 200 && status < 300) || status === 400 || attempt === 5) return;
    const ask = ASK[attempt - 1];
    const asleep = now();
    await new Promise((res) => setTimeout(res, ask));
    ev({ ev: "woke", id: ticket.externalId, attempt, asleep, ask, woke: now() });
  }
}

await Promise.all(tickets.map(sync));
clearInterval(lag);
process.stdout.write(JSON.stringify(events) + "\n");
