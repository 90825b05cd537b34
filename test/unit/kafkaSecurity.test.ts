// KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_*: validated at start, handed to librdkafka as they are,
// and the password never in a log line.
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../services/shared/config';
import { securitySettings } from '../../services/shared/kafka';
import { createLogger } from '../../services/shared/logger';
import { javaClientProperties } from '../../services/cli/provisionAcls';

const SASL = { KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_USERNAME: 'svc.fan-out', KAFKA_SASL_PASSWORD: 's3cret "quoted" \\ pass' };

describe('Kafka security settings', () => {
  it('is plaintext with nothing set, and then sets nothing in the client', () => {
    const { kafkaSecurity } = loadConfig({});
    expect(kafkaSecurity).toEqual({ protocol: 'plaintext' });
    expect(securitySettings(kafkaSecurity)).toEqual({});
  });

  it('takes SASL/SCRAM-SHA-512 by default and passes it to librdkafka', () => {
    const { kafkaSecurity } = loadConfig(SASL);
    expect(kafkaSecurity).toEqual({ protocol: 'sasl_plaintext', sasl: { mechanism: 'SCRAM-SHA-512', username: 'svc.fan-out', password: SASL.KAFKA_SASL_PASSWORD } });
    expect(securitySettings(kafkaSecurity)).toEqual({
      'security.protocol': 'sasl_plaintext',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'svc.fan-out',
      'sasl.password': SASL.KAFKA_SASL_PASSWORD,
    });
  });

  it('takes TLS with a CA file', () => {
    const { kafkaSecurity } = loadConfig({ ...SASL, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', KAFKA_SSL_CA_LOCATION: __filename });
    expect(securitySettings(kafkaSecurity)).toMatchObject({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-256', 'ssl.ca.location': __filename });
    expect(javaClientProperties(kafkaSecurity)).toContain(`ssl.truststore.type=PEM\nssl.truststore.location=${__filename}`);
  });

  it.each([
    [{ KAFKA_SECURITY_PROTOCOL: 'sasl' }, /KAFKA_SECURITY_PROTOCOL must be one of/],
    [{ KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_PASSWORD: 'x' }, /KAFKA_SASL_USERNAME is required/],
    [{ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_USERNAME: 'x' }, /KAFKA_SASL_PASSWORD is required/],
    [{ ...SASL, KAFKA_SASL_MECHANISM: 'GSSAPI' }, /KAFKA_SASL_MECHANISM must be one of/],
    [{ KAFKA_SASL_USERNAME: 'x', KAFKA_SASL_PASSWORD: 'y' }, /KAFKA_SASL_\* is set but KAFKA_SECURITY_PROTOCOL is plaintext/],
    [{ ...SASL, KAFKA_SSL_CA_LOCATION: __filename }, /KAFKA_SSL_CA_LOCATION is set but KAFKA_SECURITY_PROTOCOL is sasl_plaintext/],
    [{ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CA_LOCATION: '/no/such/ca.pem' }, /no such file/],
  ])('refuses %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never logs the password, wherever a config or client setting carries it', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
    const config = loadConfig(SASL);
    createLogger('info', 'test', sink).info({ config, settings: securitySettings(config.kafkaSecurity), password: SASL.KAFKA_SASL_PASSWORD }, 'starting');
    const text = lines.join('');
    expect(text).toContain('svc.fan-out');
    expect(text).not.toContain('s3cret');
  });

  it('quotes the password for the Java admin client (JAAS inside a properties file)', () => {
    const properties = javaClientProperties(loadConfig(SASL).kafkaSecurity);
    expect(properties).toContain('security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n');
    // JAAS escapes " and \ with \, and the properties format doubles every \ again
    expect(properties).toContain(String.raw`password="s3cret \\"quoted\\" \\\\ pass";`);
  });
});
