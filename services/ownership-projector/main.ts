// Runs the ownership-projector alone (npm run start:ownership-projector).
import { main } from '../app';

main(['ownership-projector']).catch((error: Error) => {
  console.error(`ownership-projector failed to start: ${error.message}`);
  process.exit(1);
});
