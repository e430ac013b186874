/**
 * The edge's HTTP/1.1 client towards backends: keep-alive connection pools and a strict response
 * reader, written for the proxy's hot path.
 *
 * Why not node:http's client or undici: measured on the benchmark machine (docs/benchmarks.md,
 * issue 8), a TLS front end forwarding keep-alive requests spent about 67 µs of CPU per request with
 * `http.request` + `http.Agent`, about 52 µs with undici's `Pool.dispatch`, and about 38 µs with this
 * client, against NGINX's 29 µs for the whole job. The client does only what a reverse proxy needs:
 * write a request head it was given (already validated), stream a body, and read the answer.
 *
 * Answers are read strictly (RFC 9112): anything this reader does not accept — a malformed status
 * line or header field, obs-fold, conflicting Content-Length values, a transfer coding other than
 * chunked, a head over 64 KB — is an error, which the edge answers with 502, as Application Gateway
 * answers an invalid backend response. It never relays bytes it has not framed.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { corkUntilEndOfTurn } from '../core/turn.js';

export interface UpstreamRequest {
  readonly method: string;
  /** The request-target (origin form). */
  readonly path: string;
  /** Header name/value pairs as they go on the wire, Host first; framing headers included. */
  readonly rawHeaders: readonly string[];
  /** The client's body, streamed; framed by the Content-Length in rawHeaders, or chunked. */
  readonly body: Readable | undefined;
}

export interface UpstreamResponseHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Name/value pairs as received (names keep their case). */
  readonly rawHeaders: string[];
}

export interface UpstreamHandler {
  /** The final (non-1xx) response head. */
  onHead(head: UpstreamResponseHead): void;
  /**
   * A piece of the (de-chunked) body; `last` is true on the final call, which may carry no bytes.
   * Returning false pauses reading from the backend until UpstreamCall.resume() (backpressure).
   */
  onBody(chunk: Buffer | undefined, last: boolean): boolean | void;
  /** The exchange failed; `afterHead` tells whether onHead was called. Called at most once, never after the last onBody. */
  onError(error: Error, afterHead: boolean): void;
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  /** TLS towards the backend: the options for tls.connect (servername, secureContext, checks). */
  readonly tls?: tls.ConnectionOptions;
}

export interface UpstreamCall {
  /** Gives up: destroys the connection (it is never reused). */
  abort(error?: Error): void;
  /** Reading from the backend again after onBody returned false. */
  resume(): void;
}

/** Longest response head (status line + fields) accepted. */
const MAX_HEAD = 64 * 1024;
/** Longest chunk-size line (with extensions) or trailer section accepted. */
const MAX_CHUNK_LINE = 4096;
const IDLE_TIMEOUT_MS = 60_000;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: VCHAR, obs-text, SP and HTAB (no CR, LF, NUL or other controls).
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
// What may go into a request head written as latin1: a character above U+00FF would lose its high
// byte on the wire (U+010D U+010A would become CR LF and split the request).
const REQUEST_TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const GOOD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);



class UpstreamProtocolError extends Error {}

/**
 * A pooled connection. Its socket listeners are attached once, for the connection's life: they
 * pass events to the exchange that owns the connection, or, while it is idle, drop it (an idle
 * connection that speaks, ends or fails is of no further use).
 */
interface PooledSocket {
  readonly socket: net.Socket;
  readonly key: string;
  /** Whether it has served a request already (a failure before any answer may then be a stale connection). */
  reused: boolean;
  owner: Exchange | undefined;
  idleSince: number;
  /** When the backend said it closes idle connections (Keep-Alive: timeout=N), less a second's margin. */
  reuseUntil: number;
}

/**
 * Idle keep-alive connections per target (host, port, source address, TLS server name), most
 * recently used first. Bounded: at most `maxIdle` idle connections per target; idle ones are
 * closed after a minute.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, PooledSocket[]>();
  /** The last TLS session per target, offered on the next new connection (as https.Agent does). */
  private readonly sessions = new Map<string, Buffer>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly maxIdle = 64) {}

  /**
   * Sends one request; the handler gets the answer. Throws when the head cannot be written as it is
   * (see invalidHead). A bodiless request with an idempotent method that fails on a reused connection
   * before any byte of the answer is retried once on a new connection.
   */
  request(target: ConnectTarget, req: UpstreamRequest, handler: UpstreamHandler): UpstreamCall {
    // Thrown, as node:http's ClientRequest throws ERR_INVALID_CHAR: nothing is sent, the edge answers 500.
    const invalid = this.invalidHead(req);
    if (invalid) throw new TypeError(`invalid request to the backend: ${invalid}`);
    // A body whose client has gone already (a request handled late, say) is never sent in part.
    const refused = this.closed ? 'the backend connection pool is closed' : req.body?.destroyed && !req.body.readableEnded ? 'the client aborted the request body' : undefined;
    if (refused) {
      queueMicrotask(() => handler.onError(new Error(refused), false));
      return { abort: () => undefined, resume: () => undefined };
    }
    const key = `${target.host}|${target.port}|${target.localAddress ?? ''}|${target.tls?.servername ?? ''}`;
    const pooled = this.take(key) ?? this.connect(key, target);
    // The one automatic retry (a kept connection the backend closed as the request went out): only
    // for idempotent methods without a body (RFC 9110 9.2.2), as NGINX; never a POST or a PATCH.
    const retry = pooled.reused && req.body === undefined && IDEMPOTENT.has(req.method) ? () => !this.closed && new Exchange(this, this.connect(key, target), req, handler, undefined) : undefined;
    return new Exchange(this, pooled, req, handler, retry);
  }

  /** The last long header value found good: a connection's forwarded certificate (1.7 KB) comes every request. */
  private goodValue = '';

  /** Why a request head cannot be written as it is, or undefined. */
  private invalidHead(req: UpstreamRequest): string | undefined {
    if (!TOKEN.test(req.method)) return 'method';
    if (!REQUEST_TARGET.test(req.path)) return 'request target';
    const h = req.rawHeaders;
    for (let i = 0; i + 1 < h.length; i += 2) {
      if (!TOKEN.test(h[i]!)) return `header name ${JSON.stringify(h[i])}`;
      const v = h[i + 1]!;
      if (v === this.goodValue) continue;
      if (!GOOD_VALUE.test(v)) return `value of header ${h[i]}`;
      if (v.length > 256) this.goodValue = v;
    }
    return undefined;
  }

  private connect(key: string, target: ConnectTarget): PooledSocket {
    const base = { host: target.host, port: target.port, ...(target.localAddress ? { localAddress: target.localAddress } : {}) };
    let socket: net.Socket;
    if (target.tls) {
      const session = this.sessions.get(key);
      const t = tls.connect({ ...target.tls, ...base, ...(session ? { session } : {}) });
      t.setNoDelay(true);
      t.on('session', (s: Buffer) => {
        if (this.sessions.size >= 256 && !this.sessions.has(key)) this.sessions.clear();
        this.sessions.set(key, s);
      });
      socket = t;
    } else socket = net.connect({ ...base, noDelay: true });
    const p: PooledSocket = { socket, key, reused: false, owner: undefined, idleSince: 0, reuseUntil: Infinity };
    socket.on('data', (d: Buffer) => (p.owner ? p.owner.data(d) : this.drop(p)));
    // A throw from the handler at the end of an answer must not escape into the event loop.
    socket.on('end', () => {
      try {
        if (p.owner) p.owner.end();
        else this.drop(p);
      } catch (e) {
        socket.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    });
    socket.on('close', () => (p.owner ? p.owner.fail(new Error('the backend closed the connection')) : this.drop(p)));
    socket.on('error', (e: Error) => (p.owner ? p.owner.fail(e) : this.drop(p)));
    return p;
  }

  private take(key: string): PooledSocket | undefined {
    const list = this.idle.get(key);
    const now = performance.now();
    while (list?.length) {
      const p = list.pop()!;
      if (p.socket.destroyed || !p.socket.writable || now >= p.reuseUntil) {
        p.socket.destroy();
        continue;
      }
      p.reused = true;
      return p;
    }
    return undefined;
  }

  /** Called by an exchange that is done with its connection. */
  release(p: PooledSocket, reusable: boolean): void {
    p.owner = undefined;
    let list = this.idle.get(p.key);
    if (!reusable || this.closed || p.socket.destroyed || (list && list.length >= this.maxIdle)) {
      p.socket.destroy();
      return;
    }
    if (!list) this.idle.set(p.key, (list = []));
    p.idleSince = performance.now();
    list.push(p);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), IDLE_TIMEOUT_MS / 4);
      this.sweeper.unref();
    }
  }

  private drop(p: PooledSocket): void {
    const list = this.idle.get(p.key);
    const i = list ? list.indexOf(p) : -1;
    if (i >= 0) list!.splice(i, 1);
    p.socket.destroy();
  }

  /** Closes connections idle for longer than a minute (the oldest are at the front of each list). */
  private sweep(): void {
    const limit = performance.now() - IDLE_TIMEOUT_MS;
    for (const list of this.idle.values()) while (list.length && list[0]!.idleSince < limit) list.shift()!.socket.destroy();
  }

  /** Idle connections kept, for tests and status. */
  get idleCount(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  /** Closes every idle connection; connections in use close when their exchange ends. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const p of list.splice(0)) p.socket.destroy();
    this.idle.clear();
    this.sessions.clear();
  }
}

type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/** One request/response on one connection. */
class Exchange implements UpstreamCall {
  private buf: Buffer | undefined;
  private state: 'head' | 'body' | 'done' = 'head';
  private framing: Framing = { kind: 'none' };
  private chunk: { phase: 'size' | 'data' | 'data-crlf' | 'trailers'; left: number } = { phase: 'size', left: 0 };
  private keepAlive = true;
  private received = false;
  /** The request body has been written to its end (or there is none). */
  private bodySent: boolean;
  private readonly socket: net.Socket;
  /** After a retry, the exchange on the new connection (abort() goes there). */
  private next: Exchange | undefined;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly pooled: PooledSocket,
    private readonly req: UpstreamRequest,
    private readonly handler: UpstreamHandler,
    /** Present when the exchange may be sent again on a new connection (see UpstreamPool.request). */
    private readonly retry: (() => Exchange | false) | undefined,
  ) {
    this.socket = pooled.socket;
    this.bodySent = req.body === undefined;
    pooled.owner = this;
    this.write();
  }

  private write(): void {
    const { method, path, rawHeaders, body } = this.req;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let chunked = false;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
      if (body && rawHeaders[i]!.length === 17 && rawHeaders[i]!.toLowerCase() === 'transfer-encoding') chunked = true;
    }
    head += '\r\n';
    const s = this.socket;
    // The request goes out with the other requests of this turn (core/turn.ts).
    corkUntilEndOfTurn(s);
    if (!body) {
      s.write(head, 'latin1');
      return;
    }
    s.write(head, 'latin1');
    const onChunk = (c: Buffer) => {
      if (this.state === 'done' || !c.length) return;
      let ok: boolean;
      if (chunked) {
        s.cork();
        s.write(`${c.length.toString(16)}\r\n`, 'latin1');
        s.write(c);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      } else ok = s.write(c);
      if (!ok) {
        body.pause();
        s.once('drain', onDrain);
      }
    };
    const onDrain = () => body.resume();
    const onEnd = () => {
      if (this.state === 'done') return;
      if (chunked) s.write('0\r\n\r\n', 'latin1');
      this.bodySent = true;
    };
    // The client went away mid-body: the backend must not take a short body as complete, and the
    // exchange must not wait for the rest.
    const onClose = () => {
      if (!this.bodySent) this.fail(new Error('the client aborted the request body'));
    };
    const onError = (e: Error) => this.fail(e);
    body.on('data', onChunk);
    body.once('end', onEnd);
    body.once('close', onClose);
    body.once('error', onError);
    this.detachBody = () => {
      body.removeListener('data', onChunk);
      body.removeListener('end', onEnd);
      body.removeListener('close', onClose);
      body.removeListener('error', onError);
      s.removeListener('drain', onDrain);
      // An answer came before the whole body was sent: the rest is read and dropped, so the
      // client's upload is not left paused (its connection then goes on to its next request).
      if (!this.bodySent && !body.destroyed) {
        body.on('error', () => undefined);
        body.resume();
      }
    };
  }

  /** Set while a request body is being streamed: takes the exchange's listeners off it. */
  private detachBody: (() => void) | undefined;

  /** The exchange is over: its body listeners go, and a socket paused for backpressure flows again. */
  private ended(reusable: boolean): void {
    const detach = this.detachBody;
    this.detachBody = undefined;
    detach?.();
    if (reusable && this.socket.isPaused()) this.socket.resume();
    this.pool.release(this.pooled, reusable);
  }

  resume(): void {
    if (this.next) return this.next.resume();
    if (this.state !== 'done') this.socket.resume();
  }

  abort(): void {
    if (this.next) return this.next.abort();
    if (this.state === 'done') return;
    this.state = 'done';
    this.socket.destroy();
    this.ended(false);
  }

  fail(e: Error): void {
    if (this.state === 'done') return;
    const afterHead = this.state === 'body';
    this.state = 'done';
    this.socket.destroy();
    this.ended(false);
    // A kept-alive connection the backend closed just before our request: once more on a new one.
    if (!this.received && this.retry) {
      const again = this.retry();
      if (again) {
        this.next = again;
        return;
      }
    }
    this.handler.onError(e, afterHead);
  }

  end(): void {
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.finish(false, undefined);
      return;
    }
    this.fail(new Error(this.state === 'head' ? 'the backend closed the connection without an answer' : 'the backend closed the connection before the answer was complete'));
  }

  private finish(reusable: boolean, last: Buffer | undefined): void {
    this.state = 'done';
    // An answer that came before the whole request body was sent (a 413, say): the rest of the
    // body would reach the next request on this connection, so the connection is closed.
    this.ended(reusable && this.keepAlive && this.bodySent);
    this.handler.onBody(last, true);
  }

  data(d: Buffer): void {
    if (this.state === 'done') return;
    this.received = true;
    try {
      if (this.state === 'head') {
        this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
        if (!this.readHeads()) return;
        const rest = this.buf;
        this.buf = undefined;
        this.body(rest);
      } else this.body(d);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Reads response heads until the final one; false when more bytes are needed. */
  private readHeads(): boolean {
    for (;;) {
      const buf = this.buf!;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) throw new UpstreamProtocolError('the backend response head is too large');
        return false;
      }
      if (end > MAX_HEAD) throw new UpstreamProtocolError('the backend response head is too large');
      const head = parseHead(buf.toString('latin1', 0, end));
      this.buf = buf.subarray(end + 4);
      const status = head.head.statusCode;
      if (status < 200) {
        // 100 Continue, 103 Early Hints …: interim answers are not relayed; 101 was not asked for.
        if (status === 101) throw new UpstreamProtocolError('the backend switched protocols without an upgrade request');
        continue;
      }
      this.framing = framingOf(head, this.req.method);
      this.keepAlive = head.keepAlive && this.framing.kind !== 'close';
      // As node:http's agent does: a connection is not offered again within a second of the idle
      // timeout the backend announced, so that it is not reused just as the backend closes it.
      if (head.idleTimeoutS !== undefined) this.pooled.reuseUntil = performance.now() + (head.idleTimeoutS - 1) * 1000;
      this.state = 'body';
      this.handler.onHead(head.head);
      return true;
    }
  }

  private body(d: Buffer | undefined): void {
    const f = this.framing;
    if (this.state !== 'body') return;
    if (f.kind === 'none') {
      // Bytes after a complete answer that was not asked for: the connection is out of step.
      if (d && d.length) this.keepAlive = false;
      this.finish(true, undefined);
      return;
    }
    if (f.kind === 'close') {
      if (d && d.length) this.bodyPiece(d);
      return;
    }
    if (f.kind === 'length') {
      if (!d || !d.length) {
        if (f.left === 0) this.finish(true, undefined);
        return;
      }
      if (d.length < f.left) {
        f.left -= d.length;
        this.bodyPiece(d);
        return;
      }
      if (d.length > f.left) this.keepAlive = false;
      const last = d.length === f.left ? d : d.subarray(0, f.left);
      f.left = 0;
      this.finish(true, last);
      return;
    }
    this.chunked(d);
  }

  private bodyPiece(d: Buffer): void {
    if (this.handler.onBody(d, false) === false) this.socket.pause();
  }

  /** RFC 9112 7.1: chunk-size [ext] CRLF data CRLF … 0 CRLF trailers CRLF. */
  private chunked(input: Buffer | undefined): void {
    let d = this.buf && input ? Buffer.concat([this.buf, input]) : (input ?? this.buf);
    this.buf = undefined;
    const c = this.chunk;
    while (d && d.length) {
      if (c.phase === 'data') {
        if (d.length <= c.left) {
          c.left -= d.length;
          this.bodyPiece(d);
          if (c.left === 0) c.phase = 'data-crlf';
          return;
        }
        this.bodyPiece(d.subarray(0, c.left));
        d = d.subarray(c.left);
        c.left = 0;
        c.phase = 'data-crlf';
        continue;
      }
      if (c.phase === 'data-crlf') {
        if (d.length < 2) {
          this.buf = d;
          return;
        }
        if (d[0] !== 13 || d[1] !== 10) throw new UpstreamProtocolError('malformed chunked body: no CRLF after chunk data');
        d = d.subarray(2);
        c.phase = 'size';
        continue;
      }
      if (c.phase === 'size') {
        const eol = d.indexOf('\r\n');
        if (eol < 0) {
          if (d.length > MAX_CHUNK_LINE) throw new UpstreamProtocolError('malformed chunked body: chunk-size line too long');
          this.buf = d;
          return;
        }
        const line = d.toString('latin1', 0, eol);
        const m = /^([0-9A-Fa-f]{1,12})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/.exec(line);
        if (!m) throw new UpstreamProtocolError('malformed chunked body: bad chunk size');
        const size = parseInt(m[1]!, 16);
        d = d.subarray(eol + 2);
        if (size === 0) {
          c.phase = 'trailers';
          continue;
        }
        c.phase = 'data';
        c.left = size;
        continue;
      }
      // trailers: fields until an empty line; not relayed (NGINX drops them too)
      if (d[0] === 13 && d.length >= 2 && d[1] === 10) {
        if (d.length > 2) this.keepAlive = false;
        this.finish(true, undefined);
        return;
      }
      const end = d.indexOf('\r\n\r\n');
      if (end < 0) {
        if (d.length > MAX_CHUNK_LINE) throw new UpstreamProtocolError('malformed chunked body: trailer section too long');
        this.buf = d;
        return;
      }
      if (d.length > end + 4) this.keepAlive = false;
      this.finish(true, undefined);
      return;
    }
  }
}

interface ParsedHead {
  readonly head: UpstreamResponseHead;
  readonly keepAlive: boolean;
  /** Keep-Alive: timeout=N, seconds. */
  readonly idleTimeoutS: number | undefined;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
}

function parseHead(text: string): ParsedHead {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw new UpstreamProtocolError('malformed status line from the backend');
  const http10 = m[1] === '0';
  const rawHeaders: string[] = [];
  let keepAlive = !http10;
  let idleTimeoutS: number | undefined;
  let contentLength: number | undefined;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UpstreamProtocolError('malformed header field from the backend');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new UpstreamProtocolError('malformed header field name from the backend');
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    if (BAD_VALUE.test(value)) throw new UpstreamProtocolError('malformed header field value from the backend');
    rawHeaders.push(name, value);
    const lower = name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : '';
    if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new UpstreamProtocolError('invalid Content-Length from the backend');
      // A repeated Content-Length, even with the same value, is refused as node:http's parser did.
      if (contentLength !== undefined) throw new UpstreamProtocolError('more than one Content-Length from the backend');
      contentLength = Number(value);
    } else if (lower === 'transfer-encoding') {
      // Only chunked can be relayed: other codings would reach the client undecoded and unlabelled.
      if (chunked || !/^chunked$/i.test(value)) throw new UpstreamProtocolError(`unsupported Transfer-Encoding from the backend: ${value}`);
      chunked = true;
    } else if (lower === 'connection') {
      for (const t of value.split(',')) {
        const tok = t.trim().toLowerCase();
        if (tok === 'close') keepAlive = false;
        else if (tok === 'keep-alive' && http10) keepAlive = true;
      }
    } else if (lower === 'keep-alive') {
      const t = /(?:^|[\s,;])timeout\s*=\s*(\d{1,6})/i.exec(value);
      if (t) idleTimeoutS = Number(t[1]);
    }
  }
  // Both: RFC 9112 6.3 lets Transfer-Encoding win, but a Content-Length relayed beside a de-chunked
  // body would frame the client's view differently from ours (response splitting). Refused, as
  // node:http's parser refused it.
  if (chunked && contentLength !== undefined) throw new UpstreamProtocolError('both Content-Length and Transfer-Encoding from the backend');
  return { head: { statusCode: Number(m[2]), statusMessage: m[3] ?? '', rawHeaders }, keepAlive, idleTimeoutS, contentLength, chunked };
}

function framingOf(p: ParsedHead, method: string): Framing {
  const status = p.head.statusCode;
  if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'none' };
  if (p.chunked) return { kind: 'chunked' };
  if (p.contentLength !== undefined) return p.contentLength === 0 ? { kind: 'none' } : { kind: 'length', left: p.contentLength };
  return { kind: 'close' };
}
