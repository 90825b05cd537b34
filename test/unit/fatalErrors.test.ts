// The wiring that turns a fatal client error into the stage's fatal handler; the client's events
// and its consume call are driven by hand, the way the client's consumer delivers them.
import { EventEmitter } from 'node:events';
import { watchFatalErrors, whenCoordinatorReady, type Consumer } from '../../services/shared/kafka';

function watched() {
  let next: { error: Error | null; messages: unknown } = { error: null, messages: [] };
  const client = Object.assign(new EventEmitter(), {
    consume: (_size: number, callback: (error: Error | null, messages: unknown) => void) => callback(next.error, next.messages),
  });
  const fatal: Error[] = [];
  watchFatalErrors({ _getInternalClient: () => client } as unknown as Consumer, (error) => fatal.push(error));
  const consume = () => new Promise<Error | null>((resolve) => client.consume(10, (error) => resolve(error)));
  return { client, fatal, consume, answer: (error: Error | null) => (next = { error, messages: [] }) };
}

const clientError = (message: string, code: number, isFatal = false) => Object.assign(new Error(message), { code, isFatal });

describe('watchFatalErrors', () => {
  it('reports a fatal error from the consume call the compatible API loops on, and still hands it on', async () => {
    const { fatal, consume, answer } = watched();
    answer(clientError('Local: Fatal error', -150));
    expect(await consume()).toMatchObject({ code: -150 });
    expect(fatal.map((e) => e.message)).toEqual(['Local: Fatal error']);
  });

  it('reports a fatal error event and a fenced static member; ignores passing errors', async () => {
    const { client, fatal, consume, answer } = watched();
    answer(clientError('Local: Timed out', -185));
    await consume();
    client.emit('event.error', clientError('Local: Broker transport failure', -195));
    client.emit('event.error', clientError('Static consumer fenced by other consumer with same group.instance.id', 82));
    client.emit('event.error', clientError('any', -1, true));
    expect(fatal.map((e) => (e as Error & { code: number }).code)).toEqual([82, -1]);
  });
});

describe('whenCoordinatorReady', () => {
  it('calls again while the group coordinator is moving or loading, then returns the answer', async () => {
    const answers = [clientError('Broker: Not coordinator', 16), clientError('Broker: Coordinator load in progress', 14), null];
    let calls = 0;
    const result = await whenCoordinatorReady(async () => {
      const error = answers[calls++];
      if (error) throw error;
      return 'offsets';
    }, 5_000, 1);
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('throws any other error at once, and a coordinator still not ready once it gives up', async () => {
    let calls = 0;
    await expect(whenCoordinatorReady(async () => { calls++; throw clientError('Broker: Group authorization failed', 30); }, 5_000, 1)).rejects.toMatchObject({ code: 30 });
    expect(calls).toBe(1);
    await expect(whenCoordinatorReady(async () => { throw clientError('Broker: Not coordinator', 16); }, 20, 5)).rejects.toMatchObject({ code: 16 });
  });
});
