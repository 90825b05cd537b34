// Archived AlertContexts: a context survives the row and back unchanged (exactly the contract's
// fields), the read binds every input, the internal route's parameters are checked again, and the
// DDL file splits into its statements.
import fs from 'node:fs';
import path from 'node:path';
import { ddlStatements } from '../../services/shared/archive';
import { alertContextRow, alertContextSql, alertFromParams, alertToParams, fromAlertRow, isAlertId, type AlertContextRowRead } from '../../services/shared/archiveAlerts';
import type { AlertContext } from '../../services/shared/contracts';

const A = '90-B3-D5-1F-30-01-00-00';

const context: AlertContext = {
  alertId: 'alert-1',
  alertCode: '0x8F1C',
  alertKind: 'DEVICE',
  deviceId: '00-DB-12-34-56-78-90-A0',
  eventTime: Date.UTC(2026, 10, 30, 12, 0, 0, 123),
  alertTitle: 'Firmware Verification Failed',
  recipientPartyId: A,
  recipientRole: null,
  status: 'CORRELATED',
  triggers: [
    {
      eventId: 'evt-2', requestId: `${A}:00-DB-12-34-56-78-90-A0:7`, messageType: 'SERVICE_RESPONSE', serviceReferenceVariant: '6.15.1',
      srvTitle: 'Update Security Credentials (KRP)', critical: true, eventTime: Date.UTC(2026, 10, 30, 11, 59, 0, 1), originatorRole: 'OU',
      originatorId: null, sentByRecipient: false, responseCode: 'I0', flags: ['ROLE_NOT_ELIGIBLE'], match: 'REQUEST_ID',
    },
  ],
};

/** What ClickHouse returns for the row written from `line` (eventTime as epoch ms). */
function readBack(line: string): AlertContextRowRead {
  const { eventTime, ...row } = JSON.parse(line) as Record<string, unknown>;
  return { ...(row as Omit<AlertContextRowRead, 'eventTimeMs'>), eventTimeMs: String(Date.parse(`${String(eventTime).replace(' ', 'T')}Z`)) };
}

describe('archived AlertContexts', () => {
  test('a context survives the row and back, with its triggers and nulls', () => {
    expect(fromAlertRow(readBack(alertContextRow(context)))).toEqual(context);
    const role = { ...context, recipientRole: 'IS' as const, triggers: [] };
    expect(fromAlertRow(readBack(alertContextRow(role)))).toEqual(role);
  });

  test('only the contract\'s fields come back, whatever else the stored triggers hold', () => {
    const row = readBack(alertContextRow(context));
    const tampered = { ...row, triggers: JSON.stringify([{ ...context.triggers[0], payload: 'secret' }]), extra: 'x' } as AlertContextRowRead;
    const read = fromAlertRow(tampered);
    expect(Object.keys(read.triggers[0])).not.toContain('payload');
    expect(Object.keys(read)).not.toContain('extra');
  });

  test('the read binds alertId, recipient and window; FINAL; one row', () => {
    const own = alertContextSql({ alertId: "x' OR 1=1 --", recipientPartyId: A, from: 5 });
    expect(own.sql).toContain('FROM alert_context_archive FINAL');
    expect(own.sql).toContain('recipientPartyId = {recipientPartyId:String}');
    expect(own.sql).not.toContain('OR 1=1');
    expect(own.params).toEqual({ alertId: "x' OR 1=1 --", recipientPartyId: A, from: 5 });
    const any = alertContextSql({ alertId: 'a', recipientPartyId: null, from: 5 });
    expect(any.sql).not.toContain('{recipientPartyId');
    expect(any.sql).toMatch(/ORDER BY recipientPartyId LIMIT 1/);
  });

  test('the internal route\'s parameters round-trip and are checked again', () => {
    for (const query of [{ alertId: 'alert-1', recipientPartyId: A, from: 1 }, { alertId: 'a.b:c_d-e', recipientPartyId: null, from: -1 }]) {
      expect(alertFromParams(alertToParams(query))).toEqual(query);
    }
    expect(alertFromParams(new URLSearchParams({ alertId: 'a', from: '1', recipientPartyId: A.toLowerCase() }))).toEqual({ alertId: 'a', from: 1, recipientPartyId: A });
    const bads: Array<Record<string, string>> = [{ alertId: 'a b', from: '1' }, { alertId: 'a', from: 'x' }, { alertId: 'a', from: '1', recipientPartyId: 'bob' }, { from: '1' }, { alertId: 'a'.repeat(201), from: '1' }];
    for (const bad of bads) {
      expect(alertFromParams(new URLSearchParams(bad))).toHaveProperty('error');
    }
    expect([isAlertId('alert-1'), isAlertId(''), isAlertId('../x'), isAlertId('a/b')]).toEqual([true, false, false, false]);
  });

  test('archive.sql: one statement per table, none empty', () => {
    const ddl = fs.readFileSync(path.join(__dirname, '../../infra/clickhouse/archive.sql'), 'utf8');
    const statements = ddlStatements(ddl);
    expect(statements.map((s) => /CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1])).toEqual(['visibility_archive', 'alert_context_archive']);
    expect(ddlStatements('-- only a comment;\n')).toEqual([]);
  });
});
