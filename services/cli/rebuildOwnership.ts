// Rebuilds the ownership store in Redis from sat.ownership.events and the facts changelog, e.g.
// after Redis lost its data.
//   npm run ownership:rebuild            replay over what is there (facts are idempotent)
//   npm run ownership:rebuild -- --clear delete every own:* key first, then replay
import { loadConfig } from '../shared/config';
import { createKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { createRedis } from '../shared/redis';
import { clearOwnership } from '../shared/ownershipStore';
import { AvroCodec, createSchemaRegistry } from '../shared/schemaRegistry';
import { replayOwnership } from '../ownership-projector/ownershipProjectorService';

async function rebuild(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'ownership-rebuild');
  const redis = createRedis(config, logger, 'ownership-rebuild');
  await redis.connect();
  try {
    if (process.argv.includes('--clear')) console.log(`cleared ${await clearOwnership(redis)} ownership keys`);
    const started = Date.now();
    let lastPrint = 0;
    const facts = await replayOwnership(
      createKafka(config, logger, 'srv-visibility-ownership-rebuild'),
      new AvroCodec(createSchemaRegistry(config)),
      redis,
      logger,
      (topic, done, total) => {
        if (Date.now() - lastPrint > 1000 || done === total) {
          lastPrint = Date.now();
          console.log(`${topic}: replayed ${done}/${total} events`);
        }
      },
    );
    console.log(`ownership rebuilt: ${facts} facts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await redis.quit();
  }
}

rebuild().catch((error: Error) => {
  console.error(`ownership rebuild failed: ${error.message}`);
  process.exit(1);
});
