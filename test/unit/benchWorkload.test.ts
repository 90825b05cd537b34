// The bench's workload generator: the estate, the copies it owes, and alerts that name real requests.
import { makeBenchWorkload } from '../../bench/workload';
import { parseRequestId } from '../../services/shared/identifiers';

const samples = [
  { serviceReference: '4.1', serviceReferenceVariant: '4.1.1', payload: Buffer.from('<a/>') },
  { serviceReference: '6.15', serviceReferenceVariant: '6.15.1', payload: Buffer.from('<b/>') },
];

describe('bench workload', () => {
  const workload = makeBenchWorkload({ devices: 8, alertShare: 0.25, samples: samples as never, run: 7, now: 1_700_000_000_000 });

  it('registers every device with two owners, and every fourth (dual fuel) with four', () => {
    expect([...workload.registrations()]).toHaveLength(6 * 3 + 2 * 6);
    expect(workload.copiesFor(8)).toBe(6 * 2 + 2 * 4);
    expect(workload.copiesFor(16)).toBe(2 * (6 * 2 + 2 * 4));
    const owners = new Set([...workload.registrations()].flatMap((e) => (e.partyId ? [e.partyId] : [])));
    expect(workload.partyIds.sort()).toEqual([...owners].sort());
  });

  it('cycles events over the devices and samples with well-formed request ids; one alert per four events, naming the request', () => {
    const [e0, e1, e2] = [0, 1, 2].map((i) => workload.eventAt(i));
    expect(e0.deviceId).toBe(workload.eventAt(8).deviceId); // device 0 again after all 8
    expect(e1.serviceReferenceVariant).toBe('6.15.1');
    expect(e2.messageType).toBe('SERVICE_RESPONSE');
    expect(parseRequestId(e0.requestId)).not.toBeNull();
    expect([0, 1, 2, 3, 4].map((i) => workload.raisesAlert(i))).toEqual([true, false, false, false, true]);
    expect(workload.alertsFor(9)).toBe(3);
    const alert = workload.alertFor(4);
    expect(alert.requestId).toBe(workload.eventAt(4).requestId);
    expect(alert.deviceId).toBe(workload.eventAt(4).deviceId);
    // The recipient is the device's import supplier.
    const supplierOf = [...workload.registrations()].find((e) => e.role === 'IS' && [...workload.registrations()].some((a) => a.mpxn === e.mpxn && a.deviceId === alert.deviceId));
    expect(alert.recipientId).toBe(supplierOf?.partyId);
  });
});
