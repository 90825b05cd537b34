// Runs the archiver alone (npm run start:archiver).
import { main } from '../app';

main(['archiver']).catch((error: Error) => {
  console.error(`archiver failed to start: ${error.message}`);
  process.exit(1);
});
