// Runs the fan-out alone (npm run start:fan-out).
import { main } from '../app';

main(['fan-out']).catch((error: Error) => {
  console.error(`fan-out failed to start: ${error.message}`);
  process.exit(1);
});
