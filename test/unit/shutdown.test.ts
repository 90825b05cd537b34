// The shutdown deadline ends the process even when exiting itself would hang: a child process
// whose closer never finishes and whose exit teardown blocks forever must still be gone, by
// SIGKILL, soon after the deadline, so a supervisor sees it end and restarts it.
import { spawn } from 'node:child_process';
import path from 'node:path';

const SHUTDOWN_TS = path.join(__dirname, '..', '..', 'services', 'shared', 'shutdown.ts');

// The child loads shutdown.ts itself (transpiled with the project's TypeScript), so nothing needs building.
const CHILD = `
  const fs = require('node:fs');
  const ts = require('typescript');
  const Module = require('node:module');
  const source = ts.transpileModule(fs.readFileSync(process.env.SHUTDOWN_TS, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
  const m = new Module(process.env.SHUTDOWN_TS);
  m.paths = module.paths;
  m._compile(source, process.env.SHUTDOWN_TS);
  const logger = { error() {}, warn() {}, debug() {}, info() {} };
  const shutdown = new m.exports.Shutdown(logger, 300);
  shutdown.add('stuck', () => new Promise(() => {}));
  process.on('exit', () => { for (;;) {} }); // an exit teardown that never returns
  setInterval(() => {}, 1000);
  shutdown.exit(0);
`;

test('past the deadline the process is killed, even if its exit would hang', async () => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SHUTDOWN_TS }, cwd: path.join(__dirname, '..', '..') });
  const started = Date.now();
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  expect(ended).toEqual({ code: null, signal: 'SIGKILL' });
  expect(Date.now() - started).toBeLessThan(10_000);
}, 20_000);
