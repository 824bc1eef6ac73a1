/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Staff sign-in with a session cookie, sign-out, the current session, and password change.
 *
 * argon2id takes tens of milliseconds on purpose, so it never runs on an event loop: the check
 * goes to a small work pool (core/workpool.h) and its outcome comes back with http_loop_post().
 * Failed attempts are rate-limited per account and per client address: each attempt reserves a
 * failure before any hashing and gets it back when the password was right, so parallel guesses
 * cannot outrun the limit. An unknown e-mail costs the same hash as a wrong password, with the
 * same answer, so the answers do not tell which accounts exist.
 *
 * The reservations are this process's (core/ratelimit.h); the failures themselves are also
 * written to the database (store/cluster.h) before the wrong answer goes out, and read before
 * each check, so that on several nodes behind a load balancer a guesser spreading attempts
 * over the nodes meets the same limits. There they count per window of LOGIN_WINDOW_MS from
 * the first failure. Only guesses in flight at the same moment on different nodes can pass
 * the limit, each node's reservations bounding its own.
 */
#include "api/api_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/password.h"
#include "core/ratelimit.h"
#include "core/secret.h"
#include "core/workpool.h"
#include "store/cluster.h"
#include "store/orgs.h"

/* A session lives at most 7 days from sign-in, whatever its use (idle limit: api/auth.c). */
#define SESSION_ABSOLUTE_MS (7LL * 24 * 3600 * 1000)
#define SESSION_TOKEN_LEN   64

/*
 * Failed sign-ins allowed per window: 5 per account (a person mistyping, not a guesser) and 20
 * per client address (an office behind one NAT), refilling over 15 minutes. Each table is
 * bounded to RATE_SLOTS buckets (~24 bytes each).
 */
#define LOGIN_FAILS_PER_ACCOUNT 5
#define LOGIN_FAILS_PER_IP      20
#define LOGIN_WINDOW_MS         (15LL * 60 * 1000)
#define RATE_SLOTS              8192

/* Two hashing threads (each hash uses 19 MiB); past 64 waiting checks, answer 503. */
#define HASH_THREADS   2
#define HASH_QUEUE_MAX 64

#define EMAIL_MAX 255
#define BODY_MAX  4096

static struct workpool *pool;
static struct ratelimit *by_account;
static struct ratelimit *by_ip;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    /* Created by the first request on a loop thread, so the threads inherit its signal mask. */
    pool = workpool_new(HASH_THREADS, HASH_QUEUE_MAX);
    if (!pool) {
        log_error("api: cannot start the password hashing threads");
        abort();
    }
    by_account = ratelimit_new(RATE_SLOTS, LOGIN_FAILS_PER_ACCOUNT, LOGIN_WINDOW_MS);
    by_ip = ratelimit_new(RATE_SLOTS, LOGIN_FAILS_PER_IP, LOGIN_WINDOW_MS);
}

struct workpool *api__hash_pool(void)
{
    pthread_once(&init_once, init);
    return pool;
}

/* A hash of a random password, to spend the same time on unknown e-mails (worker thread). */
static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    char pw[32];

    password_generate(pw, sizeof(pw));
    if (password_hash(pw, dummy_hash, sizeof(dummy_hash)) != 0)
        dummy_hash[0] = '\0';
    explicit_bzero(pw, sizeof(pw));
}

enum pw_kind { PW_LOGIN, PW_CHANGE };

/* One password check (and, for a change, the new hash), carried to a worker and back. */
struct pw_job {
    enum pw_kind kind;
    struct http_req *req;
    struct http_loop *loop;
    struct store_user user;
    bool found;  /* the account exists (else the dummy hash is checked) */
    bool ok;     /* the password matched */
    bool secure; /* the request came over TLS (cookie gets Secure) */
    int hash_err;
    int64_t session_id; /* change: the session to keep */
    char *password;     /* login: the password; change: the current one */
    char *new_password; /* change only */
    char hash[PASSWORD_HASH_MAX];
    char new_hash[PASSWORD_HASH_MAX];
    char acct_key[EMAIL_MAX + 8];
    char ip_key[80];
    char token[SESSION_TOKEN_LEN];
};

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void job_free(struct pw_job *j)
{
    if (!j)
        return;
    wipe_free(j->password);
    wipe_free(j->new_password);
    explicit_bzero(j, sizeof(*j));
    free(j);
}

static void retry_after(struct http_req *r, int64_t ms)
{
    char v[24];

    snprintf(v, sizeof(v), "%lld", (long long)((ms + 999) / 1000 > 0 ? (ms + 999) / 1000 : 1));
    http_resp_header(r, "Retry-After", v);
}

static void answer_limited(struct http_req *r, int64_t ms)
{
    retry_after(r, ms);
    http_respond_error(r, 429, "too_many_attempts",
                       "Too many failed sign-in attempts: wait before trying again (see "
                       "Retry-After, in seconds).",
                       NULL);
}

/*
 * The failures every node has charged (shared_limited): 429 (returning true) when either key
 * is at its limit in its window. A store error lets the local limits decide.
 */
static bool shared_limited(struct http_req *r, const struct pw_job *j)
{
    static const int64_t cap[2] = { LOGIN_FAILS_PER_ACCOUNT, LOGIN_FAILS_PER_IP };
    uint8_t key[2][SECRET_HASH_LEN];
    int64_t now = clock_now_ms();
    int64_t wait = 0;

    secret_sha256(j->acct_key, strlen(j->acct_key), key[0]);
    secret_sha256(j->ip_key, strlen(j->ip_key), key[1]);
    for (int i = 0; i < 2; i++) {
        int64_t fails = 0, since = 0;

        if (store_signin_failures(api__reader(r), key[i], now, LOGIN_WINDOW_MS, &fails, &since) ==
                0 &&
            fails >= cap[i] && since + LOGIN_WINDOW_MS - now > wait)
            wait = since + LOGIN_WINDOW_MS - now;
    }
    if (!wait)
        return false;
    answer_limited(r, wait);
    return true;
}

/*
 * Reserve one failure from each bucket before the password is checked, and answer 429 (returning
 * true) when either is empty. Reserving rather than only checking is what bounds concurrent
 * guesses: 60 wrong passwords sent at once would all pass a check made before any of them is
 * charged. A check that then succeeds gives the reservation back (refund()).
 */
static bool limited(struct http_req *r, const struct pw_job *j)
{
    int64_t a = 0, b = 0;
    int64_t now = clock_now_ms();

    if (ratelimit_take(by_account, j->acct_key, strlen(j->acct_key), now, &a) != 0) {
        if (ratelimit_check(by_ip, j->ip_key, strlen(j->ip_key), now, &b) == 0)
            b = 0; /* the longer wait of the two, as before */
        answer_limited(r, a > b ? a : b);
        return true;
    }
    if (ratelimit_take(by_ip, j->ip_key, strlen(j->ip_key), now, &b) != 0) {
        ratelimit_give(by_account, j->acct_key, strlen(j->acct_key), now);
        answer_limited(r, b);
        return true;
    }
    if (shared_limited(r, j)) {
        ratelimit_give(by_account, j->acct_key, strlen(j->acct_key), now);
        ratelimit_give(by_ip, j->ip_key, strlen(j->ip_key), now);
        return true;
    }
    return false;
}

/* The reservation did not end in a failed check (right password, or a server error). */
static void refund(const struct pw_job *j)
{
    int64_t now = clock_now_ms();

    ratelimit_give(by_account, j->acct_key, strlen(j->acct_key), now);
    ratelimit_give(by_ip, j->ip_key, strlen(j->ip_key), now);
}

static void set_keys(struct http_req *r, struct pw_job *j, const char *email)
{
    size_t n = (size_t)snprintf(j->acct_key, sizeof(j->acct_key), "acct:%s", email);

    for (size_t i = 0; i < n && j->acct_key[i]; i++) {
        if (j->acct_key[i] >= 'A' && j->acct_key[i] <= 'Z')
            j->acct_key[i] = (char)(j->acct_key[i] - 'A' + 'a');
    }
    snprintf(j->ip_key, sizeof(j->ip_key), "ip:%s", http_req_peer(r));
}

/* ---- the worker side ---- */

static void job_on_loop(void *arg);

static void job_work(void *arg)
{
    struct pw_job *j = arg;

    pthread_once(&dummy_once, dummy_init);
    if (j->found) {
        j->ok = password_verify(j->password, j->hash);
    } else {
        /* Same work as a real check, and never a match. */
        (void)password_verify(j->password, dummy_hash);
        j->ok = false;
    }
    if (j->ok && j->kind == PW_CHANGE)
        j->hash_err = password_hash(j->new_password, j->new_hash, sizeof(j->new_hash));
    wipe_free(j->password);
    j->password = NULL;
    wipe_free(j->new_password);
    j->new_password = NULL;
    if (http_loop_post(j->loop, job_on_loop, j) != 0)
        job_free(j); /* the loop is stopping: its connections are closed */
}

static void submit(struct http_req *r, struct pw_job *j)
{
    int err = workpool_submit(pool, job_work, j);

    if (err) {
        refund(j);
        job_free(j);
        api__errno(r, -ENOBUFS, "password check");
    }
}

/* ---- failures every node sees ---- */

static void failed_answer(struct http_req *r, int err, int64_t id, void *data)
{
    struct pw_job *j = data;

    (void)err; /* not recorded (queue full, say): the local reservation still counts */
    (void)id;
    if (j->kind == PW_LOGIN) {
        http_respond_error(r, 401, "invalid_credentials",
                           "Wrong e-mail or password: check them and try again.", NULL);
    } else {
        http_respond_error(r, 403, "wrong_password",
                           "The current password is wrong: type it again.", "current_password");
    }
    job_free(j);
}

/*
 * A wrong password: charge the failure to the account and the address in the database, then
 * answer, so that the next attempt sees it on whichever node it reaches. Takes `j`.
 */
static void charge_failure(struct http_req *r, struct pw_job *j)
{
    uint8_t key[2][SECRET_HASH_LEN];
    struct api_pending *p;
    int err;

    secret_sha256(j->acct_key, strlen(j->acct_key), key[0]);
    secret_sha256(j->ip_key, strlen(j->ip_key), key[1]);
    p = api__pending_new(r, failed_answer, j);
    err = store_signin_fail(api__app(r)->store, (const uint8_t(*)[SECRET_HASH_LEN])key, 2,
                            LOGIN_WINDOW_MS, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        failed_answer(r, err, 0, j);
    }
}

static void cleared(void *ctx, int err, int64_t id)
{
    (void)ctx;
    (void)err;
    (void)id;
}

/* A right password: the account's failures are forgotten on every node (best effort). */
static void clear_failures(struct http_req *r, const struct pw_job *j)
{
    uint8_t key[SECRET_HASH_LEN];

    secret_sha256(j->acct_key, strlen(j->acct_key), key);
    if (store_signin_clear(api__app(r)->store, key, cleared, NULL) != 0)
        log_debug("api: sign-in failures not cleared (store busy)");
}

/* ---- JSON ---- */

static json_t *user_json(struct http_req *r, const struct store_user *u)
{
    struct store_org *o = NULL;
    char id[24];
    char created[32];
    json_t *v;

    snprintf(id, sizeof(id), "%lld", (long long)u->id);
    clock_rfc3339(u->created_ms, created, sizeof(created));
    v = json_pack("{s:s, s:s, s:s, s:n, s:b, s:s}", "id", id, "email", u->email, "role",
                  store_role_name(u->role), "org", "must_change_password", u->must_change_password,
                  "created_at", created);
    if (u->org_id) {
        o = xmalloc(sizeof(*o));
        if (!store_org_get_id(api__reader(r), u->org_id, o))
            json_object_set_new(v, "org", json_string(o->slug));
        free(o);
    }
    return v;
}

static void answer_session(struct http_req *r, const struct store_user *u, const char *token)
{
    char csrf[64];

    api__csrf_token(token, csrf, sizeof(csrf));
    api__json(r, 200, json_pack("{s:o, s:s}", "user", user_json(r, u), "csrf_token", csrf));
}

/* ---- POST /api/v1/session ---- */

static void login_created(struct http_req *r, int err, int64_t id, void *data)
{
    struct pw_job *j = data;
    char cookie[256];

    (void)id;
    if (err == -ENOENT) {
        /* Disabled while the password was being checked. */
        http_respond_error(r, 401, "invalid_credentials",
                           "Wrong e-mail or password: check them and try again.", NULL);
    } else if (err) {
        api__errno(r, err, "session create");
    } else {
        snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
                 API_SESSION_COOKIE, j->token, SESSION_ABSOLUTE_MS / 1000,
                 j->secure ? "; Secure" : "");
        http_resp_header(r, "Set-Cookie", cookie);
        explicit_bzero(cookie, sizeof(cookie));
        answer_session(r, &j->user, j->token);
    }
    job_free(j);
}

static void login_checked(struct http_req *r, struct pw_job *j)
{
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *p;
    int err;

    if (!j->ok) {
        /* Charged here when it was reserved (limited()); now for every node too. */
        charge_failure(r, j);
        return;
    }
    refund(j);
    ratelimit_reset(by_account, j->acct_key, strlen(j->acct_key));
    clear_failures(r, j);
    secret_token("as", j->token, sizeof(j->token));
    secret_sha256(j->token, strlen(j->token), hash);
    p = api__pending_new(r, login_created, j);
    err = store_session_add(api__app(r)->store, j->user.id, hash,
                            clock_now_ms() + SESSION_ABSOLUTE_MS, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        login_created(r, err, 0, j);
    }
}

static bool over_tls(struct http_req *r)
{
    /*
     * TLS ends at the reverse proxy, which says so in X-Forwarded-Proto (docs/DEPLOY.md); only
     * a trusted proxy is believed (http_req_https). An https public_url says it for every
     * request: the service is reached over TLS or not at all.
     */
    const char *pub = api__app(r)->set.public_url;

    return http_req_https(r) || (pub && !strncmp(pub, "https://", 8));
}

void api__session_create(struct http_req *r)
{
    static const char *const allowed[] = { "email", "password", NULL };
    const char *email, *password;
    struct pw_job *j = NULL;
    json_t *body;
    int err;

    pthread_once(&init_once, init);
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__string(r, body, "email", true, 1, EMAIL_MAX, &email) ||
        !api__string(r, body, "password", true, 1, PASSWORD_MAX_LEN, &password))
        goto out;
    j = xcalloc(1, sizeof(*j));
    j->kind = PW_LOGIN;
    j->req = r;
    j->loop = http_req_loop(r);
    j->secure = over_tls(r);
    set_keys(r, j, email);
    if (limited(r, j))
        goto out;
    err = store_user_by_email(api__reader(r), email, &j->user, j->hash, sizeof(j->hash));
    if (err && err != -ENOENT) {
        refund(j);
        api__errno(r, err, "user lookup");
        goto out;
    }
    j->found = !err;
    j->password = xstrdup(password);
    submit(r, j);
    j = NULL;
out:
    job_free(j);
    json_decref(body);
}

/* ---- GET and DELETE /api/v1/session ---- */

static bool session_of(struct http_req *r, struct store_user *u, struct api_auth *how)
{
    if (!api__staff_auth(r, u, how))
        return false;
    if (!how->session_id) {
        http_respond_error(r, 400, "not_a_session",
                           "This request was made with an API token, not a session cookie; "
                           "tokens are revoked with DELETE /api/v1/tokens/{id}.",
                           NULL);
        return false;
    }
    return true;
}

void api__session_get(struct http_req *r)
{
    char tok[SESSION_TOKEN_LEN];
    struct store_user u;
    struct api_auth how;

    if (!session_of(r, &u, &how))
        return;
    if (!api__cookie(r, API_SESSION_COOKIE, tok, sizeof(tok))) {
        api__errno(r, -EIO, "session cookie"); /* session_of just read it */
        return;
    }
    answer_session(r, &u, tok);
    explicit_bzero(tok, sizeof(tok));
}

static void clear_cookie(struct http_req *r)
{
    http_resp_header(r, "Set-Cookie",
                     API_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

static void session_ended(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err && err != -ENOENT) {
        api__errno(r, err, "session end");
        return;
    }
    clear_cookie(r);
    http_respond(r, 204, NULL, NULL, 0);
}

void api__session_delete(struct http_req *r)
{
    struct store_user u;
    struct api_auth how;
    struct api_pending *p;
    int err;

    if (!session_of(r, &u, &how))
        return;
    p = api__pending_new(r, session_ended, NULL);
    err = store_session_end(api__app(r)->store, how.session_id, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        session_ended(r, err, 0, NULL);
    }
}

/* ---- PUT /api/v1/me/password ---- */

static void password_set(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err) {
        api__errno(r, err, "password change");
        return;
    }
    http_respond(r, 204, NULL, NULL, 0);
}

static void change_checked(struct http_req *r, struct pw_job *j)
{
    struct api_pending *p;
    int err;

    if (!j->ok) {
        /* Charged here when reserved (limited()); now for every node too. */
        charge_failure(r, j);
        return;
    }
    refund(j);
    if (j->hash_err) {
        api__errno(r, -EIO, "password hash");
        goto out;
    }
    p = api__pending_new(r, password_set, NULL);
    err = store_user_set_password(api__app(r)->store, j->user.id, j->new_hash, j->session_id,
                                  api__pending_done, p);
    if (err) {
        api__pending_free(p);
        password_set(r, err, 0, NULL);
    }
out:
    job_free(j);
}

void api__password_change(struct http_req *r)
{
    static const char *const allowed[] = { "current_password", "new_password", NULL };
    const char *cur, *next;
    struct pw_job *j = NULL;
    struct api_auth how;
    json_t *body = NULL;
    int err;

    pthread_once(&init_once, init);
    j = xcalloc(1, sizeof(*j));
    if (!api__staff_auth(r, &j->user, &how))
        goto out;
    body = api__body_object(r, allowed);
    if (!body)
        goto out;
    if (!api__string(r, body, "current_password", true, 1, PASSWORD_MAX_LEN, &cur) ||
        !api__string(r, body, "new_password", true, PASSWORD_MIN_LEN, PASSWORD_MAX_LEN, &next))
        goto out;
    if (!strcmp(cur, next)) {
        http_respond_error(r, 400, "same_password",
                           "The new password must differ from the current one.", "new_password");
        goto out;
    }
    j->kind = PW_CHANGE;
    j->req = r;
    j->loop = http_req_loop(r);
    j->session_id = how.session_id;
    set_keys(r, j, j->user.email);
    if (limited(r, j))
        goto out;
    err = store_user_by_email(api__reader(r), j->user.email, &j->user, j->hash, sizeof(j->hash));
    if (err) {
        refund(j);
        api__errno(r, err == -ENOENT ? -EIO : err, "user lookup");
        goto out;
    }
    j->found = true;
    j->password = xstrdup(cur);
    j->new_password = xstrdup(next);
    submit(r, j);
    j = NULL;
out:
    job_free(j);
    json_decref(body);
}

static void job_on_loop(void *arg)
{
    struct pw_job *j = arg;

    if (j->kind == PW_LOGIN) {
        login_checked(j->req, j);
    } else {
        change_checked(j->req, j);
    }
}
