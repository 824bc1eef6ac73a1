/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The staff's CSV export of the filtered queue (issue 15, point 7): one row per report without
 * reporters' contact data; with it only when an org admin of that org asks explicitly
 * (`contact=true`); or totals per service (`group=service`). Every export is audited as
 * "report.export" with its row count and whether contact data was in it, never the data.
 */
#include "api/reports_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"

#define CSV_BYTES_MAX ((size_t)32 * 1024 * 1024)

static bool bad(struct http_req *r, const char *msg, const char *field)
{
    http_respond_error(r, 400, "invalid_value", msg, field);
    return false;
}

/* ---- CSV export ---- */

/* One CSV cell: quoted when needed; a leading = + - @ is defused (spreadsheet formulas). */
static int cell(struct buf *b, const char *s, bool last)
{
    int err = 0;

    s = s ? s : "";
    if (strpbrk(s, ",\"\r\n") || (*s && strchr("=+-@\t", *s))) {
        err = buf_puts(b, "\"");
        if (!err && *s && strchr("=+-@\t", *s))
            err = buf_puts(b, "'");
        for (; *s && !err; s++)
            err = *s == '"' ? buf_puts(b, "\"\"") : buf_append(b, s, 1);
        if (!err)
            err = buf_puts(b, "\"");
    } else {
        err = buf_puts(b, s);
    }
    return err ? err : buf_puts(b, last ? "\r\n" : ",");
}

/* One service's totals for the aggregate export (group=service). */
struct csv_group {
    char code[STORE_SVC_CODE_MAX + 1];
    char *name;
    int64_t received, open, resolved, closed;
    int64_t *fa, *res; /* durations in ms of those answered / resolved */
    size_t nfa, nres, cap;
};

struct csv_ctx {
    struct http_req *r;
    struct buf b;
    bool contact;
    int64_t rows;
    int err;
    bool groups_on;           /* group=service: totals per service, no reports */
    struct csv_group *groups; /* one per service met, in order */
    size_t ngroups;
};

static void group_add(struct csv_ctx *c, const struct store_report *p)
{
    struct csv_group *g = NULL;

    for (size_t i = 0; i < c->ngroups && !g; i++) {
        if (!strcmp(c->groups[i].code, p->service_code))
            g = &c->groups[i];
    }
    if (!g) {
        c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(*c->groups));
        g = &c->groups[c->ngroups++];
        memset(g, 0, sizeof(*g));
        snprintf(g->code, sizeof(g->code), "%s", p->service_code);
        g->name = xstrdup(p->service_name);
    }
    if (g->received == (int64_t)g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->fa = xrealloc(g->fa, g->cap * sizeof(*g->fa));
        g->res = xrealloc(g->res, g->cap * sizeof(*g->res));
    }
    g->received++;
    g->open += !strcmp(api__open311_status(p->status), "open");
    g->closed += !strcmp(p->status, "chiusa");
    if (p->first_answer_ms)
        g->fa[g->nfa++] = p->first_answer_ms - p->created_ms;
    if (p->resolved_ms) {
        g->resolved++;
        g->res[g->nres++] = p->resolved_ms - p->created_ms;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The median of `n` durations in ms, as whole seconds into `out` ("" when none). */
static void median_cell(int64_t *v, size_t n, char *out, size_t outlen)
{
    *out = '\0';
    if (!n)
        return;
    qsort(v, n, sizeof(*v), cmp_i64);
    snprintf(out, outlen, "%lld",
             (long long)((n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) / 1000));
}

static int groups_write(struct csv_ctx *c)
{
    int err = 0;

    for (size_t i = 0; i < c->ngroups && !err; i++) {
        struct csv_group *g = &c->groups[i];
        char n[4][24], fa[24], res[24];
        const char *cols[8];

        snprintf(n[0], sizeof(n[0]), "%lld", (long long)g->received);
        snprintf(n[1], sizeof(n[1]), "%lld", (long long)g->open);
        snprintf(n[2], sizeof(n[2]), "%lld", (long long)g->resolved);
        snprintf(n[3], sizeof(n[3]), "%lld", (long long)g->closed);
        median_cell(g->fa, g->nfa, fa, sizeof(fa));
        median_cell(g->res, g->nres, res, sizeof(res));
        cols[0] = g->code;
        cols[1] = g->name;
        cols[2] = n[0];
        cols[3] = n[1];
        cols[4] = n[2];
        cols[5] = n[3];
        cols[6] = fa;
        cols[7] = res;
        for (int k = 0; k < 8 && !err; k++)
            err = cell(&c->b, cols[k], k == 7);
    }
    return err;
}

static void csv_free(struct csv_ctx *c)
{
    for (size_t i = 0; i < c->ngroups; i++) {
        free(c->groups[i].name);
        free(c->groups[i].fa);
        free(c->groups[i].res);
    }
    free(c->groups);
    if (c->b.data)
        explicit_bzero(c->b.data, c->b.len);
    buf_release(&c->b);
    free(c);
}

static void csv_one(void *ctx, const struct store_report *p)
{
    struct csv_ctx *c = ctx;
    char id[24], lat[32] = "", lon[32] = "", created[32], first[32] = "", resolved[32] = "";
    struct store_report_contact k;
    const char *cols[13];
    int n = 0;

    if (c->err)
        return;
    if (c->groups_on) {
        group_add(c, p);
        c->rows++;
        return;
    }
    snprintf(id, sizeof(id), "%lld", (long long)p->id);
    if (p->has_pos) {
        snprintf(lat, sizeof(lat), "%.7f", p->lat);
        snprintf(lon, sizeof(lon), "%.7f", p->lon);
    }
    clock_rfc3339(p->created_ms, created, sizeof(created));
    if (p->first_answer_ms)
        clock_rfc3339(p->first_answer_ms, first, sizeof(first));
    if (p->resolved_ms)
        clock_rfc3339(p->resolved_ms, resolved, sizeof(resolved));
    cols[n++] = id;
    cols[n++] = created;
    cols[n++] = p->service_code;
    cols[n++] = p->status;
    cols[n++] = p->close_reason;
    cols[n++] = p->agency;
    cols[n++] = p->address;
    cols[n++] = lat;
    cols[n++] = lon;
    cols[n++] = p->text_hidden ? "" : p->description;
    cols[n++] = first;
    cols[n++] = resolved;
    for (int i = 0; i < n && !c->err; i++)
        c->err = cell(&c->b, cols[i], i == n - 1 && !c->contact);
    if (c->contact && !c->err) {
        c->err = store_report_contact(api__reader(c->r), p->id, &k);
        if (!c->err)
            c->err = cell(&c->b, k.email, false);
        if (!c->err)
            c->err = cell(&c->b, k.phone, false);
        if (!c->err)
            c->err = cell(&c->b, k.first_name, false);
        if (!c->err)
            c->err = cell(&c->b, k.last_name, true);
        explicit_bzero(&k, sizeof(k));
    }
    c->rows++;
}

static void csv_audited(struct http_req *r, int err, int64_t id, void *data)
{
    struct csv_ctx *c = data;

    (void)id;
    if (err) {
        api__errno(r, err, "report export");
    } else {
        http_resp_header(r, "Cache-Control", "no-store");
        http_resp_header(r, "Content-Disposition", "attachment; filename=\"segnalazioni.csv\"");
        http_respond(r, 200, "text/csv; charset=utf-8", c->b.data ? c->b.data : "", c->b.len);
    }
    csv_free(c);
}

void api__reports_csv(struct http_req *r)
{
    static const char header[] = "id,created_at,service_code,status,close_reason,agency,address,"
                                 "lat,long,description,first_answer_at,resolved_at";
    struct store_report_query q;
    struct store_org o;
    struct store_user me;
    static const char group_header[] = "service_code,service_name,received,open,resolved,closed,"
                                       "median_first_answer_seconds,median_resolution_seconds\r\n";
    const char *contact = http_req_query(r, "contact");
    const char *group = http_req_query(r, "group");
    struct api_pending *p;
    struct csv_ctx *c;
    char detail[200];
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me) || !api__rep_filters(r, o.id, &q, true))
        return;
    if (group && strcmp(group, "service") != 0) {
        bad(r, "'group' is service (totals per service) or absent (one row per report).", "group");
        return;
    }
    c = xcalloc(1, sizeof(*c));
    c->r = r;
    c->contact = contact && !strcmp(contact, "true");
    c->groups_on = group != NULL;
    if (c->contact && c->groups_on) {
        free(c);
        bad(r, "Totals per service carry no contact data: ask for one or the other.", "group");
        return;
    }
    /* Contact data: only an org admin of this org, asking explicitly (and audited). */
    if (c->contact && !(me.role == STORE_ROLE_ORG_ADMIN && me.org_id == o.id)) {
        free(c);
        http_respond_error(r, 403, "forbidden",
                           "Only this organization's admins may export reporters' contact data.",
                           "contact");
        return;
    }
    buf_init(&c->b, CSV_BYTES_MAX);
    if (c->groups_on) {
        err = buf_puts(&c->b, group_header);
    } else {
        err = buf_puts(&c->b, header);
        if (!err)
            err = buf_puts(&c->b, c->contact ? ",email,phone,first_name,last_name\r\n" : "\r\n");
    }
    if (!err)
        err = store_reports_list(api__reader(r), &q, csv_one, c);
    if (!err)
        err = c->err;
    if (!err && c->groups_on)
        err = groups_write(c);
    if (err) {
        csv_free(c);
        api__errno(r, err, "report export");
        return;
    }
    snprintf(detail, sizeof(detail), "{\"rows\":%lld,\"contact\":%s%s}", (long long)c->rows,
             c->contact ? "true" : "false", c->groups_on ? ",\"group\":\"service\"" : "");
    p = api__pending_new(r, csv_audited, c);
    err = store_report_export_audit(api__app(r)->store, me.id, o.id, detail, api__pending_done, p);
    if (err) {
        api__pending_free(p);
        csv_audited(r, err, 0, c);
    }
}
