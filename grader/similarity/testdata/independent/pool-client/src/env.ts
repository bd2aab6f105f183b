export interface Endpoints {
  source: { base: string; token: string };
  target: { base: string; token: string };
}

function required(key: string): string {
  const v = process.env[key]?.trim();
  if (v === undefined || v.length === 0) {
    throw new Error(`${key} must be set`);
  }
  return v;
}

function origin(key: string): string {
  const raw = required(key);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`${key} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`${key} must use http or https`);
  }
  return parsed.origin;
}

export function endpoints(): Endpoints {
  return {
    source: { base: origin("ITSM_SOURCE_URL"), token: required("ITSM_SOURCE_TOKEN") },
    target: { base: origin("ITSM_TARGET_URL"), token: required("ITSM_TARGET_TOKEN") },
  };
}
