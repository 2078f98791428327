/**
 * etcdctl takes its global flags before the command too (`etcdctl --endpoints X member list`,
 * as in the reference notes). The client flags are declared on each client command (so other
 * commands keep their own --endpoints), so leading client flags are moved behind the command.
 */
const valueFlags = new Set([
  '--endpoints', '--cacert', '--cert', '--key', '--dial-timeout', '--command-timeout',
  '--keepalive-time', '--keepalive-timeout', '-w', '--write-out',
]);
const boolFlags = new Set(['--insecure-skip-tls-verify', '--insecure-transport', '--hex']);
const commandPaths: Record<string, number> = { get: 1, put: 1, del: 1, watch: 1, member: 2, endpoint: 2 };

/** argv as node gives it ([node, script, ...args]) with leading client flags moved after the client command. */
export function moveLeadingClientFlags(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const leading: string[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    const name = arg.split('=')[0]!;
    if (valueFlags.has(name)) {
      const take = arg.includes('=') ? 1 : 2;
      leading.push(...args.slice(i, i + take));
      i += take;
    } else if (boolFlags.has(name)) {
      leading.push(arg);
      i += 1;
    } else break;
  }
  const depth = commandPaths[args[i] ?? ''];
  if (leading.length === 0 || depth === undefined) return [...argv];
  const path = args.slice(i, i + depth);
  return [...argv.slice(0, 2), ...path, ...leading, ...args.slice(i + depth)];
}
