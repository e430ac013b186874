/*
 * LD_PRELOAD shim for wrk (built by `npm run bench` into a temp dir; never committed as a binary).
 *
 * wrk cannot present a TLS client certificate. This shim wraps three libc/OpenSSL entry points:
 *   SSL_CTX_new   after wrk creates its client SSL_CTX, load the client certificate chain and key
 *                 named by BENCH_CLIENT_CERT and BENCH_CLIENT_KEY (PEM files);
 *   SSL_connect   before a handshake starts, drop the session wrk's SSL_clear() kept, so that every
 *                 new connection is a full handshake (unless BENCH_TLS_RESUME=1);
 *   getaddrinfo   resolve BENCH_RESOLVE_HOST (e.g. apim-sample.dev) to 127.0.0.1, so that the URL,
 *                 the SNI and the Host header carry the real host name without touching /etc/hosts.
 * No OpenSSL headers are needed: the functions are declared here and found with dlsym at run time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_session_st SSL_SESSION;

static void *must(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (!f) f = dlsym(RTLD_DEFAULT, name);
  if (!f) {
    fprintf(stderr, "wrk-client-cert-shim: %s not found\n", name);
    exit(2);
  }
  return f;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
  SSL_CTX *(*real)(const SSL_METHOD *) = (SSL_CTX * (*)(const SSL_METHOD *)) must("SSL_CTX_new");
  SSL_CTX *ctx = real(method);
  const char *cert = getenv("BENCH_CLIENT_CERT");
  const char *key = getenv("BENCH_CLIENT_KEY");
  if (ctx && cert && key) {
    int (*use_chain)(SSL_CTX *, const char *) = (int (*)(SSL_CTX *, const char *))must("SSL_CTX_use_certificate_chain_file");
    int (*use_key)(SSL_CTX *, const char *, int) = (int (*)(SSL_CTX *, const char *, int))must("SSL_CTX_use_PrivateKey_file");
    if (use_chain(ctx, cert) != 1 || use_key(ctx, key, 1 /* SSL_FILETYPE_PEM */) != 1) {
      fprintf(stderr, "wrk-client-cert-shim: cannot load %s / %s\n", cert, key);
      exit(2);
    }
  }
  return ctx;
}

int SSL_connect(SSL *ssl) {
  static int (*real)(SSL *);
  static int (*in_before)(const SSL *);
  static int (*set_session)(SSL *, SSL_SESSION *);
  if (!real) {
    real = (int (*)(SSL *))must("SSL_connect");
    in_before = (int (*)(const SSL *))must("SSL_in_before");
    set_session = (int (*)(SSL *, SSL_SESSION *))must("SSL_set_session");
  }
  const char *resume = getenv("BENCH_TLS_RESUME");
  if (!(resume && strcmp(resume, "1") == 0) && in_before(ssl)) set_session(ssl, NULL);
  return real(ssl);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
  static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
  if (!real) real = (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))must("getaddrinfo");
  const char *host = getenv("BENCH_RESOLVE_HOST");
  if (host && node && strcmp(node, host) == 0) node = "127.0.0.1";
  return real(node, service, hints, res);
}
