/**
 * Writes gathered until the end of the event-loop turn.
 *
 * Under load one turn of the event loop handles many requests (libuv hands over every socket that
 * became readable). Writing each answer the moment it is ready costs one system call per answer and,
 * worse, a wake-up of the peer for each: on loopback and in virtual machines, waking a peer that has
 * gone idle in between (an interrupt to another CPU) costs more than the write itself. Holding the
 * writes until the end of the turn sends them back to back, so the peers are woken once per turn.
 * With one request per turn (light load) the delay is a setImmediate: microseconds.
 *
 * Measured with wrk on the 2-core bench machine: a Node HTTPS server spending 40 µs per request
 * went from 73–80 to 61–66 µs of CPU per request (system time 13–17 → 6–8 µs) when it answered at
 * the end of the turn instead of at once; the seed chain in process from 86–89 to 50–54 µs
 * (docs/benchmarks.md, third round).
 */
import type { Socket } from 'node:net';

let queue: (() => void)[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const run = queue;
  queue = [];
  let failure: { error: unknown } | undefined;
  for (const fn of run) {
    try {
      fn();
    } catch (e) {
      failure ??= { error: e };
    }
  }
  // One bad callback must not keep the others' answers back; the first error then surfaces as it
  // would have without the deferral.
  if (failure) throw failure.error;
}

/**
 * Runs fn at the end of this event-loop turn (the check phase, after the I/O of the turn has been
 * handled), in the order of the calls. Called from inside such a callback, fn runs in the next turn.
 */
export function atEndOfTurn(fn: () => void): void {
  queue.push(fn);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

const corked = new WeakSet<Socket>();

/**
 * Holds what is written to the socket until the end of this turn, then sends it in one write.
 * For sockets written to directly: a node:http ServerResponse uncorks its socket itself in end(),
 * so defer the end() call with atEndOfTurn instead.
 */
export function corkUntilEndOfTurn(socket: Socket): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  atEndOfTurn(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
