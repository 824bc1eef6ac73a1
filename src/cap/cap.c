/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * CAP 1.2 read and write with libxml2. Reading walks the tree libxml2 built from a document we
 * checked has no DOCTYPE, with the parser told to load nothing; writing uses xmlTextWriter, so
 * every text is escaped by libxml2 and the element order is the schema's (a sequence).
 */
#include "cap/cap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "cap/xml_int.h"
#include "core/alloc.h"

/* ---- times ---- */

void cap_time_format(int64_t ms, int off_min, char *out, size_t outlen)
{
    time_t t = (time_t)(ms / 1000 + (int64_t)off_min * 60);
    int a = off_min < 0 ? -off_min : off_min;
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off_min < 0 ? '-' : '+',
             a / 60, a % 60);
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int cap_time_parse(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    const char *p = s + 19;
    int off = 0;
    time_t t;

    if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return -EINVAL;
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    tm.tm_hour = num(s + 11, 2);
    tm.tm_min = num(s + 14, 2);
    tm.tm_sec = num(s + 17, 2);
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -EINVAL;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2)) {
        off = num(p + 1, 2) * 60 + num(p + 4, 2);
        if (*p == '-')
            off = -off;
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)off * 60) * 1000;
    return 0;
}

/* ---- writing ---- */

static void elem(xmlTextWriterPtr w, const char *name, const char *text)
{
    if (text)
        (void)xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text);
}

static void kv(xmlTextWriterPtr w, const char *name, const struct cap_kv *k)
{
    (void)xmlTextWriterStartElement(w, BAD_CAST name);
    elem(w, "valueName", k->name);
    elem(w, "value", k->value);
    (void)xmlTextWriterEndElement(w);
}

static void write_area(xmlTextWriterPtr w, const struct cap_area *a)
{
    (void)xmlTextWriterStartElement(w, BAD_CAST "area");
    elem(w, "areaDesc", a->desc);
    elem(w, "polygon", a->polygon);
    for (size_t i = 0; i < a->n_geocode; i++)
        kv(w, "geocode", &a->geocode[i]);
    (void)xmlTextWriterEndElement(w);
}

static void write_info(xmlTextWriterPtr w, const struct cap_info *in, const struct cap_info *areas)
{
    (void)xmlTextWriterStartElement(w, BAD_CAST "info");
    elem(w, "language", in->language);
    elem(w, "category", in->category);
    elem(w, "event", in->event);
    elem(w, "urgency", in->urgency);
    elem(w, "severity", in->severity);
    elem(w, "certainty", in->certainty);
    elem(w, "effective", in->effective);
    elem(w, "onset", in->onset);
    elem(w, "expires", in->expires);
    elem(w, "senderName", in->sender_name);
    elem(w, "headline", in->headline);
    elem(w, "description", in->description);
    elem(w, "instruction", in->instruction);
    elem(w, "web", in->web);
    for (size_t i = 0; i < in->n_param; i++)
        kv(w, "parameter", &in->param[i]);
    for (size_t i = 0; i < areas->n_area; i++)
        write_area(w, &areas->area[i]);
    (void)xmlTextWriterEndElement(w);
}

char *cap_encode(const struct cap_msg *m, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char *out = NULL;

    if (!w)
        goto out;
    (void)xmlTextWriterSetIndent(w, 1);
    (void)xmlTextWriterSetIndentString(w, BAD_CAST "  ");
    (void)xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    (void)xmlTextWriterStartElementNS(w, NULL, BAD_CAST "alert", BAD_CAST CAP_NS_12);
    elem(w, "identifier", m->identifier);
    elem(w, "sender", m->sender);
    elem(w, "sent", m->sent);
    elem(w, "status", m->status);
    elem(w, "msgType", m->msg_type);
    elem(w, "source", m->source);
    elem(w, "scope", m->scope);
    elem(w, "note", m->note);
    elem(w, "references", m->references);
    for (size_t i = 0; i < m->n_info; i++)
        write_info(w, &m->info[i], &m->info[0]);
    (void)xmlTextWriterEndElement(w);
    if (xmlTextWriterEndDocument(w) < 0)
        goto out;
    xmlFreeTextWriter(w); /* flushes into buf */
    w = NULL;
    *len = (size_t)xmlBufferLength(buf);
    out = xmalloc(*len + 1);
    memcpy(out, xmlBufferContent(buf), *len);
    out[*len] = '\0';
out:
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    return out;
}

/* ---- reading ---- */

struct rd {
    char *why, *where;
    size_t whylen, wherelen;
};

static int fail(struct rd *rd, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rd *rd, const char *where, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rd->why, rd->whylen, fmt, ap);
    va_end(ap);
    snprintf(rd->where, rd->wherelen, "%s", where);
    return -EINVAL;
}

/* "a/b" into `out`, cut to fit (element paths are for people, in error messages). */
static char *join(char *out, size_t n, const char *a, const char *b)
{
    if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
        out[n - 1] = '\0';
    return out;
}

static bool is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && !strcmp((const char *)n->name, name);
}

/* The trimmed text of element `n` (owned), or an error past CAP_MAX_TEXT. */
static int text_of(struct rd *rd, const xmlNode *n, const char *path, char **out)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    size_t len;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    if (len > CAP_MAX_TEXT) {
        xmlFree(t);
        return fail(rd, path, "<%s> is longer than %d bytes.", (const char *)n->name, CAP_MAX_TEXT);
    }
    free(*out); /* a repeated element: the last one counts */
    *out = xmalloc(len + 1);
    memcpy(*out, s, len);
    (*out)[len] = '\0';
    xmlFree(t);
    return 0;
}

static int read_kv(struct rd *rd, const xmlNode *n, const char *path, struct cap_kv *kv)
{
    int err = 0;

    for (const xmlNode *c = n->children; c && !err; c = c->next) {
        if (is(c, "valueName")) {
            err = text_of(rd, c, path, &kv->name);
        } else if (is(c, "value")) {
            err = text_of(rd, c, path, &kv->value);
        }
    }
    if (!err && (!kv->name || !kv->value))
        err = fail(rd, path, "<%s> needs a <valueName> and a <value>.", (const char *)n->name);
    return err;
}

static int read_area(struct rd *rd, const xmlNode *n, const char *path, struct cap_area *a)
{
    char sub[128];
    int err = 0;

    for (const xmlNode *c = n->children; c && !err; c = c->next) {
        join(sub, sizeof(sub), path, c->name ? (const char *)c->name : "");
        if (is(c, "areaDesc")) {
            err = text_of(rd, c, sub, &a->desc);
        } else if (is(c, "polygon") && !a->polygon) {
            err = text_of(rd, c, sub, &a->polygon);
        } else if (is(c, "geocode")) {
            if (a->n_geocode == CAP_MAX_KV)
                return fail(rd, sub, "More than %d <geocode> in one <area>.", CAP_MAX_KV);
            err = read_kv(rd, c, sub, &a->geocode[a->n_geocode++]);
        }
    }
    if (!err && (!a->desc || !*a->desc))
        err = fail(rd, path, "Required element <areaDesc> is missing.");
    return err;
}

static int one_of(struct rd *rd, const char *path, const char *name, const char *v,
                  const char *const *ok)
{
    if (!v)
        return fail(rd, path, "Required element <%s> is missing.", name);
    for (; *ok; ok++) {
        if (!strcmp(v, *ok))
            return 0;
    }
    return fail(rd, path, "<%s> '%.40s' is not a value CAP 1.2 allows.", name, v);
}

static int info_fields_ok(struct rd *rd, const char *path, const struct cap_info *in)
{
    static const char *const cats[] = { "Geo",   "Met",    "Safety", "Security",  "Rescue",
                                        "Fire",  "Health", "Env",    "Transport", "Infra",
                                        "CBRNE", "Other",  NULL };
    static const char *const urg[] = { "Immediate", "Expected", "Future", "Past", "Unknown", NULL };
    static const char *const sev[] = { "Extreme", "Severe", "Moderate", "Minor", "Unknown", NULL };
    static const char *const cer[] = {
        "Observed", "Likely", "Possible", "Unlikely", "Unknown", NULL
    };
    char sub[128];
    const char *times[] = { in->onset, in->effective, in->expires };
    static const char *const tnames[] = { "onset", "effective", "expires" };
    int64_t ms;
    int err;

#define SUB(x) join(sub, sizeof(sub), path, (x))
    if ((err = one_of(rd, SUB("category"), "category", in->category, cats)) ||
        (err = one_of(rd, SUB("urgency"), "urgency", in->urgency, urg)) ||
        (err = one_of(rd, SUB("severity"), "severity", in->severity, sev)) ||
        (err = one_of(rd, SUB("certainty"), "certainty", in->certainty, cer)))
        return err;
    if (!in->event || !*in->event)
        return fail(rd, SUB("event"), "Required element <event> is missing.");
    for (size_t i = 0; i < 3; i++) {
        if (times[i] && cap_time_parse(times[i], &ms))
            return fail(rd, SUB(tnames[i]), "<%s> is not a CAP date and time.", tnames[i]);
    }
#undef SUB
    return 0;
}

/* A simple text element of <info> into its member of `in`; 1 when `c` is none of them. */
static int info_field(struct rd *rd, const xmlNode *c, const char *sub, struct cap_info *in)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        { "language", offsetof(struct cap_info, language) },
        { "event", offsetof(struct cap_info, event) },
        { "urgency", offsetof(struct cap_info, urgency) },
        { "severity", offsetof(struct cap_info, severity) },
        { "certainty", offsetof(struct cap_info, certainty) },
        { "onset", offsetof(struct cap_info, onset) },
        { "effective", offsetof(struct cap_info, effective) },
        { "expires", offsetof(struct cap_info, expires) },
        { "senderName", offsetof(struct cap_info, sender_name) },
        { "headline", offsetof(struct cap_info, headline) },
        { "description", offsetof(struct cap_info, description) },
        { "instruction", offsetof(struct cap_info, instruction) },
        { "web", offsetof(struct cap_info, web) },
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (is(c, fields[i].name))
            return text_of(rd, c, sub, (char **)((char *)in + fields[i].off));
    }
    return 1;
}

/* One <info>: its own elements, then its areas. */
static int read_info(struct rd *rd, const xmlNode *n, const char *path, struct cap_info *in)
{
    char sub[128], idx[24];
    int err = 0;

    for (const xmlNode *c = n->children; c && !err; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        join(sub, sizeof(sub), path, (const char *)c->name);
        if (is(c, "category") && !in->category) {
            err = text_of(rd, c, sub, &in->category);
        } else if (is(c, "parameter")) {
            if (in->n_param == CAP_MAX_KV)
                return fail(rd, sub, "More than %d <parameter> in one <info>.", CAP_MAX_KV);
            err = read_kv(rd, c, sub, &in->param[in->n_param++]);
        } else if (is(c, "area")) {
            if (in->n_area == CAP_MAX_AREA)
                return fail(rd, sub, "More than %d <area> in one <info>.", CAP_MAX_AREA);
            snprintf(idx, sizeof(idx), "area[%zu]", in->n_area + 1);
            join(sub, sizeof(sub), path, idx);
            err = read_area(rd, c, sub, &in->area[in->n_area++]);
        } else {
            err = info_field(rd, c, sub, in);
            err = err > 0 ? 0 : err;
        }
    }
    return err ? err : info_fields_ok(rd, path, in);
}

static int read_alert(struct rd *rd, const xmlNode *root, struct cap_msg *m)
{
    static const char *const status[] = { "Actual", "Exercise", "System", "Test", "Draft", NULL };
    static const char *const types[] = { "Alert", "Update", "Cancel", "Ack", "Error", NULL };
    static const char *const scopes[] = { "Public", "Restricted", "Private", NULL };
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        { "identifier", offsetof(struct cap_msg, identifier) },
        { "sender", offsetof(struct cap_msg, sender) },
        { "sent", offsetof(struct cap_msg, sent) },
        { "status", offsetof(struct cap_msg, status) },
        { "msgType", offsetof(struct cap_msg, msg_type) },
        { "source", offsetof(struct cap_msg, source) },
        { "scope", offsetof(struct cap_msg, scope) },
        { "note", offsetof(struct cap_msg, note) },
        { "references", offsetof(struct cap_msg, references) },
    };
    char sub[128];
    int64_t ms;
    int err = 0;

    for (const xmlNode *c = root->children; c && !err; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        snprintf(sub, sizeof(sub), "alert/%s", (const char *)c->name);
        if (is(c, "info")) {
            if (m->n_info == CAP_MAX_INFO)
                return fail(rd, sub, "More than %d <info> blocks.", CAP_MAX_INFO);
            snprintf(sub, sizeof(sub), "alert/info[%zu]", m->n_info + 1);
            err = read_info(rd, c, sub, &m->info[m->n_info++]);
            continue;
        }
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            if (is(c, fields[i].name)) {
                err = text_of(rd, c, sub, (char **)((char *)m + fields[i].off));
                break;
            }
        }
    }
    if (err)
        return err;
    for (size_t i = 0; i < 3; i++) {
        const char *v = *(char **)((char *)m + fields[i].off);

        snprintf(sub, sizeof(sub), "alert/%s", fields[i].name);
        if (!v || !*v)
            return fail(rd, sub, "Required element <%s> is missing.", fields[i].name);
        if (strlen(v) > 255 || strpbrk(v, " ,<&")) {
            return fail(rd, sub,
                        "<%s> must be 1 to 255 characters without spaces, commas,"
                        " '<' or '&'.",
                        fields[i].name);
        }
    }
    if (cap_time_parse(m->sent, &ms))
        return fail(rd, "alert/sent", "<sent> is not a CAP date and time.");
    if ((err = one_of(rd, "alert/status", "status", m->status, status)) ||
        (err = one_of(rd, "alert/msgType", "msgType", m->msg_type, types)) ||
        (err = one_of(rd, "alert/scope", "scope", m->scope, scopes)))
        return err;
    return 0;
}

/* `why` and `where` are written through `rd` (fail()). */
// NOLINTNEXTLINE(readability-non-const-parameter)
int cap_parse(const char *p, size_t len, struct cap_msg *out, char *why, size_t whylen, char *where,
              size_t wherelen)
{
    struct rd rd = { why, where, whylen, wherelen };
    xmlDocPtr doc = NULL;
    const xmlNode *root;
    int err;

    memset(out, 0, sizeof(*out));
    snprintf(where, wherelen, "%s", "");
    err = cap__xml_read(p, len, CAP_MAX_BYTES, CAP_MAX_DEPTH, CAP_MAX_ELEMENTS, &doc, why, whylen);
    if (err)
        return err;
    root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "alert") != 0 || !root->ns ||
        (strcmp((const char *)root->ns->href, CAP_NS_12) != 0 &&
         strcmp((const char *)root->ns->href, CAP_NS_11) != 0)) {
        err = fail(&rd, "alert", "The root element must be <alert> in the CAP 1.2 namespace (%s).",
                   CAP_NS_12);
        goto out;
    }
    err = read_alert(&rd, root, out);
    if (err)
        cap_msg_release(out);
out:
    xmlFreeDoc(doc);
    return err;
}

static void kv_release(struct cap_kv *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(k[i].name);
        free(k[i].value);
    }
}

void cap_msg_release(struct cap_msg *m)
{
    char **top[] = { &m->identifier, &m->sender,     &m->sent, &m->status, &m->msg_type,
                     &m->scope,      &m->references, &m->note, &m->source };

    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        free(*top[i]);
    for (size_t i = 0; i < m->n_info; i++) {
        struct cap_info *in = &m->info[i];
        char **s[] = { &in->language,    &in->category,    &in->event,    &in->urgency,
                       &in->severity,    &in->certainty,   &in->onset,    &in->effective,
                       &in->expires,     &in->sender_name, &in->headline, &in->description,
                       &in->instruction, &in->web };

        for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++)
            free(*s[j]);
        kv_release(in->param, in->n_param);
        for (size_t j = 0; j < in->n_area; j++) {
            free(in->area[j].desc);
            free(in->area[j].polygon);
            kv_release(in->area[j].geocode, in->area[j].n_geocode);
        }
    }
    memset(m, 0, sizeof(*m));
}
