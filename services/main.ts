// npm start: every service in one process, in the foreground.
import { main } from './app';

main().catch((error: Error) => {
  console.error(`srv-visibility failed to start: ${error.message}`);
  process.exit(1);
});
