// Services as separate OS processes, as they are deployed: started from the build (dist/), each with
// its own log file; their CPU time and peak memory read from /proc, their counters from /metrics.
// Used by the fault run (test/chaos) and the benchmark (bench/).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '../../services/shared/paths';

export function spawnService(service: string, env: NodeJS.ProcessEnv, logFile: string, nodeArgs: string[] = []): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  try {
    return spawn(process.execPath, [...nodeArgs, path.join(REPO_ROOT, 'dist', 'services', service, 'main.js')], { env, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

export interface ProcessUsage {
  /** User + system CPU time so far. */
  cpuSeconds: number;
  /** Peak resident set size (VmHWM). */
  peakRssMegabytes: number;
}

/** CPU time and peak RSS of a live process, from /proc (Linux). */
export function processUsage(pid: number): ProcessUsage {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") "; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, peakRssMegabytes: hwm ? Math.round(Number(hwm[1]) / 1024) : 0 };
}

/** Sum of a Prometheus counter's samples whose labels include all of `labels`, from a /metrics page. */
export function counterValue(page: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return response.text();
}

/** CPU seconds by thread name (libraries name their threads: rdk:broker…, V8 workers, ClickHouse pools). */
export function threadUsage(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '#');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return byName;
}
