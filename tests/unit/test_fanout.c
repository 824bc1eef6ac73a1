/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The fan-out hub without a network: messages are encoded once and shared (the same pointer
 * reaches every subscriber), references are balanced (ASan finds a leak or a double free),
 * a slow subscriber is cut off without delaying the others, subscribers may vanish in the
 * middle of a delivery, and the store's event sink never hears of a rolled-back write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compiler.h"
#include "fanout/fanout.h"
#include "harness.h"
#include "store/channels.h"
#include "store/events.h"
#include "store/orgs.h"
#include "store/shared_int.h"
#include "store/store.h"
#include "test_db.h"

/* ---- a loop without libuv: posts are run when the test says so ---- */

struct fake_loop {
    void (*fn[64])(void *);
    void *arg[64];
    int n;
    bool refuse;
};

/* Posts come from the publisher's thread (or the heartbeat's): guard the list. */
static pthread_mutex_t post_mu = PTHREAD_MUTEX_INITIALIZER;

static int fake_post(void *ctx, void (*fn)(void *arg), void *arg)
{
    struct fake_loop *fl = ctx;
    int err = 0;

    pthread_mutex_lock(&post_mu);
    if (fl->refuse || fl->n == 64) {
        err = -ESHUTDOWN;
    } else {
        fl->fn[fl->n] = fn;
        fl->arg[fl->n++] = arg;
    }
    pthread_mutex_unlock(&post_mu);
    return err;
}

static void run_posts(struct fake_loop *fl)
{
    void (*fn[64])(void *);
    void *arg[64];
    int n;

    pthread_mutex_lock(&post_mu);
    n = fl->n;
    memcpy(fn, fl->fn, sizeof(fn));
    memcpy(arg, fl->arg, sizeof(arg));
    fl->n = 0;
    pthread_mutex_unlock(&post_mu);
    for (int i = 0; i < n; i++)
        fn[i](arg[i]);
}

/* ---- subscribers that record what they get ---- */

struct rec {
    struct fanout_sub *sub;
    struct fanout_msg *got[64]; /* references held, as a write in flight would */
    int n;
    int writes;     /* write calls: several messages may come in one */
    int last_write; /* messages in the last write */
    size_t unsent;
    int cutoffs;
    struct rec *kill_on_write; /* frees another subscriber from inside its write */
};

static size_t rec_unsent(void *ctx)
{
    return ((struct rec *)ctx)->unsent;
}

static void rec_write(void *ctx, struct fanout_msg *const *m, size_t n)
{
    struct rec *r = ctx;

    r->writes++;
    r->last_write = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (r->n < 64)
            r->got[r->n++] = fanout_msg_ref(m[i]);
    }
    if (r->kill_on_write && r->kill_on_write->sub) {
        fanout_sub_free(r->kill_on_write->sub);
        r->kill_on_write->sub = NULL;
    }
}

static void rec_cutoff(void *ctx)
{
    struct rec *r = ctx;

    r->cutoffs++;
    fanout_sub_free(r->sub);
    r->sub = NULL;
}

static const struct fanout_sub_ops rec_ops = { rec_unsent, rec_write, rec_cutoff };

static void rec_release(struct rec *r)
{
    for (int i = 0; i < r->n; i++)
        fanout_msg_unref(r->got[i]);
    r->n = 0;
    fanout_sub_free(r->sub);
    r->sub = NULL;
}

static struct fanout_event event(int64_t channel_id, const char *handle, int64_t seq,
                                 const char *payload)
{
    struct fanout_event e = {
        .channel_id = channel_id,
        .channel = handle,
        .seq = seq,
        .kind = "post.created",
        .payload = payload,
        .payload_len = strlen(payload),
        .created_ms = 1,
    };

    return e;
}

static bool view_is(const struct fanout_msg *m, enum fanout_wire w, const char *want)
{
    size_t len;
    const char *p = fanout_msg_bytes(m, w, &len);

    return len == strlen(want) && !memcmp(p, want, len);
}

TEST(an_event_is_encoded_once_into_every_view)
{
    struct fanout_event e = event(7, "comune-news", 12, "{\"id\":\"3\"}");
    struct fanout_msg *m = fanout_msg_new(&e);
    static const char ws[] =
        "{\"type\":\"event\",\"channel\":\"comune-news\",\"seq\":12,\"event\":\"post.created\","
        "\"data\":{\"id\":\"3\"}}";
    const unsigned char *f;
    size_t len;

    CHECK(m);
    CHECK(view_is(m, FANOUT_SSE,
                  "id: comune-news:12\nevent: post.created\ndata: {\"id\":\"3\"}\n\n"));
    CHECK(view_is(m, FANOUT_SSE_NOID, "event: post.created\ndata: {\"id\":\"3\"}\n\n"));
    CHECK(view_is(m, FANOUT_SSE_CHUNK,
                  "39\r\nid: comune-news:12\nevent: post.created\ndata: {\"id\":\"3\"}\n\n\r\n"));
    CHECK(view_is(m, FANOUT_SSE_NOID_CHUNK,
                  "26\r\nevent: post.created\ndata: {\"id\":\"3\"}\n\n\r\n"));
    f = (const unsigned char *)fanout_msg_bytes(m, FANOUT_WS, &len);
    CHECK_INT(f[0], ==, 0x81); /* FIN, text */
    CHECK_INT(f[1], ==, sizeof(ws) - 1);
    CHECK_INT(len, ==, 2 + sizeof(ws) - 1);
    CHECK(!memcmp(f + 2, ws, sizeof(ws) - 1));
    CHECK_INT(fanout_msg_seq(m), ==, 12);
    CHECK_INT(fanout_msg_channel_id(m), ==, 7);
    CHECK_STR(fanout_msg_channel(m), "comune-news");
    fanout_msg_unref(m);
}

TEST(a_payload_with_line_breaks_becomes_several_data_lines)
{
    struct fanout_event e = event(1, "a", 1, "x\ny\r\nz");
    struct fanout_msg *m = fanout_msg_new(&e);

    CHECK(m);
    CHECK(view_is(m, FANOUT_SSE_NOID, "event: post.created\ndata: x\ndata: y\ndata: z\n\n"));
    fanout_msg_unref(m);
}

TEST(a_large_payload_gets_a_16_bit_websocket_length)
{
    char *big = malloc(70000);
    struct fanout_event e;
    struct fanout_msg *m;
    const unsigned char *f;
    size_t len;

    memset(big, 'a', 69999);
    big[69999] = '\0';
    e = event(1, "a", 1, big);
    m = fanout_msg_new(&e);
    CHECK(m);
    f = (const unsigned char *)fanout_msg_bytes(m, FANOUT_WS, &len);
    CHECK_INT(f[1], ==, 127); /* over 65535: the 64-bit form */
    CHECK_INT(len, >, 70000);
    fanout_msg_unref(m);
    free(big);
}

TEST(unsafe_handles_kinds_and_seqs_are_refused)
{
    struct fanout_event e = event(1, "a\"b", 1, "{}");

    CHECK(!fanout_msg_new(&e));
    e = event(1, "a\nid: x", 1, "{}");
    CHECK(!fanout_msg_new(&e));
    e = event(1, "ok", 0, "{}");
    CHECK(!fanout_msg_new(&e));
    e = event(1, "ok", 1, "{}");
    e.kind = "post created";
    CHECK(!fanout_msg_new(&e));
}

TEST(one_message_is_shared_by_every_subscriber_of_every_loop)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl1 = { .n = 0 }, fl2 = { .n = 0 };
    struct fanout_loop *l1 = fanout_loop_new(f, fake_post, &fl1);
    struct fanout_loop *l2 = fanout_loop_new(f, fake_post, &fl2);
    struct rec r[6] = { { 0 } };
    struct fanout_event e[2] = { event(5, "c", 1, "{\"n\":1}"), event(5, "c", 2, "{\"n\":2}") };
    struct fanout_stats st;

    for (int i = 0; i < 6; i++) {
        r[i].sub = fanout_sub_new(i < 3 ? l1 : l2, &rec_ops, &r[i]);
        CHECK_INT(fanout_sub_join(r[i].sub, i == 5 ? 6 : 5), ==, 0);
    }
    CHECK_INT(fanout_sub_join(r[0].sub, 5), ==, -EEXIST);
    fanout_publish(f, e, 2);
    CHECK_INT(fl1.n, ==, 1); /* one wake-up per loop for the whole batch */
    CHECK_INT(fl2.n, ==, 1);
    run_posts(&fl1);
    run_posts(&fl2);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(r[i].n, ==, 2);
        CHECK(r[i].got[0] == r[0].got[0]); /* the same bytes, never a copy */
        CHECK(r[i].got[1] == r[0].got[1]);
        CHECK_INT(fanout_msg_seq(r[i].got[1]), ==, 2);
    }
    CHECK_INT(r[5].n, ==, 0); /* another channel */
    fanout_stats(f, &st);
    CHECK_INT(st.published, ==, 2);
    CHECK_INT(st.delivered, ==, 10);
    CHECK_INT(st.subscribers, ==, 6);
    for (int i = 0; i < 6; i++)
        rec_release(&r[i]); /* the last reference frees each message (ASan checks) */
    CHECK_INT(fanout_loop_subscribers(l1), ==, 0);
    CHECK_INT(fanout_loop_channels(l1), ==, 0);
    fanout_loop_free(l1);
    fanout_loop_free(l2);
    fanout_free(f);
}

TEST(events_of_one_channel_that_queued_up_reach_a_subscriber_in_one_write)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec a = { 0 }, b = { 0 };
    struct fanout_event e[FANOUT_RUN_MAX + 6];
    int k = 0;

    a.sub = fanout_sub_new(l, &rec_ops, &a);
    b.sub = fanout_sub_new(l, &rec_ops, &b);
    CHECK_INT(fanout_sub_join(a.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(b.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(b.sub, 6), ==, 0);
    /* Three posts of channel 5, one of channel 6, then a long run of channel 5. */
    for (int i = 1; i <= 3; i++)
        e[k++] = event(5, "c", i, "{}");
    e[k++] = event(6, "d", 1, "{}");
    for (int i = 4; i < 4 + FANOUT_RUN_MAX + 2; i++)
        e[k++] = event(5, "c", i, "{}");
    fanout_publish(f, e, 3); /* published apart, delivered together: the loop was busy */
    fanout_publish(f, e + 3, (size_t)k - 3);
    run_posts(&fl);
    /* a: 3 together, then FANOUT_RUN_MAX, then the 2 left; b also gets channel 6's alone. */
    CHECK_INT(a.writes, ==, 3);
    CHECK_INT(a.last_write, ==, 2);
    CHECK_INT(b.writes, ==, 4);
    CHECK_INT(a.n, ==, k - 1);
    CHECK_INT(b.n, ==, k);
    for (int i = 0; i < a.n; i++)
        CHECK_INT(fanout_msg_seq(a.got[i]), ==, i + 1); /* in publish order */
    CHECK_INT(fanout_msg_channel_id(b.got[3]), ==, 6);
    rec_release(&a);
    rec_release(&b);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_run_larger_than_the_queue_still_reaches_a_subscriber_that_keeps_up)
{
    struct fanout_opts o = { .queue_bytes = 100 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec fast = { 0 }, behind = { 0 };
    struct fanout_event e[4];

    for (int i = 0; i < 4; i++)
        e[i] = event(5, "c", i + 1, "{\"text\":\"forty bytes of text, more or less.\"}");
    fast.sub = fanout_sub_new(l, &rec_ops, &fast);
    behind.sub = fanout_sub_new(l, &rec_ops, &behind);
    CHECK_INT(fanout_sub_join(fast.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(behind.sub, 5), ==, 0);
    behind.unsent = 1;
    fanout_publish(f, e, 4); /* about 400 bytes in one run, four times the queue */
    run_posts(&fl);
    CHECK_INT(fast.n, ==, 4);
    CHECK_INT(fast.cutoffs, ==, 0);
    CHECK_INT(behind.cutoffs, ==, 1);
    rec_release(&fast);
    rec_release(&behind);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_long_fan_out_is_delivered_in_slices_that_let_the_loop_breathe)
{
    enum { N = FANOUT_SLICE * 2 + 10 };
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec *r = calloc(N + 1, sizeof(*r));
    struct fanout_event e1 = event(5, "c", 1, "{}"), e2 = event(5, "c", 2, "{}");
    int got = 0, slices = 0, both = 0;

    for (int i = 0; i < N; i++) {
        r[i].sub = fanout_sub_new(l, &rec_ops, &r[i]);
        CHECK_INT(fanout_sub_join(r[i].sub, 5), ==, 0);
    }
    fanout_publish(f, &e1, 1);
    run_posts(&fl); /* the first slice only; the loop is asked to come back */
    for (int i = 0; i < N; i++)
        got += r[i].n;
    CHECK_INT(got, ==, FANOUT_SLICE);
    CHECK_INT(fl.n, ==, 1);
    /* Between slices: a subscriber leaves, one joins (it replays seq 1 from the store), and
     * the next post arrives: it waits for the run in progress, then goes to everyone. */
    fanout_sub_free(r[0].sub); /* joined first: last in line, not reached yet */
    r[0].sub = NULL;
    r[N].sub = fanout_sub_new(l, &rec_ops, &r[N]);
    CHECK_INT(fanout_sub_join(r[N].sub, 5), ==, 0);
    fanout_publish(f, &e2, 1);
    CHECK_INT(fl.n, ==, 1); /* still one drain on its way */
    while (fl.n) {
        run_posts(&fl);
        slices++;
    }
    CHECK_INT(slices, >=, 3);
    CHECK_INT(r[0].n, ==, 0);
    CHECK_INT(r[N].n, ==, 1);
    CHECK_INT(fanout_msg_seq(r[N].got[0]), ==, 2);
    for (int i = 1; i < N; i++) {
        CHECK_INT(r[i].n, ==, 2);
        if (r[i].n == 2 && fanout_msg_seq(r[i].got[0]) == 1 && fanout_msg_seq(r[i].got[1]) == 2)
            both++;
    }
    CHECK_INT(both, ==, N - 1);
    for (int i = 0; i <= N; i++)
        rec_release(&r[i]);
    free(r);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_loop_freed_in_the_middle_of_a_fan_out_drops_the_rest_without_leaking)
{
    enum { N = FANOUT_SLICE + 5 };
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec *r = calloc(N, sizeof(*r));
    struct fanout_event e[2] = { event(5, "c", 1, "{}"), event(7, "x", 1, "{}") };

    for (int i = 0; i < N; i++) {
        r[i].sub = fanout_sub_new(l, &rec_ops, &r[i]);
        CHECK_INT(fanout_sub_join(r[i].sub, 5), ==, 0);
    }
    fanout_publish(f, e, 2);
    run_posts(&fl); /* paused inside the first run; the second waits in the batch */
    for (int i = 0; i < N; i++)
        rec_release(&r[i]);
    fl.refuse = true;
    fanout_loop_free(l); /* ASan: every reference dropped once */
    fanout_free(f);
    free(r);
}

TEST(a_notice_reaches_only_the_subscribers_of_its_key_in_order_with_events)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec a = { 0 }, b = { 0 };
    struct fanout_event e1 = event(5, "c", 1, "{}"), e2 = event(5, "c", 2, "{}");

    a.sub = fanout_sub_new(l, &rec_ops, &a);
    b.sub = fanout_sub_new(l, &rec_ops, &b);
    CHECK_INT(fanout_sub_join(a.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(b.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(a.sub, -77), ==, 0); /* a's private key */
    fanout_publish(f, &e1, 1);
    fanout_notify(f, -77);
    fanout_notify(f, -78); /* nobody's */
    fanout_notify(f, 9);   /* a channel id: refused */
    fanout_publish(f, &e2, 1);
    run_posts(&fl);
    CHECK_INT(a.n, ==, 3);
    CHECK_INT(b.n, ==, 2);
    CHECK(fanout_msg_type(a.got[0]) == FANOUT_EVENT);
    CHECK(fanout_msg_type(a.got[1]) == FANOUT_NOTICE);
    CHECK_INT(fanout_msg_channel_id(a.got[1]), ==, -77);
    CHECK_INT(fanout_msg_seq(a.got[2]), ==, 2); /* after the notice, never merged with it */
    rec_release(&a);
    rec_release(&b);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(an_access_marker_reaches_the_channel_alone_between_its_events)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec a = { 0 }, b = { 0 };
    struct fanout_event e[4] = { event(5, "c", 1, "{}"), event(5, "c", 2, "{}"),
                                 event(5, "c", 3, "{}"), event(5, "c", 4, "{}") };

    a.sub = fanout_sub_new(l, &rec_ops, &a);
    b.sub = fanout_sub_new(l, &rec_ops, &b);
    CHECK_INT(fanout_sub_join(a.sub, 5), ==, 0);
    CHECK_INT(fanout_sub_join(b.sub, 6), ==, 0);
    /* Queued together, as one batch: the events before and after must not become one run. */
    fanout_publish(f, e, 2);
    fanout_access(f, 5, "access.unlisted", 42);
    fanout_access(f, 6, "no spaces allowed", 1); /* a kind that is not a token: refused */
    fanout_access(f, -3, "access.deleted", 0);   /* not a channel id: refused */
    fanout_publish(f, e + 2, 2);
    run_posts(&fl);
    CHECK_INT(a.n, ==, 5);
    CHECK_INT(a.writes, ==, 3); /* events 1-2, the marker alone, events 3-4 */
    CHECK(fanout_msg_type(a.got[2]) == FANOUT_ACCESS);
    CHECK_INT(fanout_msg_channel_id(a.got[2]), ==, 5);
    CHECK_INT(fanout_msg_key(a.got[2]), ==, 42);
    CHECK_STR(fanout_msg_kind(a.got[2]), "access.unlisted");
    CHECK_INT(fanout_msg_seq(a.got[1]), ==, 2);
    CHECK_INT(fanout_msg_seq(a.got[3]), ==, 3);
    CHECK_INT(b.n, ==, 0); /* another channel's subscriber hears nothing */
    rec_release(&a);
    rec_release(&b);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_slow_subscriber_is_cut_off_and_the_others_still_get_everything)
{
    struct fanout_opts o = { .queue_bytes = 4096 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec r[3] = { { 0 } };
    struct fanout_event e = event(5, "c", 1, "{}");
    struct fanout_stats st;

    for (int i = 0; i < 3; i++) {
        r[i].sub = fanout_sub_new(l, &rec_ops, &r[i]);
        CHECK_INT(fanout_sub_join(r[i].sub, 5), ==, 0);
    }
    r[1].unsent = 4090; /* this one has not read for a while */
    fanout_publish(f, &e, 1);
    run_posts(&fl);
    CHECK_INT(r[1].cutoffs, ==, 1);
    CHECK_INT(r[1].n, ==, 0);
    CHECK(!r[1].sub);
    CHECK_INT(r[0].n, ==, 1);
    CHECK_INT(r[2].n, ==, 1);
    e.seq = 2;
    fanout_publish(f, &e, 1);
    run_posts(&fl);
    CHECK_INT(r[0].n, ==, 2);
    CHECK_INT(r[2].n, ==, 2);
    CHECK_INT(r[1].cutoffs, ==, 1); /* gone: nothing more reaches it */
    fanout_stats(f, &st);
    CHECK_INT(st.cutoffs, ==, 1);
    for (int i = 0; i < 3; i++)
        rec_release(&r[i]);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_subscriber_freed_during_a_delivery_is_skipped_safely)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec r[4] = { { 0 } };
    struct fanout_event e = event(5, "c", 1, "{}");
    int total = 0;

    for (int i = 0; i < 4; i++) {
        r[i].sub = fanout_sub_new(l, &rec_ops, &r[i]);
        CHECK_INT(fanout_sub_join(r[i].sub, 5), ==, 0);
    }
    /* Joined at the head: r[3] is delivered first; it frees r[2], the next in line. */
    r[3].kill_on_write = &r[2];
    fanout_publish(f, &e, 1);
    run_posts(&fl);
    for (int i = 0; i < 4; i++)
        total += r[i].n;
    CHECK_INT(total, ==, 3);
    CHECK_INT(r[2].n, ==, 0);
    for (int i = 0; i < 4; i++)
        rec_release(&r[i]);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(leaving_a_channel_stops_its_messages_and_frees_the_channel)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec r = { 0 };
    struct fanout_event e = event(9, "c", 1, "{}");

    r.sub = fanout_sub_new(l, &rec_ops, &r);
    CHECK_INT(fanout_sub_join(r.sub, 9), ==, 0);
    CHECK_INT(fanout_loop_channels(l), ==, 1);
    CHECK_INT(fanout_sub_leave(r.sub, 9), ==, 0);
    CHECK_INT(fanout_sub_leave(r.sub, 9), ==, -ENOENT);
    CHECK_INT(fanout_loop_channels(l), ==, 0);
    fanout_publish(f, &e, 1);
    run_posts(&fl);
    CHECK_INT(r.n, ==, 0);
    rec_release(&r);
    fanout_loop_free(l);
    fanout_free(f);
}

TEST(a_stopping_loop_drops_its_messages_without_leaking)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .refuse = true };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct fanout_event e = event(9, "c", 1, "{}");

    fanout_publish(f, &e, 1); /* queued, the post refused: freed with the loop */
    fanout_loop_free(l);
    fanout_publish(f, &e, 1); /* no loop at all */
    fanout_free(f);
}

TEST(heartbeats_reach_every_subscriber)
{
    struct fanout_opts o = { .queue_bytes = 1 << 20, .heartbeat_ms = 20 };
    struct fanout *f = fanout_new(&o);
    struct fake_loop fl = { .n = 0 };
    struct fanout_loop *l = fanout_loop_new(f, fake_post, &fl);
    struct rec r[2] = { { 0 } };

    r[0].sub = fanout_sub_new(l, &rec_ops, &r[0]);
    r[1].sub = fanout_sub_new(l, &rec_ops, &r[1]);
    CHECK_INT(fanout_sub_join(r[1].sub, 3), ==, 0);
    for (int i = 0; i < 100 && (!r[0].n || !r[1].n); i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };

        nanosleep(&ts, NULL);
        /* The heartbeat thread posts; take the loop's part under no lock (single reader). */
        run_posts(&fl);
    }
    CHECK_INT(r[0].n, >=, 1);
    CHECK_INT(r[1].n, >=, 1);
    CHECK(fanout_msg_type(r[0].got[0]) == FANOUT_HEARTBEAT);
    CHECK(view_is(r[0].got[0], FANOUT_SSE, ":\n\n"));
    for (int i = 0; i < 2; i++)
        rec_release(&r[i]);
    fanout_loop_free(l);
    fanout_free(f);
}

/* ---- the store's sink ---- */

struct sink_log {
    int n;
    int64_t seq[16];
    char kind[16][32];
};

/* The writer thread (SQLite) or the listener thread (PostgreSQL) calls it: n is published last. */
static void sink(void *ctx, const struct store_event *ev, size_t n)
{
    struct sink_log *sl = ctx;
    int k = __atomic_load_n(&sl->n, __ATOMIC_RELAXED);

    for (size_t i = 0; i < n && k < 16; i++, k++) {
        sl->seq[k] = ev[i].seq;
        snprintf(sl->kind[k], sizeof(sl->kind[0]), "%s", ev[i].kind);
    }
    __atomic_store_n(&sl->n, k, __ATOMIC_RELEASE);
}

/*
 * How many entries the sink has heard, once it has heard `want` (or 5 s passed). On SQLite the
 * sink runs before a write is reported; on PostgreSQL a moment after, from the listener.
 */
static int sink_heard(struct sink_log *sl, int want)
{
    for (int t = 0; t < 500 && __atomic_load_n(&sl->n, __ATOMIC_ACQUIRE) < want; t++)
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
    return __atomic_load_n(&sl->n, __ATOMIC_ACQUIRE);
}

/* A write that appends an event and then fails or succeeds, as a real one might. */
struct ev_write {
    struct store_write w;
    int64_t channel_id;
    const char *kind;
    int fail;
};

static int ev_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    struct ev_write *e = container_of(w, struct ev_write, w);
    int err = store__event(tx, e->channel_id, e->kind, "{}", id);

    return err ? err : e->fail;
}

static void ev_free(struct store_write *w)
{
    free(container_of(w, struct ev_write, w));
}

static const struct store_write_op ev_op = { "test_event", ev_apply, ev_free };

static int ev_submit(struct store *s, int64_t channel_id, const char *kind, int fail,
                     store_done_fn *done)
{
    struct ev_write *e = calloc(1, sizeof(*e));

    e->w.op = &ev_op;
    e->channel_id = channel_id;
    e->kind = kind;
    e->fail = fail;
    return store__submit(s, &e->w, done, NULL, NULL);
}

static void quiet_done(void *ctx, int err, int64_t id)
{
    (void)ctx;
    (void)err;
    (void)id;
}

struct replayed {
    int n;
    int64_t seq[16];
};

static void each(void *ctx, const struct store_event *ev)
{
    struct replayed *r = ctx;

    if (r->n < 16)
        r->seq[r->n++] = ev->seq;
}

TEST(the_sink_hears_committed_events_only_and_replay_matches)
{
    char dir[512], err[256] = "";
    struct store_opts so = { 0 };
    struct store_org_fields of = { .set = STORE_ORG_F_NAME, .name = "Comune" };
    struct store_channel_fields cf = {
        .handle = "canale",
        .name = "Canale",
        .category = "news",
        .language = "it",
        .has_listed = true,
        .listed = true,
    };
    struct sink_log sl = { 0 };
    struct replayed rp = { 0 };
    struct store *s;
    struct store_reader *rd;
    int64_t op = 0, org = 0, ch = 0, last = 0;

    snprintf(dir, sizeof(dir), "%s/sink", harness_tmpdir());
    so.data_dir = dir;
    so.database_url = test_database_url(dir);
    s = store_open(&so, err, sizeof(err));
    CHECK(s);
    store_set_event_sink(s, sink, &sl);
    CHECK_INT(
        store_user_add(s, "op@x.it", STORE_ROLE_OPERATOR, "$argon2id$x", false, NULL, NULL, &op),
        ==, 0);
    CHECK_INT(store_org_add(s, op, "comune", &of, NULL, NULL, &org), ==, 0);
    CHECK_INT(store_channel_create(s, org, op, &cf, NULL, NULL, &ch), ==, 0);
    /* Queued together, most likely one batch: the failing one's event must vanish. */
    CHECK_INT(ev_submit(s, ch, "post.created", 0, quiet_done), ==, 0);
    CHECK_INT(ev_submit(s, ch, "post.edited", -EINVAL, quiet_done), ==, 0);
    CHECK_INT(ev_submit(s, ch, "post.deleted", 0, NULL), ==, 0); /* waits: all three are done */
    CHECK_INT(sink_heard(&sl, 2), ==, 2);
    CHECK_STR(sl.kind[0], "post.created");
    CHECK_STR(sl.kind[1], "post.deleted");
    CHECK_INT(sl.seq[0], ==, 1);
    CHECK_INT(sl.seq[1], ==, 2); /* the rolled-back seq was reused: no gap */
    rd = store_reader_open(s, err, sizeof(err));
    CHECK(rd);
    CHECK_INT(store_events_since(rd, ch, 0, 10, each, &rp, &last), ==, 0);
    CHECK_INT(rp.n, ==, 2);
    CHECK_INT(rp.seq[1], ==, 2);
    CHECK_INT(last, ==, 2);
    rp.n = 0;
    CHECK_INT(store_events_since(rd, ch, 1, 10, each, &rp, &last), ==, 0);
    CHECK_INT(rp.n, ==, 1);
    rp.n = 0;
    CHECK_INT(store_events_since(rd, ch, 2, 10, each, &rp, &last), ==, 0);
    CHECK_INT(rp.n, ==, 0);
    CHECK_INT(store_events_since(rd, ch, 3, 10, each, &rp, &last), ==, -ERANGE);
    CHECK_INT(store_events_since(rd, ch + 100, 0, 10, each, &rp, &last), ==, -ENOENT);
    store_reader_close(rd);
    store_close(s);
}

TEST(access_markers_reach_the_sink_in_commit_order_and_are_not_stored)
{
    char dir[512], err[256] = "";
    struct store_opts so = { 0 };
    struct store_org_fields of = { .set = STORE_ORG_F_NAME, .name = "Comune" };
    struct store_channel_fields cf = {
        .handle = "canale",
        .name = "Canale",
        .category = "news",
        .language = "it",
        .has_listed = true,
        .listed = true,
    };
    struct store_channel_fields unlist = { .has_listed = true, .listed = false };
    struct sink_log sl = { 0 };
    struct replayed rp = { 0 };
    struct store *s;
    struct store_reader *rd;
    int64_t op = 0, org = 0, ch = 0, last = 0;

    snprintf(dir, sizeof(dir), "%s/markers", harness_tmpdir());
    so.data_dir = dir;
    so.database_url = test_database_url(dir);
    s = store_open(&so, err, sizeof(err));
    CHECK(s);
    store_set_event_sink(s, sink, &sl);
    CHECK_INT(
        store_user_add(s, "op@x.it", STORE_ROLE_OPERATOR, "$argon2id$x", false, NULL, NULL, &op),
        ==, 0);
    CHECK_INT(store_org_add(s, op, "comune", &of, NULL, NULL, &org), ==, 0);
    CHECK_INT(store_channel_create(s, org, op, &cf, NULL, NULL, &ch), ==, 0);
    CHECK_INT(store_channel_update(s, ch, op, &unlist, "{}", NULL, NULL), ==, 0);
    CHECK_INT(sink_heard(&sl, 2), ==, 2);
    CHECK_STR(sl.kind[0], STORE_ACCESS_UNLISTED); /* before the event that tells of it */
    CHECK_INT(sl.seq[0], ==, 0);
    CHECK_STR(sl.kind[1], "channel.updated");
    CHECK_INT(sl.seq[1], ==, 1);
    rd = store_reader_open(s, err, sizeof(err));
    CHECK(rd);
    CHECK_INT(store_events_since(rd, ch, 0, 10, each, &rp, &last), ==, 0);
    CHECK_INT(rp.n, ==, 1); /* the marker is not an event: not stored, not numbered */
    CHECK_INT(last, ==, 1);
    store_reader_close(rd);
    CHECK_INT(store_channel_delete(s, ch, op, NULL, NULL), ==, 0);
    CHECK_INT(sink_heard(&sl, 3), ==, 3);
    CHECK_STR(sl.kind[2], STORE_ACCESS_DELETED);
    store_close(s);
}
