import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux everywhere in practice). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) process `pid` has used so far, from /proc/<pid>/stat; NaN where
 * there is no /proc. CPU per operation holds steadier than throughput on a shared, busy machine.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** The process whose command line holds `argument` (e.g. a member's unique data dir); undefined when none or no /proc. */
export function pidWithArgument(argument: string): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined;
}
