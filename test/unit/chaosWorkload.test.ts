import { compare, makeWorkload, supplierAt } from '../chaos/workload';

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
    expect(compare(expected, copies)).toEqual({ expectedCopies: 3, found: 4, missing: 1, doubled: 1, unexpected: 1 });
    expect(compare(expected, [{ eventId: 'e1', party: 'A' }, { eventId: 'e1', party: 'B' }, { eventId: 'e2', party: 'A' }])).toMatchObject({ missing: 0, doubled: 0, unexpected: 0 });
  });
});
