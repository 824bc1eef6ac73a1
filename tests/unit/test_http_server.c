/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The server on 127.0.0.1:0 with a few test routes: answers posted from another thread (also
 * after the client left), streams and their on_close on shutdown, graceful stop with a request
 * in flight, statistics. Only loopback; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http/http.h"

static atomic_int stream_closed;
static atomic_int answered_late;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static void h_sync(struct http_req *r)
{
    http_respond(r, 200, "text/plain", "ok", 2);
}

static void answer_late(void *arg)
{
    struct http_req *r = arg;

    http_respond(r, 200, "text/plain", "late", 4);
    atomic_fetch_add(&answered_late, 1);
}

/* A store commit in miniature: another thread finishes the work and posts the answer back. */
static void *later_thread(void *arg)
{
    struct http_req *r = arg;

    sleep_ms(150);
    if (http_loop_post(http_req_loop(r), answer_late, r) != 0)
        abort();
    return NULL;
}

static void h_later(struct http_req *r)
{
    pthread_t t;

    pthread_create(&t, NULL, later_thread, r);
    pthread_detach(t);
}

static void on_stream_close(struct http_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
    atomic_fetch_add(&stream_closed, 1);
}

static void h_stream(struct http_req *r)
{
    if (http_stream_start(r, 200, "text/event-stream", on_stream_close, NULL))
        return;
    (void)!http_stream_write(r, "data: hello\n\n", 13);
}

static const struct http_route routes[] = {
    { HTTP_M_GET, 0, "/sync", h_sync, 0, NULL },
    { HTTP_M_GET, 0, "/later", h_later, 0, NULL },
    { HTTP_M_GET, 0, "/stream", h_stream, 0, NULL },
};

static struct http_server *start(void)
{
    struct http_opts o;
    char err[256];
    struct http_server *s;

    memset(&o, 0, sizeof(o));
    o.listen = "127.0.0.1:0";
    o.workers = 2;
    o.max_header_bytes = 8192;
    o.max_body_bytes = 4096;
    o.header_timeout_ms = 5000;
    o.body_timeout_ms = 5000;
    o.idle_timeout_ms = 5000;
    o.max_connections = 100;
    o.max_connections_per_ip = 100;
    o.shutdown_timeout_ms = 2000;
    o.frame_ancestors = "'none'";
    o.routes = routes;
    o.nroutes = sizeof(routes) / sizeof(routes[0]);
    s = http_server_start(&o, err, sizeof(err));
    if (!s)
        fprintf(stderr, "start: %s\n", err);
    return s;
}

static int connect_to(struct http_server *s)
{
    const char *addr = http_server_address(s);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_port = htons((uint16_t)strtol(strrchr(addr, ':') + 1, NULL, 10));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until `want` appears, the peer closes, or `ms` pass. */
static size_t read_until(int fd, char *out, size_t cap, const char *want, int ms)
{
    size_t n = 0;

    out[0] = '\0';
    while (n + 1 < cap) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;

        if (poll(&p, 1, ms) <= 0)
            break;
        r = read(fd, out + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        out[n] = '\0';
        if (want && strstr(out, want))
            break;
    }
    return n;
}

static int send_str(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

TEST(sync_and_later_answers_arrive_in_order_when_pipelined)
{
    struct http_server *s = start();
    char buf[8192];
    int fd;
    char *a, *b, *c;

    CHECK(s);
    fd = connect_to(s);
    CHECK(fd >= 0);
    CHECK_INT(send_str(fd,
                       "GET /later HTTP/1.1\r\nHost: t\r\n\r\nGET /sync HTTP/1.1\r\nHost: t\r\n\r\n"
                       "GET /later HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
              ==, 0);
    read_until(fd, buf, sizeof(buf), NULL, 3000);
    close(fd);
    a = strstr(buf, "\r\n\r\nlate");
    b = strstr(buf, "\r\n\r\nok");
    c = a ? strstr(a + 4, "\r\n\r\nlate") : NULL;
    CHECK(a && b && c && a < b && b < c);
    http_server_stop(s);
    http_server_free(s);
}

TEST(answer_after_the_client_left_is_dropped_safely)
{
    struct http_server *s = start();
    struct http_stats st;
    int fd, before = atomic_load(&answered_late);

    CHECK(s);
    fd = connect_to(s);
    CHECK(fd >= 0);
    CHECK_INT(send_str(fd, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"), ==, 0);
    sleep_ms(30);
    close(fd); /* gone before the answer */
    for (int i = 0; i < 100 && atomic_load(&answered_late) == before; i++)
        sleep_ms(10);
    CHECK_INT(atomic_load(&answered_late), ==, before + 1);
    sleep_ms(20);
    http_server_stats(s, &st);
    CHECK_INT(st.connections_open, ==, 0);
    CHECK(st.connections_total >= 1);
    http_server_stop(s);
    http_server_free(s);
}

TEST(stop_waits_for_an_answer_in_flight_and_ends_streams)
{
    struct http_server *s = start();
    char buf[4096], sbuf[4096];
    int fd, sfd, closed_before = atomic_load(&stream_closed);

    CHECK(s);
    sfd = connect_to(s);
    CHECK(sfd >= 0);
    CHECK_INT(send_str(sfd, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"), ==, 0);
    read_until(sfd, sbuf, sizeof(sbuf), "hello", 2000);
    CHECK(strstr(sbuf, "Transfer-Encoding: chunked") != NULL);
    CHECK(strstr(sbuf, "data: hello") != NULL);
    fd = connect_to(s);
    CHECK(fd >= 0);
    CHECK_INT(send_str(fd, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"), ==, 0);
    sleep_ms(30);
    http_server_stop(s); /* blocks until the late answer went out */
    CHECK_INT(atomic_load(&stream_closed), ==, closed_before + 1);
    read_until(fd, buf, sizeof(buf), "late", 1000);
    CHECK(strstr(buf, "HTTP/1.1 200 OK") != NULL);
    CHECK(strstr(buf, "Connection: close") != NULL);
    read_until(sfd, sbuf, sizeof(sbuf), "0\r\n\r\n", 1000);
    close(fd);
    close(sfd);
    http_server_free(s);
}

TEST(stats_count_requests_by_class)
{
    struct http_server *s = start();
    struct http_stats st;
    char buf[4096];
    int fd;

    CHECK(s);
    fd = connect_to(s);
    CHECK(fd >= 0);
    CHECK_INT(send_str(fd, "GET /sync HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /api/none HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
              ==, 0);
    read_until(fd, buf, sizeof(buf), NULL, 2000);
    close(fd);
    http_server_stats(s, &st);
    CHECK_INT(st.requests_by_class[2], ==, 1);
    CHECK_INT(st.requests_by_class[4], ==, 1);
    CHECK(st.latency != NULL);
    http_server_stop(s);
    http_server_free(s);
}

TEST(bind_failure_is_reported)
{
    struct http_opts o;
    char err[256] = "";

    memset(&o, 0, sizeof(o));
    o.listen = "not-an-address";
    o.workers = 1;
    CHECK(http_server_start(&o, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "not-an-address") != NULL);
}
