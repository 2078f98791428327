/**
 * `--some-name value` pairs onto a copy of `defaults` (someName): a number where the default
 * is a number, else a string. Unknown names and non-numbers are errors naming the choices.
 */
export function parseOptions<T extends Record<string, number | string>>(argv: readonly string[], defaults: T): T {
  const options: Record<string, number | string> = { ...defaults };
  const known = (): string => Object.keys(defaults).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const name = flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = argv[i + 1];
    if (!flag.startsWith('--') || !(name in defaults)) throw new Error(`unknown option ${flag}; the options are ${known()}`);
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    if (typeof defaults[name] === 'number') {
      const number = Number(value);
      if (!Number.isFinite(number)) throw new Error(`option ${flag} takes a number, not '${value}'`);
      options[name] = number;
    } else {
      options[name] = value;
    }
  }
  return options as T;
}
