import { DCC_ALERT_TITLES, DEVICE_ALERT_TITLES, alertTitle, normaliseAlertCode } from '../../services/alert-triage/alertCatalogue';

describe('alertTitle', () => {
  it('titles known GBCS device alert codes', () => {
    expect(alertTitle('0x8F1C', 'DEVICE')).toBe('Firmware Verification Failed');
    expect(alertTitle('0x8F35', 'DEVICE')).toBe('Supply Outage Restored');
    expect(alertTitle('0x81A0', 'DEVICE')).toBe('Smart Meter Integrity Issue - Warning');
  });

  it('normalises case, prefix and surrounding space of device codes', () => {
    expect(alertTitle('0x8f1c', 'DEVICE')).toBe('Firmware Verification Failed');
    expect(alertTitle('  0X8F1C\t', 'DEVICE')).toBe('Firmware Verification Failed');
    expect(alertTitle('8F1C', 'DEVICE')).toBe('Firmware Verification Failed');
    expect(normaliseAlertCode(' 0x8f1c ', 'DEVICE')).toBe('0x8F1C');
    expect(normaliseAlertCode(' n27 ', 'DCC')).toBe('N27');
  });

  it('shows an unknown code as `Alert <code>`, never a guess', () => {
    expect(alertTitle('0x8FFF', 'DEVICE')).toBe('Alert 0x8FFF');
    expect(alertTitle('0x8fff', 'DEVICE')).toBe('Alert 0x8FFF');
    expect(alertTitle('N27', 'DCC')).toBe('Alert N27');
    expect(alertTitle(' ad1 ', 'DCC')).toBe('Alert AD1');
    expect(alertTitle('not-a-code', 'DEVICE')).toBe('Alert not-a-code');
  });

  it('looks a code up only among alerts of its kind', () => {
    expect(alertTitle('0x8F1C', 'DCC')).toBe('Alert 0X8F1C');
  });

  it('keeps the tables readonly maps of normalised codes to tidy, non-empty titles', () => {
    for (const [table, kind] of [
      [DEVICE_ALERT_TITLES, 'DEVICE'],
      [DCC_ALERT_TITLES, 'DCC'],
    ] as const) {
      expect(table).toBeInstanceOf(Map);
      for (const [code, title] of table) {
        expect(normaliseAlertCode(code, kind)).toBe(code);
        expect(title).toBe(title.trim().replace(/\s+/g, ' '));
        expect(title.length).toBeGreaterThan(0);
      }
    }
    for (const code of DEVICE_ALERT_TITLES.keys()) expect(code).toMatch(/^0x[0-9A-F]{4}$/);
    expect(DEVICE_ALERT_TITLES.size).toBe(185);
  });
});
