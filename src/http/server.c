/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The server: listening sockets (one per worker, SO_REUSEPORT, so the kernel spreads new
 * connections and no lock is shared on accept), worker threads each running a libuv loop,
 * admission (connection caps, refused with a pre-rendered 503), running posted work on a loop,
 * statistics, and graceful shutdown.
 *
 * Accepting is our own: a uv_poll on the listening socket and accept4(). libuv's accept has no
 * way to pause, and on EMFILE a level-triggered listener would spin; we stop polling the socket
 * for ACCEPT_PAUSE_MS instead, while the pending connections wait in the kernel's backlog.
 */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"

#define ACCEPT_PAUSE_MS 100
#define ACCEPT_BATCH    64 /* connections accepted per wake-up, for fairness with I/O */
#define LISTEN_BACKLOG  1024
#define IP_BUCKETS      1024

struct http__ip {
    uint8_t addr[16];
    unsigned count;
    struct http__ip *next;
};

/* ---- per-IP cap: one table for every thread, under a mutex (an accept is rare enough) ---- */

static size_t ip_hash(const uint8_t a[16])
{
    uint64_t h = 1469598103934665603ull;

    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211ull;
    return (size_t)(h % IP_BUCKETS);
}

static bool ip_acquire(struct http_server *s, const uint8_t a[16])
{
    struct http__ip **pp, *e;
    bool ok = true;

    /*
     * A trusted proxy carries many clients on its connections, and which client a connection
     * is for is known only once a request head arrives: the proxy applies the per-client cap
     * itself (docs/DEPLOY.md), max_connections still bounds the whole.
     */
    if (!s->opts.max_connections_per_ip ||
        http_cidr_match(s->opts.trusted_proxies, s->opts.ntrusted_proxies, a))
        return true;
    uv_mutex_lock(&s->ip_mu);
    pp = &s->ip_tab[ip_hash(a)];
    for (e = *pp; e && memcmp(e->addr, a, 16) != 0; e = e->next)
        ;
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        memcpy(e->addr, a, 16);
        e->next = *pp;
        *pp = e;
    }
    if (e->count >= s->opts.max_connections_per_ip) {
        ok = false;
    } else {
        e->count++;
    }
    uv_mutex_unlock(&s->ip_mu);
    return ok;
}

void http__ip_release(struct http_server *s, const uint8_t a[16])
{
    struct http__ip **pp, *e;

    if (!s->opts.max_connections_per_ip ||
        http_cidr_match(s->opts.trusted_proxies, s->opts.ntrusted_proxies, a))
        return;
    uv_mutex_lock(&s->ip_mu);
    for (pp = &s->ip_tab[ip_hash(a)]; (e = *pp) != NULL; pp = &e->next) {
        if (!memcmp(e->addr, a, 16)) {
            if (--e->count == 0) {
                *pp = e->next;
                free(e);
            }
            break;
        }
    }
    uv_mutex_unlock(&s->ip_mu);
}

/* ---- accepting ---- */

static void to_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
    memset(key, 0, 16);
    if (ss->ss_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
}

/*
 * Over a cap: answer with the pre-rendered 503 straight on the socket, without reading, and
 * close. The kernel buffer takes the few hundred bytes at once.
 */
static void refuse(struct http_loop *loop, int fd)
{
    struct http_server *s = loop->srv;
    static const char status[] = "HTTP/1.1 503 Service Unavailable\r\n";
    struct iovec iov[3];
    char sink[4096];
    ssize_t n;

    atomic_fetch_add_explicit(&s->refused, 1, memory_order_relaxed);
    http__date_line(loop);
    iov[0] = (struct iovec){ (void *)status, sizeof(status) - 1 };
    iov[1] = (struct iovec){ loop->date, loop->date_len };
    iov[2] = (struct iovec){ s->refusal, s->refusal_len };
    n = writev(fd, iov, 3);
    (void)n;
    shutdown(fd, SHUT_WR);
    /* Whatever request already arrived is dropped, so close() sends FIN rather than RST. */
    while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
    close(fd);
}

static void on_listen_readable(uv_poll_t *h, int status, int events);

static void on_accept_resume(uv_timer_t *t)
{
    struct http_loop *loop = t->data;

    loop->accept_paused = false;
    if (!loop->stopping && loop->listen_fd >= 0)
        uv_poll_start(&loop->listen_poll, UV_READABLE, on_listen_readable);
}

static void pause_accept(struct http_loop *loop, int err)
{
    if (loop->accept_paused)
        return;
    loop->accept_paused = true;
    atomic_fetch_add_explicit(&loop->srv->accept_paused, 1, memory_order_relaxed);
    log_warn("http: cannot accept connections: %s; pausing accepts for %d ms", strerror(err),
             ACCEPT_PAUSE_MS);
    uv_poll_stop(&loop->listen_poll);
    uv_timer_start(&loop->accept_timer, on_accept_resume, ACCEPT_PAUSE_MS, 0);
}

static void on_listen_readable(uv_poll_t *h, int status, int events)
{
    struct http_loop *loop = h->data;
    struct http_server *s = loop->srv;

    (void)events;
    if (status < 0 || loop->stopping)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss = { 0 };
        socklen_t sl = sizeof(ss);
        uint8_t key[16];
        uint64_t open;
        int fd =
            accept4(loop->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accept(loop, errno);
            return; /* EAGAIN: drained */
        }
        to_key(&ss, key);
        open = atomic_fetch_add_explicit(&s->conns_open, 1, memory_order_relaxed) + 1;
        if ((s->opts.max_connections && open > s->opts.max_connections) || !ip_acquire(s, key)) {
            atomic_fetch_sub_explicit(&s->conns_open, 1, memory_order_relaxed);
            refuse(loop, fd);
            continue;
        }
        http__conn_accept(loop, fd, key);
    }
}

/* ---- the loop ---- */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_listen_closed(uv_handle_t *h)
{
    struct http_loop *loop = h->data;

    close(loop->listen_fd);
    loop->listen_fd = -1;
}

/* Everything is answered (or the grace period is over): close the loop's own handles. */
static void finish(struct http_loop *loop)
{
    struct http__post *p;

    if (loop->finished)
        return;
    loop->finished = true;
    /* Work posted before this point still runs (it may answer the last requests). */
    uv_mutex_lock(&loop->post_mu);
    loop->post_closed = true;
    p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    uv_mutex_unlock(&loop->post_mu);
    while (p) {
        struct http__post *next = p->next;

        p->fn(p->arg);
        free(p);
        p = next;
    }
    /* Requests a handler never answered: their clients are gone; nobody will answer now. */
    while (loop->conns) {
        struct http__conn *c = loop->conns;

        if (!c->closed) {
            loop->conns = c->next; /* still closing: its close callback frees it */
            continue;
        }
        c->req.answered = true;
        http__conn_free(c);
    }
    uv_timer_stop(&loop->sweep_timer);
    uv_timer_stop(&loop->shutdown_timer);
    uv_timer_stop(&loop->accept_timer);
    uv_prepare_stop(&loop->prepare);
    uv_close((uv_handle_t *)&loop->async, on_handle_closed);
    uv_close((uv_handle_t *)&loop->sweep_timer, on_handle_closed);
    uv_close((uv_handle_t *)&loop->shutdown_timer, on_handle_closed);
    uv_close((uv_handle_t *)&loop->accept_timer, on_handle_closed);
    uv_close((uv_handle_t *)&loop->prepare, on_handle_closed);
}

void http__loop_maybe_finish(struct http_loop *loop)
{
    if (!loop->stopping || loop->finished)
        return;
    if (loop->nconns == 0 || (loop->forced && loop->nopen == 0))
        finish(loop);
}

static void on_shutdown_timeout(uv_timer_t *t)
{
    struct http_loop *loop = t->data;

    log_warn("http: shutdown grace period over; closing %zu connections", loop->nopen);
    loop->forced = true;
    for (struct http__conn *c = loop->conns; c; c = c->next)
        http__conn_close(c);
    http__loop_maybe_finish(loop);
}

static void begin_stop(struct http_loop *loop)
{
    if (loop->stopping)
        return;
    loop->stopping = true;
    uv_timer_stop(&loop->accept_timer);
    if (loop->listen_fd >= 0 && !uv_is_closing((uv_handle_t *)&loop->listen_poll)) {
        uv_poll_stop(&loop->listen_poll);
        uv_close((uv_handle_t *)&loop->listen_poll, on_listen_closed);
    }
    http__conn_stop_idle(loop);
    uv_timer_start(&loop->shutdown_timer, on_shutdown_timeout, loop->srv->opts.shutdown_timeout_ms,
                   0);
    http__loop_maybe_finish(loop);
}

static void on_async(uv_async_t *a)
{
    struct http_loop *loop = a->data;
    struct http__post *p;

    uv_mutex_lock(&loop->post_mu);
    p = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    uv_mutex_unlock(&loop->post_mu);
    while (p) {
        struct http__post *next = p->next;

        p->fn(p->arg);
        free(p);
        p = next;
    }
    if (atomic_load(&loop->stop_requested))
        begin_stop(loop);
}

static void on_sweep(uv_timer_t *t)
{
    http__conn_sweep(t->data);
}

static void on_prepare(uv_prepare_t *p)
{
    http__conn_resume_all(p->data);
}

int http_loop_post(struct http_loop *loop, void (*fn)(void *arg), void *arg)
{
    struct http__post *p = xmalloc(sizeof(*p));

    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    uv_mutex_lock(&loop->post_mu);
    if (loop->post_closed) {
        uv_mutex_unlock(&loop->post_mu);
        free(p);
        return -ESHUTDOWN;
    }
    if (loop->post_tail) {
        loop->post_tail->next = p;
    } else {
        loop->post_head = p;
    }
    loop->post_tail = p;
    /* Under the lock: finish() cannot close the handle between our check and the send. */
    uv_async_send(&loop->async);
    uv_mutex_unlock(&loop->post_mu);
    return 0;
}

static void worker_main(void *arg)
{
    struct http_loop *loop = arg;
    struct http_server *s = loop->srv;
    char name[16];

    snprintf(name, sizeof(name), "http-%u", loop->id);
    pthread_setname_np(pthread_self(), name);
    if (s->opts.loop_init)
        loop->ctx = s->opts.loop_init(s->opts.app, loop);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    if (s->opts.loop_fini)
        s->opts.loop_fini(s->opts.app, loop->ctx);
}

/* Sweep often enough that a timeout fires within a tenth of its length (10..250 ms). */
static uint64_t sweep_interval(const struct http_opts *o)
{
    uint64_t m = 2500;

    if (o->header_timeout_ms)
        m = MIN(m, o->header_timeout_ms);
    if (o->body_timeout_ms)
        m = MIN(m, o->body_timeout_ms);
    if (o->idle_timeout_ms)
        m = MIN(m, o->idle_timeout_ms);
    if (o->send_timeout_ms)
        m = MIN(m, o->send_timeout_ms);
    return MAX(10, MIN(250, m / 10));
}

static int loop_init(struct http_server *s, unsigned id, int fd)
{
    struct http_loop *loop = xcalloc(1, sizeof(*loop));
    int err;

    s->loops[id] = loop;
    loop->srv = s;
    loop->id = id;
    loop->listen_fd = fd;
    err = uv_loop_init(&loop->uv);
    if (err)
        return err;
    uv_mutex_init(&loop->post_mu);
    uv_async_init(&loop->uv, &loop->async, on_async);
    loop->async.data = loop;
    uv_timer_init(&loop->uv, &loop->accept_timer);
    loop->accept_timer.data = loop;
    uv_timer_init(&loop->uv, &loop->sweep_timer);
    loop->sweep_timer.data = loop;
    uv_timer_init(&loop->uv, &loop->shutdown_timer);
    loop->shutdown_timer.data = loop;
    uv_prepare_init(&loop->uv, &loop->prepare);
    loop->prepare.data = loop;
    err = uv_poll_init_socket(&loop->uv, &loop->listen_poll, fd);
    if (err)
        return err;
    loop->listen_poll.data = loop;
    loop->readbuf = xmalloc(HTTP_READ_BUF_SIZE);
    buf_init(&loop->out, HTTP_OUT_LIMIT);
    loop->cache = http__static_cache_new();
    uv_poll_start(&loop->listen_poll, UV_READABLE, on_listen_readable);
    uv_timer_start(&loop->sweep_timer, on_sweep, sweep_interval(&s->opts),
                   sweep_interval(&s->opts));
    uv_prepare_start(&loop->prepare, on_prepare);
    return 0;
}

/* Close a loop's handles and release it (after its thread ended, or if it never started). */
static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

static void loop_free(struct http_loop *loop)
{
    if (!loop)
        return;
    if (loop->uv.data != (void *)loop) {
        uv_walk(&loop->uv, on_walk_close, NULL);
        uv_run(&loop->uv, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&loop->uv))
        log_warn("http: loop %u still had handles at exit", loop->id);
    uv_mutex_destroy(&loop->post_mu);
    free(loop->readbuf);
    buf_release(&loop->out);
    http__static_cache_free(loop->cache);
    free(loop);
}

/* ---- start, stop ---- */

int http_listen_parse(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[64];
    const char *colon, *h = listen;
    size_t hlen;
    char *end;
    long port;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');

        if (!close || close[1] != ':')
            goto bad;
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        hlen = (size_t)(colon - listen);
    }
    if (hlen >= sizeof(host))
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (!hlen || !strcmp(host, "*")) {
        snprintf(host, sizeof(host), "0.0.0.0");
    } else if (!strcmp(host, "localhost")) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof(*ss));
    if (!uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) ||
        !uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss))
        return 0;
bad:
    snprintf(err, errlen,
             "listen: '%s' is not an address:port such as 127.0.0.1:8080 or "
             "[::1]:8080",
             listen);
    return -EINVAL;
}

static int listen_socket(const struct sockaddr_storage *ss, int *out)
{
    int one = 1;
    socklen_t len =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err;

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
        bind(fd, (const struct sockaddr *)ss, len) || listen(fd, LISTEN_BACKLOG)) {
        err = -errno;
        close(fd);
        return err;
    }
    *out = fd;
    return 0;
}

static void set_address(struct http_server *s, int fd)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "?";

    getsockname(fd, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
        snprintf(s->address, sizeof(s->address), "[%s]:%u", ip,
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
        snprintf(s->address, sizeof(s->address), "%s:%u", ip,
                 // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): ss is zero-initialised
                 ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
}

/*
 * The 503 for refused connections after its status line and Date, rendered once: it is written
 * without reading anything (see refuse()).
 */
static void render_refusal(struct http_server *s)
{
    size_t blen;
    char *body = json_error_body("overloaded",
                                 "The server is handling too many connections; retry in a few "
                                 "seconds.",
                                 NULL, &blen);
    struct buf b;
    int e = 0;

    buf_init(&b, 8192);
    e |= buf_printf(&b,
                    "Content-Type: application/json\r\n"
                    "Content-Length: %zu\r\nRetry-After: 5\r\nConnection: close\r\n",
                    blen);
    e |= buf_append(&b, s->sec_hdrs, s->sec_len);
    e |= buf_append(&b, "\r\n", 2);
    e |= buf_append(&b, body, blen);
    assert(!e);
    free(body);
    s->refusal = buf_take(&b, &s->refusal_len);
}

static void set_defaults(struct http_opts *o)
{
    if (!o->workers)
        o->workers = 1;
    if (!o->max_header_bytes)
        o->max_header_bytes = (size_t)16 * 1024;
    if (!o->max_body_bytes)
        o->max_body_bytes = (size_t)1024 * 1024;
    if (!o->shutdown_timeout_ms)
        o->shutdown_timeout_ms = 3000;
}

static int open_web_root(struct http_server *s, char *err, size_t errlen)
{
    char real[PATH_MAX];

    if (!s->opts.web_root || !s->opts.web_root[0])
        return 0;
    if (!realpath(s->opts.web_root, real)) {
        snprintf(err, errlen, "http: cannot use web root '%s': %s", s->opts.web_root,
                 strerror(errno));
        return -errno;
    }
    s->root_real = xstrdup(real);
    s->root_len = strlen(real);
    if (s->root_len == 1)
        s->root_len = 0; /* "/": every path is under it; "/x" + "/..." still starts with "/" */
    return 0;
}

static char *dup_or_null(const char *p)
{
    return p ? xstrdup(p) : NULL;
}

struct http_server *http_server_start(const struct http_opts *opts, char *err, size_t errlen)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    int *fds = NULL;
    unsigned i;
    int e;

    s->opts = *opts;
    set_defaults(&s->opts);
    s->opts.listen = s->listen = dup_or_null(opts->listen ? opts->listen : "127.0.0.1:8080");
    s->opts.web_root = s->web_root = dup_or_null(opts->web_root);
    s->opts.frame_ancestors = s->frame_ancestors = dup_or_null(opts->frame_ancestors);
    if (opts->ntrusted_proxies) {
        s->trusted = xmalloc(opts->ntrusted_proxies * sizeof(*s->trusted));
        memcpy(s->trusted, opts->trusted_proxies, opts->ntrusted_proxies * sizeof(*s->trusted));
    }
    s->opts.trusted_proxies = s->trusted;
    uv_mutex_init(&s->ip_mu);
    s->ip_tab = xcalloc(IP_BUCKETS, sizeof(struct http__ip *));
    if (http__router_init(&s->router, opts->routes, opts->nroutes, err, errlen) ||
        http__security_headers(s, err, errlen) || open_web_root(s, err, errlen) ||
        http_listen_parse(s->opts.listen, &ss, err, errlen))
        goto fail;
    render_refusal(s);
    fds = xmalloc(s->opts.workers * sizeof(*fds));
    for (i = 0; i < s->opts.workers; i++)
        fds[i] = -1;
    for (i = 0; i < s->opts.workers; i++) {
        e = listen_socket(&ss, &fds[i]);
        if (e) {
            snprintf(err, errlen, "listen: cannot bind %s: %s", s->opts.listen, strerror(-e));
            goto fail;
        }
        if (i == 0) {
            /* Port 0: the others join the port the kernel picked for the first. */
            socklen_t len = sizeof(ss);

            getsockname(fds[0], (struct sockaddr *)&ss, &len);
            set_address(s, fds[0]);
        }
    }
    s->nloops = s->opts.workers;
    s->loops = xcalloc(s->nloops, sizeof(struct http_loop *));
    for (i = 0; i < s->nloops; i++) {
        e = loop_init(s, i, fds[i]);
        fds[i] = -1; /* the loop owns it now */
        if (e) {
            snprintf(err, errlen, "http: cannot start worker loop: %s", uv_strerror(e));
            goto fail;
        }
    }
    for (i = 0; i < s->nloops; i++) {
        s->loops[i]->uv.data = s->loops[i]; /* marks "ran on a thread": finish() closes all */
        e = uv_thread_create(&s->loops[i]->thread, worker_main, s->loops[i]);
        if (e) {
            s->loops[i]->uv.data = NULL;
            /* Threads already running are stopped the normal way. */
            snprintf(err, errlen, "http: cannot start worker thread: %s", uv_strerror(e));
            s->nthreads = i;
            http_server_stop(s);
            goto fail;
        }
        s->nthreads = i + 1;
    }
    free(fds);
    return s;
fail:
    if (fds) {
        for (i = 0; i < s->opts.workers; i++) {
            if (fds[i] >= 0)
                close(fds[i]);
        }
    }
    free(fds);
    s->stopped = true;
    http_server_free(s);
    return NULL;
}

const char *http_server_address(const struct http_server *s)
{
    return s->address;
}

void http_server_stop(struct http_server *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = true;
    for (unsigned i = 0; i < s->nthreads; i++) {
        atomic_store(&s->loops[i]->stop_requested, true);
        uv_async_send(&s->loops[i]->async);
    }
    for (unsigned i = 0; i < s->nthreads; i++)
        uv_thread_join(&s->loops[i]->thread);
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    http_server_stop(s);
    for (unsigned i = 0; i < s->nloops; i++) {
        struct http_loop *loop = s->loops[i];

        if (loop && loop->uv.data != (void *)loop && loop->listen_fd >= 0) {
            /* Never ran: the listening socket is still ours to close. */
            close(loop->listen_fd);
            loop->listen_fd = -1;
        }
        loop_free(loop);
    }
    free(s->loops);
    http__router_release(&s->router);
    for (size_t i = 0; s->ip_tab && i < IP_BUCKETS; i++) {
        while (s->ip_tab[i]) {
            struct http__ip *e = s->ip_tab[i];

            s->ip_tab[i] = e->next;
            free(e);
        }
    }
    free(s->ip_tab);
    uv_mutex_destroy(&s->ip_mu);
    free(s->sec_hdrs);
    free(s->refusal);
    free(s->root_real);
    free(s->listen);
    free(s->web_root);
    free(s->frame_ancestors);
    free(s->trusted);
    free(s);
}

void http_server_stats(const struct http_server *s, struct http_stats *out)
{
    out->connections_open = atomic_load(&s->conns_open);
    out->connections_total = atomic_load(&s->conns_total);
    out->connections_refused = atomic_load(&s->refused);
    out->accept_paused = atomic_load(&s->accept_paused);
    for (int i = 0; i < 6; i++)
        out->requests_by_class[i] = atomic_load(&s->by_class[i]);
    out->latency = &s->latency;
}
