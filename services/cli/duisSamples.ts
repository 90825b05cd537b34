// Realistic payloads: the DCC Reference Test Data Set's DUIS requests (../shared/reference, never
// committed), or, where that folder is absent, synthetic DUIS-shaped XML for every catalogue variant.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SRV_CATALOGUE } from '../projector/srvCatalogue';
import { REPO_ROOT } from '../shared/paths';

export interface DuisSample {
  name: string;
  serviceReference: string;
  serviceReferenceVariant: string;
  payload: Buffer;
}

export const DEFAULT_REFERENCE_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'duis-rtds-requests');

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${name}>([^<]+)</(?:\\w+:)?${name}>`).exec(xml)?.[1]?.trim();
}

export function loadDuisSamples(dir = process.env.DUIS_REFERENCE_DIR ?? DEFAULT_REFERENCE_DIR): { source: string; samples: DuisSample[] } {
  if (fs.existsSync(dir)) {
    const samples: DuisSample[] = [];
    for (const file of fs.readdirSync(dir).sort()) {
      if (!/\.xml$/i.test(file)) continue;
      const payload = fs.readFileSync(path.join(dir, file));
      const xml = payload.toString('utf8');
      const variant = tag(xml, 'ServiceReferenceVariant');
      const reference = tag(xml, 'ServiceReference');
      if (variant && reference) samples.push({ name: file, serviceReference: reference, serviceReferenceVariant: variant, payload });
    }
    if (samples.length > 0) return { source: dir, samples };
  }
  return { source: 'synthetic', samples: syntheticSamples() };
}

function syntheticSamples(): DuisSample[] {
  return [...SRV_CATALOGUE.values()].map((srv) => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4">
  <sr:Header><sr:ServiceReference>${srv.serviceReference}</sr:ServiceReference><sr:ServiceReferenceVariant>${srv.variant}</sr:ServiceReferenceVariant></sr:Header>
  <sr:Body><sr:Confidential>
    <sr:UTRN>${[...randomBytes(10)].map((b) => String(b % 100).padStart(2, '0')).join('')}</sr:UTRN>
    <sr:TariffName>Tariff-${randomBytes(6).toString('hex')}</sr:TariffName>
    <sr:PricePerKWh>${(Math.random() * 100).toFixed(6)}</sr:PricePerKWh>
    <sr:Certificate>${randomBytes(48).toString('base64')}</sr:Certificate>
  </sr:Confidential></sr:Body>
</sr:Request>`;
    return { name: `synthetic-${srv.variant}`, serviceReference: srv.serviceReference, serviceReferenceVariant: srv.variant, payload: Buffer.from(xml) };
  });
}
