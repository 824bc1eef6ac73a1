/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Warnings by e-mail about official alert sources (issue 14, point 6; docs/ALERTS.md,
 * "Warnings by e-mail"): a source with no successful fetch for alert_source_stale_hours, or
 * whose last poll failed, is shown on every console screen (the banner); when the server has a
 * mail relay (smtp_url) the org's staff who can act on it — its org admins and the staff granted
 * civil_protection — also get one e-mail per episode, in Italian first, saying which source,
 * since when, the last error in plain words, and where to look. A silent failure is the worst
 * outcome here: the Comune would believe the level is current.
 *
 * Once per episode, across restarts: the source's warned_ms is written (and durable) before the
 * mails are queued, and cleared when the source is healthy again, with a "back to normal" mail;
 * the next failure is a new episode and warns again. Runs on the poller's thread (it blocks on
 * the store's writes; the mails go through mail_queue's own thread).
 */
#include "api/sources_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"
#include "mail/mail.h"
#include "store/alerts.h"

#define RECIPIENTS_MAX 500
#define TEXT_MAX       8192

/* What one source needs for its mail, copied out of the store's callback. */
struct wsrc {
    int64_t id, org_id, ok_ms, err_ms, created_ms, warned_ms;
    bool stale, failing;
    char kind[16];
    char url[STORE_SOURCE_URL_MAX + 1];
    char comune[STORE_SOURCE_NAME_MAX * 4 + 1];
    char error[STORE_SOURCE_ERROR_MAX + 1];
};

struct wlist {
    struct wsrc *v;
    size_t n;
    int64_t now_ms;
    long stale_hours;
};

static void wsrc_copy(void *ctx, const struct store_source *s)
{
    struct wlist *l = ctx;
    struct wsrc *d;
    bool stale = api__source_stale(s, l->now_ms, l->stale_hours);
    bool failing = api__source_failing(s);

    if (!stale && !failing && !s->warned_ms)
        return; /* healthy and nobody was told otherwise: nothing to do */
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    d = &l->v[l->n++];
    memset(d, 0, sizeof(*d));
    d->id = s->id;
    d->org_id = s->org_id;
    d->ok_ms = s->last_ok_ms;
    d->err_ms = s->last_error_ms;
    d->created_ms = s->created_ms;
    d->warned_ms = s->warned_ms;
    d->stale = stale;
    d->failing = failing;
    snprintf(d->kind, sizeof(d->kind), "%s", s->conf.kind);
    snprintf(d->url, sizeof(d->url), "%s", s->conf.url);
    snprintf(d->comune, sizeof(d->comune), "%s", s->conf.comune ? s->conf.comune : "");
    snprintf(d->error, sizeof(d->error), "%s", s->last_error ? s->last_error : "");
}

/* ---- who is told ---- */

struct rcpt {
    int64_t publishers[STORE_PUBLISHERS_MAX];
    size_t npub;
    char (*to)[MAIL_ADDR_MAX + 1];
    size_t n;
};

static void settings_ignored(void *ctx, const struct store_alert_settings *set)
{
    (void)ctx;
    (void)set;
}

static void publisher_one(void *ctx, int64_t user_id)
{
    struct rcpt *r = ctx;

    if (r->npub < STORE_PUBLISHERS_MAX)
        r->publishers[r->npub++] = user_id;
}

/* Active org admins, and active staff granted civil_protection: those who can act on alerts. */
static void staff_one(void *ctx, const struct store_user *u, int64_t disabled_ms)
{
    struct rcpt *r = ctx;
    bool acts = u->role == STORE_ROLE_ORG_ADMIN;

    for (size_t i = 0; !acts && i < r->npub; i++)
        acts = r->publishers[i] == u->id;
    if (!acts || disabled_ms || r->n == RECIPIENTS_MAX || !mail_address_valid(u->email))
        return;
    memcpy(r->to[r->n++], u->email, strlen(u->email) + 1); /* valid: at most MAIL_ADDR_MAX */
}

static int recipients(struct store_reader *rd, int64_t org_id, struct rcpt *r)
{
    int err = store_alert_settings_get(rd, org_id, settings_ignored, publisher_one, r);

    if (!err)
        err = store_staff_list(rd, org_id, staff_one, r);
    return err;
}

/* ---- what they are told ---- */

static const char *kind_it(const char *kind)
{
    if (!strcmp(kind, "dpc-bulletin"))
        return "Bollettino di criticità del Dipartimento della Protezione Civile";
    if (!strcmp(kind, "lamma-comune"))
        return "Consorzio LaMMA (Regione Toscana)";
    return "feed CAP";
}

static const char *kind_en(const char *kind)
{
    if (!strcmp(kind, "dpc-bulletin"))
        return "Civil Protection Department criticality bulletin";
    if (!strcmp(kind, "lamma-comune"))
        return "LaMMA consortium (Tuscany)";
    return "CAP feed";
}

/* The poller's last error (a technical sentence) in plain Italian and English words. */
static void plain_error(const char *e, const char **it, const char **en)
{
    if (!*e) {
        *it = "nessun errore registrato: la fonte non è stata letta";
        *en = "no error recorded: the source has not been read";
    } else if (strstr(e, "HTTP 4")) {
        *it = "il sito della fonte dice che l'indirizzo non esiste o non è accessibile";
        *en = "the source's site says the address does not exist or is not accessible";
    } else if (strstr(e, "HTTP ")) {
        *it = "il sito della fonte ha risposto con un errore";
        *en = "the source's site answered with an error";
    } else if (strstr(e, "does not resolve")) {
        *it = "il nome del sito della fonte non si trova (DNS)";
        *en = "the source's site name does not resolve (DNS)";
    } else if (strstr(e, "in time") || strstr(e, "imeout")) {
        *it = "il sito della fonte non ha risposto in tempo";
        *en = "the source's site did not answer in time";
    } else if (strstr(e, "SSL") || strstr(e, "TLS") || strstr(e, "certificate")) {
        *it = "la connessione sicura con il sito della fonte non è stata verificata";
        *en = "the secure connection to the source's site could not be verified";
    } else if (strstr(e, "Couldn't connect") || strstr(e, "connect")) {
        *it = "il sito della fonte non è raggiungibile";
        *en = "the source's site cannot be reached";
    } else {
        *it = "la risposta della fonte non è stata capita (formato cambiato o dato sconosciuto)";
        *en = "the source's answer was not understood (a changed format or an unknown value)";
    }
}

/* "04/12/2026 14:30" in the org's time zone, or `never` for 0. */
static void local_time(const char *tz, int64_t ms, const char *never, char *out, size_t outlen)
{
    int off = 0;
    time_t t;
    struct tm tm;

    if (!ms) {
        snprintf(out, outlen, "%s", never);
        return;
    }
    if (tz_offset_min(tz, ms, &off) != 0)
        off = 0;
    t = (time_t)(ms / 1000 + (int64_t)off * 60);
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min);
}

static void console_link(struct api_app *app, char *out, size_t outlen)
{
    if (*app->set.public_url) {
        snprintf(out, outlen, "%s/admin/#/allerte/fonti", app->set.public_url);
    } else if (app->server) {
        snprintf(out, outlen, "http://%s/admin/#/allerte/fonti", http_server_address(app->server));
    } else {
        snprintf(out, outlen, "/admin/#/allerte/fonti");
    }
}

static int compose(struct api_app *app, const struct store_org *o, const struct wsrc *s,
                   bool recovered, char *subject, size_t sublen, struct buf *b)
{
    char ok_it[40], ok_en[40], err_at[40], since[40], link[600];
    char what[STORE_SOURCE_NAME_MAX * 4 + 120];
    const char *e_it, *e_en;
    bool cap = !strcmp(s->kind, "cap-feed");
    int err;

    console_link(app, link, sizeof(link));
    local_time(o->timezone, s->ok_ms, "mai", ok_it, sizeof(ok_it));
    local_time(o->timezone, s->ok_ms, "never", ok_en, sizeof(ok_en));
    local_time(o->timezone, s->err_ms, "", err_at, sizeof(err_at));
    local_time(o->timezone, s->ok_ms ? s->ok_ms : s->created_ms, "", since, sizeof(since));
    plain_error(s->error, &e_it, &e_en);
    snprintf(what, sizeof(what), "%s%s%s", kind_it(s->kind), cap ? "" : " per ",
             cap ? "" : s->comune);
    if (recovered) {
        snprintf(subject, sublen, "Fonte di allerta tornata a funzionare: %.80s — %.120s",
                 kind_it(s->kind), o->name);
        return buf_printf(
            b,
            "Buongiorno,\n\nla fonte ufficiale di allerta \"%s\" (n. %lld) di %s funziona di "
            "nuovo: l'ultima lettura riuscita è del %s (ora locale). I livelli di allerta tornano "
            "ad aggiornarsi da soli.\n\nControllate comunque che l'allerta in corso sia quella "
            "giusta:\n%s\n\n-- \nIn English: the official alert source \"%s\" (no. %lld) of %s "
            "works again (last successful fetch: %s, local time).\n\nMessaggio automatico di "
            "araldo.\n",
            what, (long long)s->id, o->name, ok_it, link, kind_en(s->kind), (long long)s->id,
            o->name, ok_en);
    }
    snprintf(subject, sublen, "%s: %.80s — %.120s",
             s->stale ? "Fonte di allerta non aggiornata" : "Fonte di allerta in errore",
             kind_it(s->kind), o->name);
    err = buf_printf(b, "Buongiorno,\n\nla fonte ufficiale di allerta \"%s\" (n. %lld) di %s ",
                     what, (long long)s->id, o->name);
    if (!err && s->stale) {
        err = buf_printf(b,
                         "non si aggiorna: nessuna lettura riuscita dal %s (ora locale), da "
                         "più di %ld ore.\n\n",
                         since, app->set.alert_source_stale_hours);
    } else if (!err) {
        err = buf_printf(b,
                         "non riesce a essere letta: l'ultimo tentativo, il %s (ora "
                         "locale), non è riuscito.\n\n",
                         err_at);
    }
    if (!err) {
        err = buf_printf(b, "Indirizzo della fonte: %s\nUltima lettura riuscita: %s\n", s->url,
                         ok_it);
    }
    if (!err && *s->error) {
        err = buf_printf(b, "Ultimo errore (%s): %s.\nDettaglio tecnico: %s\n", err_at, e_it,
                         s->error);
    }
    if (!err) {
        err = buf_printf(
            b,
            "\nFinché la fonte non torna a funzionare, i livelli di allerta non si aggiornano da "
            "soli: controllate il bollettino a mano e, se serve, pubblicate l'allerta dalla "
            "console:\n%s\n\nRiceverete questo avviso una volta sola per questo problema, e un "
            "altro quando la fonte tornerà a funzionare.\n\n-- \nIn English: the official alert "
            "source \"%s\" (no. %lld) of %s %s. Last successful fetch: %s (local time).%s%s%s "
            "Until it works again, alert levels are not updated automatically: check the "
            "bulletin by hand and publish from the console (link above).\n\nMessaggio automatico "
            "di araldo.\n",
            link, kind_en(s->kind), (long long)s->id, o->name,
            s->stale ? "has had no successful fetch for too long" : "cannot be read", ok_en,
            *s->error ? " Last error: " : "", *s->error ? e_en : "", *s->error ? "." : "");
    }
    return err;
}

/* Tell the org's staff about source `s`: a new episode (`recovered` false) or its end. */
static void tell(struct api_app *app, struct store_reader *rd, const struct wsrc *s, bool recovered)
{
    struct rcpt r = { 0 };
    struct store_org o;
    struct buf body;
    char subject[MAIL_SUBJECT_MAX];
    size_t queued = 0;
    int err;

    err = store_org_get_id(rd, s->org_id, &o);
    if (!err) {
        r.to = xcalloc(RECIPIENTS_MAX, sizeof(*r.to));
        err = recipients(rd, s->org_id, &r);
    }
    buf_init(&body, TEXT_MAX);
    if (!err)
        err = compose(app, &o, s, recovered, subject, sizeof(subject), &body);
    for (size_t i = 0; !err && i < r.n; i++) {
        if (mail_queue(app->mail, &(struct mail_msg){ r.to[i], subject, body.data }) == 0)
            queued++;
    }
    if (err) {
        log_warn("sources: cannot warn the staff of org %lld about source %lld: %s",
                 (long long)s->org_id, (long long)s->id, strerror(-err));
    } else {
        log_info("sources: source %lld of org %lld %s; %zu of %zu staff e-mailed", (long long)s->id,
                 (long long)s->org_id, recovered ? "recovered" : "needs attention", queued, r.n);
    }
    buf_release(&body);
    free(r.to);
}

/* One source: a new episode or its end is recorded (durably, first), then told. */
static void step(struct api_app *app, struct store_reader *rd, const struct wsrc *s, int64_t now)
{
    bool bad = s->stale || s->failing;
    int err;

    if (bad == (s->warned_ms != 0))
        return; /* told already, or healthy and never told */
    /* Durable first: a restart right after must not send it again. */
    err = store_source_warned(app->store, s->id, bad ? now : 0, NULL, NULL);
    if (err == -ENOENT)
        return; /* deleted meanwhile */
    if (err) {
        log_warn("sources: cannot record the warning of source %lld: %s", (long long)s->id,
                 strerror(-err));
        return;
    }
    tell(app, rd, s, !bad);
}

void api__sources_warn(struct api_app *app, struct store_reader *rd)
{
    struct wlist l = { NULL, 0, clock_now_ms(), app->set.alert_source_stale_hours };

    if (!app->mail)
        return; /* no relay: the console's banner is the warning */
    if (store_source_list(rd, 0, 0, wsrc_copy, &l) == 0) {
        for (size_t i = 0; i < l.n; i++)
            step(app, rd, &l.v[i], l.now_ms);
    }
    free(l.v);
}
