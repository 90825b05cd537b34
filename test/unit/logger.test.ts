import { Writable } from 'node:stream';
import { createLogger } from '../../services/shared/logger';

test('payloads, message values and bodies are redacted at any logged depth', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', 'test', sink);
  logger.info({ payload: 'SECRET-1', event: { payload: Buffer.from('SECRET-2') }, message: { value: 'SECRET-3', key: 'device' }, a: { b: { payload: 'SECRET-4' } }, body: 'SECRET-5' }, 'hello');
  const text = lines.join('');
  expect(text).toContain('"msg":"hello"');
  expect(text).toContain('"key":"device"');
  expect(text).not.toMatch(/SECRET/);
  expect(text.match(/\[redacted\]/g)).toHaveLength(5);
});
