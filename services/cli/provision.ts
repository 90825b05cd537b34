// Creates the contract's topics and registers its schemas; safe to run again.
// For a real cluster: KAFKA_BROKERS=... SCHEMA_REGISTRY_URL=... npm run provision -- --replication-factor 3
import { loadConfig } from '../shared/config';
import { createKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { registerSchemas } from '../shared/runtime';
import { AvroCodec, createSchemaRegistry } from '../shared/schemaRegistry';
import { ensureTopics, topicLayout } from '../shared/topics';

async function provision(): Promise<void> {
  const args = process.argv.slice(2);
  const rfIndex = args.indexOf('--replication-factor');
  const config = loadConfig();
  const replicationFactor = rfIndex >= 0 ? Number(args[rfIndex + 1]) : config.topicReplicationFactor;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) throw new Error('--replication-factor takes a whole number >= 1');
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'provision');
  const kafka = createKafka(config, logger, 'srv-visibility-provision');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const layout = topicLayout({ replicationFactor });
    const created = await ensureTopics(admin, layout, logger);
    for (const topic of layout) {
      console.log(`topic ${topic.topic}: ${created.includes(topic.topic) ? 'created' : 'exists'}`);
    }
  } finally {
    await admin.disconnect();
  }
  const ids = await registerSchemas(new AvroCodec(createSchemaRegistry(config)));
  for (const [name, id] of Object.entries(ids)) console.log(`schema ${name}: id ${id}`);
}

provision().catch((error: Error) => {
  console.error(`provisioning failed: ${error.message}`);
  process.exit(1);
});
