import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { UpstreamPool, type UpstreamRequest } from './upstream.js';

/** A scripted backend: answers each request head it reads with the next scripted bytes (written in pieces), counting connections. */
async function scripted(answers: (string | Buffer | ((socket: net.Socket) => void))[], opts: { split?: number } = {}) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const heads: string[] = [];
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        heads.push(buf.slice(0, end));
        buf = buf.slice(end + 4);
        const a = answers.shift();
        if (a === undefined) {
          s.destroy();
          return;
        }
        if (typeof a === 'function') a(s);
        else {
          const bytes = Buffer.from(a as string, 'latin1');
          const step = opts.split ?? bytes.length;
          // Piece by piece, each in its own write with a pause, so the reader sees every split.
          let i = 0;
          const next = () => {
            if (i >= bytes.length || s.destroyed) return;
            s.write(bytes.subarray(i, i + step));
            i += step;
            if (i < bytes.length) setTimeout(next, 1);
          };
          next();
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    heads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Outcome {
  status?: number;
  message?: string;
  headers?: string[];
  body: string;
  error?: string;
  afterHead?: boolean;
}

function send(pool: UpstreamPool, port: number, req: Partial<UpstreamRequest> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { body: '' };
    const timer = setTimeout(() => resolve({ ...out, error: 'test timeout' }), 5000);
    pool.request({ host: '127.0.0.1', port }, { method: 'GET', path: '/', rawHeaders: ['Host', 'backend'], body: undefined, ...req }, {
      onHead: (h) => {
        out.status = h.statusCode;
        out.message = h.statusMessage;
        out.headers = h.rawHeaders;
      },
      onBody: (c, last) => {
        if (c) out.body += c.toString('latin1');
        if (last) {
          clearTimeout(timer);
          resolve(out);
        }
      },
      onError: (e, afterHead) => {
        clearTimeout(timer);
        resolve({ ...out, error: e.message, afterHead });
      },
    });
  });
}

const pools: UpstreamPool[] = [];
const newPool = () => {
  const p = new UpstreamPool();
  pools.push(p);
  return p;
};
after(() => pools.forEach((p) => p.close()));

describe('UpstreamPool: framing', () => {
  const cl = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world';
  const chunked = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';

  for (const split of [undefined, 1, 3]) {
    test(`Content-Length then chunked on one kept-alive connection (pieces of ${split ?? 'all'} bytes)`, async () => {
      const b = await scripted([cl, chunked], split ? { split } : {});
      try {
        const pool = newPool();
        const one = await send(pool, b.port);
        assert.deepEqual([one.status, one.message, one.body, one.error], [200, 'OK', 'hello world', undefined]);
        assert.deepEqual(one.headers, ['Content-Type', 'text/plain', 'Content-Length', '11']);
        const two = await send(pool, b.port);
        assert.deepEqual([two.status, two.body, two.error], [201, 'hello world', undefined]);
        assert.equal(b.connections, 1);
        assert.equal(pool.idleCount, 1);
      } finally {
        await b.close();
      }
    });
  }

  test('a body delimited by the close of the connection; that connection is not kept', async () => {
    const b = await scripted([(s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end')]);
    try {
      const pool = newPool();
      const r = await send(pool, b.port);
      assert.deepEqual([r.status, r.body, r.error], [200, 'until the end', undefined]);
      assert.equal(pool.idleCount, 0);
    } finally {
      await b.close();
    }
  });

  test('interim 100 and 103 answers are skipped; the final answer is relayed', async () => {
    const b = await scripted(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    try {
      const r = await send(newPool(), b.port);
      assert.deepEqual([r.status, r.body, r.headers], [200, 'ok', ['Content-Length', '2']]);
    } finally {
      await b.close();
    }
  });

  test('HEAD, 204 and 304 have no body whatever Content-Length says; the connection is reused', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx']);
    try {
      const pool = newPool();
      assert.deepEqual(await send(pool, b.port, { method: 'HEAD' }), { status: 200, message: 'OK', headers: ['Content-Length', '10'], body: '' });
      assert.equal((await send(pool, b.port)).status, 204);
      assert.equal((await send(pool, b.port)).status, 304);
      assert.equal((await send(pool, b.port)).body, 'x');
      assert.equal(b.connections, 1);
    } finally {
      await b.close();
    }
  });

  test('Keep-Alive: timeout=N: a connection is reused until a second before the backend closes it', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\na',
      'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1, max=100\r\nContent-Length: 1\r\n\r\nb',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc',
    ]);
    try {
      const pool = newPool();
      assert.equal((await send(pool, b.port)).body, 'a');
      assert.equal((await send(pool, b.port)).body, 'b');
      assert.equal(b.connections, 1);
      // timeout=1 leaves no margin: the next request takes a new connection.
      assert.equal((await send(pool, b.port)).body, 'c');
      assert.equal(b.connections, 2);
    } finally {
      await b.close();
    }
  });

  test('Connection: close, HTTP/1.0 without keep-alive, and bytes after the answer: the connection is not reused', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na',
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ncEXTRA',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd',
    ]);
    try {
      const pool = newPool();
      for (const body of ['a', 'b', 'c', 'd']) assert.equal((await send(pool, b.port)).body, body);
      assert.equal(b.connections, 4);
    } finally {
      await b.close();
    }
  });
});

describe('UpstreamPool: what it refuses (the edge answers 502)', () => {
  const bad: [string, string][] = [
    ['a malformed status line', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n'],
    ['HTTP/2 in a status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n'],
    ['whitespace before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n'],
    ['a NUL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n'],
    ['a bare CR in a value', 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n'],
    ['conflicting Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['a repeated Content-Length, even with the same value', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab'],
    ['Content-Length with Transfer-Encoding (the client would frame the de-chunked body by the length)', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\na'],
    ['a transfer coding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
    ['a 101 that was not asked for', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
  ];
  for (const [name, answer] of bad) {
    test(name, async () => {
      const b = await scripted([answer]);
      try {
        const pool = newPool();
        const r = await send(pool, b.port);
        assert.equal(r.status, undefined);
        assert.match(r.error ?? '', /backend/);
        assert.equal(r.afterHead, false);
        assert.equal(pool.idleCount, 0);
      } finally {
        await b.close();
      }
    });
  }

  test('a response head over 64 KB', async () => {
    const b = await scripted([`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 0\r\n\r\n`]);
    try {
      assert.match((await send(newPool(), b.port)).error ?? '', /too large/);
    } finally {
      await b.close();
    }
  });

  test('a bad chunk size after the head: an error after the head, part of the body relayed', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n']);
    try {
      const r = await send(newPool(), b.port);
      assert.deepEqual([r.status, r.body, r.afterHead], [200, 'ok', true]);
      assert.match(r.error ?? '', /chunk size/);
    } finally {
      await b.close();
    }
  });

  test('the backend closes before the body is complete', async () => {
    const b = await scripted([(s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')]);
    try {
      const r = await send(newPool(), b.port);
      assert.deepEqual([r.status, r.body, r.afterHead], [200, 'abc', true]);
      assert.match(r.error ?? '', /before the answer was complete/);
    } finally {
      await b.close();
    }
  });

  test('the backend closes without answering', async () => {
    const b = await scripted([(s) => s.end()]);
    try {
      const r = await send(newPool(), b.port);
      assert.equal(r.afterHead, false);
      assert.match(r.error ?? '', /without an answer/);
    } finally {
      await b.close();
    }
  });

  test('1,000 random mutations of a valid answer never throw and always end in a body or an error', async () => {
    const valid = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const answers: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const a = valid.split('');
      for (let k = 0; k < 1 + rnd(3); k++) a[rnd(a.length)] = String.fromCharCode(rnd(256));
      answers.push(a.join(''));
    }
    const b = await scripted(answers.map((a) => (s: net.Socket) => s.end(a)));
    try {
      const pool = newPool();
      let relayed = 0;
      let refused = 0;
      for (let i = 0; i < answers.length; i++) {
        const r = await send(pool, b.port);
        assert.notEqual(r.error, 'test timeout');
        if (r.error === undefined) {
          assert.equal(r.status !== undefined && r.status >= 200, true);
          relayed++;
        } else refused++;
      }
      // Both outcomes occur: mutations in the reason phrase or a value still relay; most others are refused.
      assert.equal(relayed + refused, answers.length);
      assert.ok(relayed > 5 && refused > 500, `${relayed} relayed, ${refused} refused`);
    } finally {
      await b.close();
    }
  });
});

describe('UpstreamPool: connections and request bodies', () => {
  test('a kept-alive connection the backend closed while idle: a request without a body is sent again on a new connection', async () => {
    const b = await scripted([
      (s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
      },
      (s) => s.destroy(),
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb',
    ]);
    try {
      const pool = newPool();
      assert.equal((await send(pool, b.port)).body, 'a');
      // The second request goes on the kept connection, which the backend drops on reading it.
      const r = await send(pool, b.port);
      assert.deepEqual([r.body, r.error], ['b', undefined]);
      assert.equal(b.connections, 2);
    } finally {
      await b.close();
    }
  });

  test('bodies are framed by Content-Length or chunked and reach a node:http server intact', async () => {
    const got: { te?: string; cl?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        got.push({ te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body });
        res.end('done');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const pool = newPool();
      const big = 'x'.repeat(100_000);
      const a = await send(pool, port, { method: 'POST', rawHeaders: ['Host', 'b', 'Content-Length', String(big.length)], body: Readable.from([Buffer.from(big.slice(0, 40_000)), Buffer.from(big.slice(40_000))]) });
      const c = await send(pool, port, { method: 'POST', rawHeaders: ['Host', 'b', 'Transfer-Encoding', 'chunked'], body: Readable.from([Buffer.from('hello '), Buffer.alloc(0), Buffer.from(big)]) });
      assert.deepEqual([a.body, c.body], ['done', 'done']);
      assert.deepEqual(got[0], { te: undefined, cl: '100000', body: big });
      assert.deepEqual(got[1], { te: 'chunked', cl: undefined, body: `hello ${big}` });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('an answer that comes before the request body is all sent: relayed, and the connection is not reused', async () => {
    const b = await scripted(['HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    try {
      const pool = newPool();
      const body = new PassThrough();
      body.write('part of a body that never ends');
      const r = await send(pool, b.port, { method: 'POST', rawHeaders: ['Host', 'b', 'Transfer-Encoding', 'chunked'], body });
      assert.equal(r.status, 413);
      assert.equal(pool.idleCount, 0);
      // The rest of the client's body is read and dropped: not left paused, no listener of ours on it.
      assert.equal(body.isPaused(), false);
      assert.equal(body.listenerCount('data'), 0);
      body.write('more, after the answer');
      const two = await send(pool, b.port);
      assert.deepEqual([two.status, two.body], [200, 'ok']);
      assert.equal(b.connections, 2);
      body.end();
    } finally {
      await b.close();
    }
  });

  test('onBody returning false pauses reading from the backend until resume()', async () => {
    const piece = Buffer.alloc(1 << 20, 'x');
    let written = 0;
    let stopped = false;
    const server = net.createServer((s) => {
      s.on('error', () => s.destroy());
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${64 * piece.length}\r\n\r\n`);
        const pump = () => {
          while (!stopped && written < 64 && s.write(piece)) written++;
          if (!stopped && written < 64) s.once('drain', () => (written++, pump()));
        };
        pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const pool = newPool();
      let received = 0;
      let paused = false;
      const done = new Promise<void>((resolve) => {
        const call = pool.request({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, { method: 'GET', path: '/', rawHeaders: ['Host', 'b'], body: undefined }, {
          onHead: () => undefined,
          onBody: (c, last) => {
            received += c?.length ?? 0;
            if (last) return resolve();
            if (!paused && received > 2 << 20) {
              paused = true;
              // Resumed after the backend had time to fill every buffer it could.
              setTimeout(() => {
                assert.ok(written < 40, `the backend wrote ${written} MB while the reader was paused`);
                call.resume();
              }, 500);
              return false;
            }
          },
          onError: (e) => assert.fail(e),
        });
      });
      await done;
      assert.equal(received, 64 * piece.length);
    } finally {
      stopped = true;
      await new Promise((r) => server.close(r));
    }
  });

  test('a request body cut off by the client: before sending, nothing is sent; while sending, the backend connection is closed', async () => {
    // The backend reads the head and waits for the body.
    const b = await scripted([() => undefined]);
    try {
      const pool = newPool();
      const gone = new PassThrough();
      gone.destroy();
      const r = await send(pool, b.port, { method: 'POST', rawHeaders: ['Host', 'b', 'Content-Length', '10'], body: gone });
      assert.match(r.error ?? '', /aborted the request body/);
      assert.equal(b.connections, 0);
      const body = new PassThrough();
      body.write('12345');
      const pending = send(pool, b.port, { method: 'POST', rawHeaders: ['Host', 'b', 'Content-Length', '10'], body });
      setTimeout(() => body.destroy(), 50);
      const r2 = await pending;
      assert.match(r2.error ?? '', /aborted the request body/);
      assert.equal(pool.idleCount, 0);
    } finally {
      await b.close();
    }
  });

  test('a request head that cannot be written as it is throws, and nothing is sent (no smuggling through characters above U+00FF)', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    try {
      const pool = newPool();
      const bad: Partial<UpstreamRequest>[] = [
        { rawHeaders: ['Host', 'b', 'X-User', 'alice\u010d\u010aDELETE / HTTP/1.1'] },
        { rawHeaders: ['Host', 'b', 'X-User', 'a\r\nX-Injected: 1'] },
        { rawHeaders: ['Host', 'b', 'X Bad', 'v'] },
        { path: '/a b' },
        { path: '/\u0100' },
        { method: 'GET /x HTTP/1.1\r\n' },
      ];
      for (const r of bad) assert.throws(() => pool.request({ host: '127.0.0.1', port: b.port }, { method: 'GET', path: '/', rawHeaders: ['Host', 'b'], body: undefined, ...r }, { onHead: () => undefined, onBody: () => undefined, onError: () => undefined }), /invalid request to the backend/);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(b.connections, 0);
      // Latin-1 text (obs-text) in a value is still allowed, as node:http allows it.
      const ok = await send(pool, b.port, { rawHeaders: ['Host', 'b', 'X-Name', 'Zoë'] });
      assert.deepEqual([ok.status, ok.body], [200, 'ok']);
      assert.match(b.heads.at(-1)!, /\r\nX-Name: Zo\xeb$/);
    } finally {
      await b.close();
    }
  });

  test('the automatic retry on a stale kept connection is for idempotent methods only', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', (s) => s.destroy(), 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb']);
    try {
      const pool = newPool();
      assert.equal((await send(pool, b.port)).body, 'a');
      // A bodiless POST on the kept connection, which the backend drops on reading it: not sent again.
      const r = await send(pool, b.port, { method: 'POST', rawHeaders: ['Host', 'b', 'Content-Length', '0'] });
      assert.match(r.error ?? '', /closed/);
      assert.equal(b.connections, 1);
      assert.equal(b.heads.filter((h) => h.startsWith('POST')).length, 1);
    } finally {
      await b.close();
    }
  });

  test('a socket paused for a slow reader when the answer ends is flowing again for the next request', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    try {
      const pool = newPool();
      const first = await new Promise<string>((resolve, reject) => {
        let body = '';
        pool.request({ host: '127.0.0.1', port: b.port }, { method: 'GET', path: '/', rawHeaders: ['Host', 'b'], body: undefined }, {
          onHead: () => undefined,
          // Every piece asks for a pause, the last chunk included (its terminator came in the same read).
          onBody: (c, last) => {
            body += c?.toString() ?? '';
            if (last) resolve(body);
            return false;
          },
          onError: reject,
        });
      });
      assert.equal(first, 'abc');
      const two = await send(pool, b.port);
      assert.deepEqual([two.status, two.body, two.error], [200, 'ok', undefined]);
      assert.equal(b.connections, 1);
    } finally {
      await b.close();
    }
  });

  test('close() ends idle connections, and a request after it fails at once', async () => {
    const b = await scripted(['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na']);
    try {
      const pool = newPool();
      await send(pool, b.port);
      assert.equal(pool.idleCount, 1);
      pool.close();
      assert.equal(pool.idleCount, 0);
      assert.match((await send(pool, b.port)).error ?? '', /closed/);
    } finally {
      await b.close();
    }
  });
});
