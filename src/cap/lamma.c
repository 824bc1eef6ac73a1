/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The LaMMA reader. Only the daily summary (ora="giorno") of each day is read: the hourly
 * <previsione> elements carry weather, not alert levels. "NA" means LaMMA has not issued the
 * level yet (tomorrow's, early in the day): it is kept as "not issued", never as verde, so a
 * missing bulletin can never look like an all-clear.
 */
#include "cap/lamma.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "cap/xml_int.h"

const char *const lamma_risk_code[LAMMA_N_RISKS] = { "idraulico", "idrogeologico", "temporali",
                                                     "vento",     "neve",          "ghiaccio" };

static int fail(char *why, size_t whylen, int err, const char *fmt, ...) PRINTF_LIKE(4, 5);

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return err;
}

int lamma_level_parse(const char *value)
{
    static const struct {
        const char *word;
        int rank;
    } words[] = {
        { "NA", 0 },     { "nessuno", 1 }, { "nessuna", 1 },   { "verde", 1 }, { "giallo", 2 },
        { "gialla", 2 }, { "arancio", 3 }, { "arancione", 3 }, { "rosso", 4 }, { "rossa", 4 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (!strcasecmp(value, words[i].word))
            return words[i].rank;
    }
    return -1;
}

/* The text of `n`, trimmed, into `out`. */
static void text_into(const xmlNode *n, char *out, size_t outlen)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    size_t len;

    while (*s && strchr(" \t\r\n", *s))
        s++;
    len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    snprintf(out, outlen, "%.*s", (int)(len < outlen ? len : outlen - 1), s);
    xmlFree(t);
}

/* The rank in attribute "value" of `n` into `*rank`; -EPROTO for an unknown value. */
static int value_of(const xmlNode *n, const char *what, int *rank, char *why, size_t whylen)
{
    char *v = cap__xml_attr(n, "value");
    int r = v ? lamma_level_parse(v) : 0;
    int err = 0;

    if (r < 0) {
        err = fail(why, whylen, -EPROTO, "%s: unknown value '%.60s'.", what, v);
    } else {
        *rank = r;
    }
    xmlFree(v);
    return err;
}

/* One <rischio descr=…>: its level into `d` (a descr that is none of the six is ignored). */
static int read_risk(const xmlNode *c, struct lamma_day *d, char *why, size_t whylen)
{
    char *descr = cap__xml_attr(c, "descr");
    char what[96];
    int err = 0;

    for (size_t r = 0; descr && r < LAMMA_N_RISKS && !err; r++) {
        if (!strcasecmp(descr, lamma_risk_code[r])) {
            snprintf(what, sizeof(what), "Day %d, rischio %s", d->idday, lamma_risk_code[r]);
            err = value_of(c, what, &d->level[r], why, whylen);
        }
    }
    xmlFree(descr);
    return err;
}

static int read_day(const xmlNode *prev, struct lamma_day *d, char *why, size_t whylen)
{
    char what[96];
    int err = 0;

    for (const xmlNode *c = prev->children; c && !err; c = c->next) {
        if (cap__xml_is(c, "allerta")) {
            snprintf(what, sizeof(what), "Day %d, <allerta>", d->idday);
            err = value_of(c, what, &d->allerta, why, whylen);
        } else if (cap__xml_is(c, "rischio")) {
            err = read_risk(c, d, why, whylen);
        }
    }
    return err;
}

/* A daily <previsione>: its day into `out` (once per idday). */
static int read_previsione(const xmlNode *n, struct lamma_bulletin *out, char *why, size_t whylen)
{
    char *ora = cap__xml_attr(n, "ora");
    char *idday = cap__xml_attr(n, "idday");
    int day = idday && !strcmp(idday, "1") ? 1 : idday && !strcmp(idday, "2") ? 2 : 0;
    bool daily = ora && !strcmp(ora, "giorno");
    int err = 0;

    xmlFree(ora);
    xmlFree(idday);
    if (!daily || !day)
        return 0;
    for (size_t i = 0; i < out->n_day; i++) {
        if (out->day[i].idday == day)
            return 0; /* the first one counts */
    }
    if (out->n_day == LAMMA_MAX_DAYS)
        return 0;
    out->day[out->n_day].idday = day;
    err = read_day(n, &out->day[out->n_day], why, whylen);
    if (!err)
        out->n_day++;
    return err;
}

/* Every element under `n`, in document order (depth is capped by cap__xml_read). */
static int walk(const xmlNode *n, struct lamma_bulletin *out, char *why, size_t whylen)
{
    int err = 0;

    for (; n && !err; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (cap__xml_is(n, "previsione")) {
            err = read_previsione(n, out, why, whylen);
        } else if (cap__xml_is(n, "comune") && !out->comune[0]) {
            text_into(n, out->comune, sizeof(out->comune));
        } else if (cap__xml_is(n, "aggiornamento") && !out->updated[0]) {
            text_into(n, out->updated, sizeof(out->updated));
        } else {
            err = walk(n->children, out, why, whylen);
        }
    }
    return err;
}

int lamma_parse(const char *p, size_t len, struct lamma_bulletin *out, char *why, size_t whylen)
{
    xmlDocPtr doc = NULL;
    int err;

    memset(out, 0, sizeof(*out));
    if (len > LAMMA_MAX_BYTES)
        return -EMSGSIZE;
    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }
    err = cap__xml_read(p, len, LAMMA_MAX_BYTES, LAMMA_MAX_DEPTH, LAMMA_MAX_ELEMENTS, &doc, why,
                        whylen);
    if (err)
        return err;
    err = walk(xmlDocGetRootElement(doc), out, why, whylen);
    if (!err && !out->n_day)
        err = fail(why, whylen, -EINVAL, "No <previsione idday=\"1|2\" ora=\"giorno\">.");
    if (err)
        memset(out, 0, sizeof(*out));
    xmlFreeDoc(doc);
    return err;
}
