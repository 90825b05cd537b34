import { compare, compareAlerts, makeWorkload, supplierAt } from '../chaos/workload';

describe('the chaos run expectation (computed from the input alone)', () => {
  const workload = makeWorkload({ devices: 50, events: 2_000, cosShare: 0.5, now: Date.UTC(2026, 10, 30) });

  it('sends each event to the supplier at its time and the device operator', () => {
    for (const event of workload.events) {
      const device = workload.devices.find((d) => d.deviceId === event.deviceId)!;
      expect(workload.expected.get(event.eventId)).toEqual([supplierAt(device, event.eventTime), device.operator]);
      if (device.cos) expect(supplierAt(device, event.eventTime)).toBe(event.eventTime >= device.cos.at ? device.cos.to : device.supplier);
    }
    expect(workload.devices.some((d) => d.cos)).toBe(true);
  });

  it('counts missing, doubled and unexpected copies', () => {
    const expected = new Map([
      ['e1', ['A', 'B']],
      ['e2', ['A']],
    ]);
    const copies = [
      { eventId: 'e1', party: 'A' },
      { eventId: 'e1', party: 'A' },
      { eventId: 'e2', party: 'A' },
      { eventId: 'e2', party: 'C' },
    ];
    expect(compare(expected, copies)).toEqual({ expectedCopies: 3, found: 4, missing: 1, doubled: 1, unexpected: 1, retracted: 0, wrongRetractions: 0 });
    expect(compare(expected, [{ eventId: 'e1', party: 'A' }, { eventId: 'e1', party: 'B' }, { eventId: 'e2', party: 'A' }])).toMatchObject({ missing: 0, doubled: 0, unexpected: 0 });
  });

  it('does not count a retraction as a copy: it withdraws a copy the party was not entitled to, and one of a copy it was is wrong', () => {
    const expected = new Map([['e1', ['A']]]);
    const withdrawn = [
      { eventId: 'e1', party: 'A' },
      { eventId: 'e1', party: 'B' },
      { eventId: 'e1', party: 'B', retraction: true },
    ];
    expect(compare(expected, withdrawn)).toEqual({ expectedCopies: 1, found: 2, missing: 0, doubled: 0, unexpected: 0, retracted: 1, wrongRetractions: 0 });
    const wrong = [
      { eventId: 'e1', party: 'A' },
      { eventId: 'e1', party: 'A', retraction: true },
      { eventId: 'e2', party: 'C', retraction: true },
    ];
    expect(compare(expected, wrong)).toEqual({ expectedCopies: 1, found: 1, missing: 0, doubled: 0, unexpected: 0, retracted: 0, wrongRetractions: 2 });
  });

  it('raises each alert to the supplier at its event\'s time, naming that event\'s request', () => {
    const withAlerts = makeWorkload({ devices: 20, events: 400, cosShare: 0.5, alertShare: 0.25, now: Date.UTC(2026, 10, 30) });
    expect(withAlerts.alerts).toHaveLength(100);
    for (const alert of withAlerts.alerts) {
      const { recipient, eventId } = withAlerts.expectedAlerts.get(alert.alertId)!;
      const event = withAlerts.events.find((e) => e.eventId === eventId)!;
      expect(alert.requestId).toBe(event.requestId);
      expect(alert.recipientId).toBe(recipient);
      expect(withAlerts.expected.get(eventId)![0]).toBe(recipient);
    }
  });

  it('counts missing, doubled and wrong alert contexts', () => {
    const expected = new Map([
      ['a1', { recipient: 'A', eventId: 'e1' }],
      ['a2', { recipient: 'B', eventId: 'e2' }],
      ['a3', { recipient: 'A', eventId: 'e3' }],
    ]);
    const ok = (alertId: string, party: string, eventId: string) => ({ alertId, party, status: 'CORRELATED', triggerEventIds: [eventId] });
    expect(compareAlerts(expected, [ok('a1', 'A', 'e1'), ok('a1', 'A', 'e1'), ok('a2', 'A', 'e2'), { ...ok('a2', 'B', 'e2'), status: 'NO_TRIGGER_FOUND' }])).toEqual({
      expectedAlerts: 3, foundAlerts: 4, missingAlerts: 1, doubledAlerts: 2, wrongAlerts: 2,
    });
    expect(compareAlerts(expected, [ok('a1', 'A', 'e1'), ok('a2', 'B', 'e2'), ok('a3', 'A', 'e3')])).toMatchObject({ missingAlerts: 0, doubledAlerts: 0, wrongAlerts: 0 });
  });
});
