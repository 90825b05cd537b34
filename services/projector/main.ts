// Runs the projector alone (npm run start:projector).
import { main } from '../app';

main(['projector']).catch((error: Error) => {
  console.error(`projector failed to start: ${error.message}`);
  process.exit(1);
});
