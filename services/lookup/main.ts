// Runs the lookup API alone (npm run start:lookup). With the embedded archive engine it reads
// through the archiver's internal routes (ARCHIVE_QUERY_URL); with CLICKHOUSE_URL, the server.
import { main } from '../app';

main(['lookup']).catch((error: Error) => {
  console.error(`lookup failed to start: ${error.message}`);
  process.exit(1);
});
