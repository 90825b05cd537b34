// Runs alert triage alone (npm run start:alert-triage).
import { main } from '../app';

main(['alert-triage']).catch((error: Error) => {
  console.error(`alert-triage failed to start: ${error.message}`);
  process.exit(1);
});
