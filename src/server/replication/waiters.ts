import { EtcdError } from '../../api/etcd-errors.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * Callers waiting for the entry they proposed to be applied, by request ID. A wait gives up
 * with etcd's "request timed out" when the entry is not applied in time (lost with a leader,
 * or a partition keeps it from committing).
 */
export class Waiters<T> {
  private readonly waiting = new Map<bigint, Waiter<T>>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.waiting.size;
  }

  wait(id: bigint): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new EtcdError('timeout'));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  trigger(id: bigint, value: T): void {
    this.take(id)?.resolve(value);
  }

  fail(id: bigint, err: unknown): void {
    this.take(id)?.reject(err);
  }

  failAll(err: unknown): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, err);
  }

  private take(id: bigint): Waiter<T> | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    return waiter;
  }
}
