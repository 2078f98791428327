import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * Who holds a lock, precisely enough to tell a live holder from a dead one after kill -9:
 * a pid alone may be reused, but pid + start time (in clock ticks since boot, from
 * /proc/<pid>/stat) + boot ID names one process for good.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
  bootId: string;
  hostname: string;
}

async function readProc(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
}

/** Field 22 of /proc/<pid>/stat; the comm field before it may hold spaces and parentheses. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

async function bootId(): Promise<string> {
  return ((await readProc('/proc/sys/kernel/random/boot_id')) ?? '').trim();
}

export async function currentProcess(): Promise<ProcessIdentity> {
  return { pid: process.pid, startTime: (await startTimeOf(process.pid)) ?? '', bootId: await bootId(), hostname: hostname() };
}

/**
 * `alive`: that very process still runs; `dead`: it does not (exited, pid reused, rebooted);
 * `unknown`: it ran on another host, which this one cannot look into.
 */
export async function processState(holder: ProcessIdentity): Promise<'alive' | 'dead' | 'unknown'> {
  if (holder.hostname !== hostname()) return 'unknown';
  if (holder.bootId !== (await bootId())) return 'dead';
  const startTime = await startTimeOf(holder.pid);
  return startTime !== undefined && startTime === holder.startTime ? 'alive' : 'dead';
}
