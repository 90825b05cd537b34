// The device-history page's files (services/lookup/page/): a flat folder, names checked against a
// strict pattern and a fixed set of types, so no request can reach anything outside it. Pure
// except for the read.
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../shared/paths';

export const PAGE_DIR = path.join(REPO_ROOT, 'services', 'lookup', 'page');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type of a servable file name, or null: one plain name, no path, a known type. */
export function pageFileType(name: string): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(name) || name.length > 64) return null;
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? null;
}

export async function readPageFile(name: string, dir = PAGE_DIR): Promise<{ body: Buffer; type: string } | null> {
  const type = pageFileType(name);
  if (!type) return null;
  const file = path.join(dir, name);
  if (path.dirname(file) !== dir) return null;
  try {
    return { body: await fs.readFile(file), type };
  } catch {
    return null;
  }
}

/** Only the page's own scripts, styles and API calls; no inline script, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
