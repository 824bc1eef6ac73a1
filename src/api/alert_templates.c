/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Norme di comportamento: what an automatic alert tells people to do, per risk and level.
 * Built-in defaults in Italian and English (a sentence for the level, then one for the risk,
 * after the national civil-protection guidance "Io non rischio"), which an org replaces per
 * risk, level and language (store/sources.h). docs/ALERTS.md, "Official sources".
 */
#include "api/sources_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/alerts_int.h"
#include "cap/dpc.h"
#include "core/alloc.h"

#define TEMPLATE_TEXT_MAX 4000 /* characters, as the schema */

struct text {
    const char *it, *en;
};

/* By level rank 1…4. */
static const struct text level_text[] = {
    { "Nessuna allerta: segui comunque gli aggiornamenti del Comune.",
      "No alert: keep following the Comune's updates." },
    { "Allerta gialla: tieniti informato e fai attenzione negli spostamenti.",
      "Yellow alert: stay informed and take care when you travel." },
    { "Allerta arancione: limita gli spostamenti a quelli necessari e segui le indicazioni del "
      "Comune.",
      "Orange alert: travel only if you must and follow the Comune's instructions." },
    { "Allerta rossa: non spostarti se non è indispensabile, resta in un luogo sicuro e segui le "
      "indicazioni del Comune e della Protezione Civile.",
      "Red alert: do not travel unless you must, stay somewhere safe and follow the Comune's and "
      "Civil Protection's instructions." },
};

static const struct {
    const char *risk;
    struct text t;
} risk_text[] = {
    { "idrogeologico",
      { "Stai lontano da pendii, corsi d'acqua e sottopassi; non scendere in cantine e "
        "seminterrati.",
        "Keep away from slopes, streams and underpasses; do not go down to cellars or "
        "basements." } },
    { "idraulico",
      { "Stai lontano da argini, ponti e corsi d'acqua; se l'acqua sale, vai ai piani alti.",
        "Keep away from embankments, bridges and rivers; if the water rises, go upstairs." } },
    { "temporali",
      { "Evita sottopassi e zone che si allagano; ripara in un edificio, non sotto gli alberi.",
        "Avoid underpasses and places that flood; shelter in a building, not under trees." } },
    { "vento",
      { "Fissa o ritira gli oggetti su balconi e terrazzi; evita parchi, alberi e impalcature.",
        "Secure or bring in things on balconies; avoid parks, trees and scaffolding." } },
    { "neve",
      { "Esci solo se necessario, con pneumatici invernali o catene.",
        "Go out only if you must, with winter tyres or chains." } },
    { "ghiaccio",
      { "Attenzione a strade e marciapiedi ghiacciati: guida con prudenza.",
        "Beware of icy roads and pavements: drive carefully." } },
};

static const char *const levels[] = { "verde", "giallo", "arancione", "rosso" };

static int level_rank(const char *level)
{
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
        if (!strcmp(level, levels[i]))
            return (int)i + 1;
    }
    return 0;
}

/* The built-in text (owned) for a risk and level rank in "it" or "en". */
static char *default_text(const char *risk, int rank, bool en)
{
    const struct text *l = &level_text[rank - 1];
    const char *r = NULL;
    char *out;
    size_t n;

    for (size_t i = 0; rank > 1 && i < ARRAY_SIZE(risk_text); i++) {
        if (!strcmp(risk, risk_text[i].risk))
            r = en ? risk_text[i].t.en : risk_text[i].t.it;
    }
    n = strlen(en ? l->en : l->it) + (r ? strlen(r) + 1 : 0) + 1;
    out = xmalloc(n);
    snprintf(out, n, "%s%s%s", en ? l->en : l->it, r ? " " : "", r ? r : "");
    return out;
}

struct find_ctx {
    const char *risk, *level, *language;
    char *found;
};

static void find_one(void *ctx, const char *risk, const char *level, const char *language,
                     const char *instruction)
{
    struct find_ctx *f = ctx;

    if (!f->found && !strcmp(risk, f->risk) && !strcmp(level, f->level) &&
        !strcmp(language, f->language))
        f->found = xstrdup(instruction);
}

char *api__template_text(struct store_reader *rd, int64_t org_id, const char *risk,
                         const char *level, const char *language)
{
    struct find_ctx f = { risk, level, language, NULL };
    int rank = level_rank(level);

    if (!rank)
        return NULL;
    if (store_template_list(rd, org_id, find_one, &f) == 0 && f.found)
        return f.found;
    return default_text(risk, rank, !strcmp(language, "en"));
}

void api__source_file_name(const char *comune, char *out, size_t outlen)
{
    dpc_name_fold(comune, out, outlen);
    for (char *p = out; *p; p++) {
        if (*p == ' ')
            *p = '_';
    }
}

/* ---- GET …/alert-templates: every risk of the org × level, defaults filled in ---- */

struct custom {
    json_t *list; /* [{risk, level, language, instruction}] */
};

static void custom_one(void *ctx, const char *risk, const char *level, const char *language,
                       const char *instruction)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s}", "risk", risk, "level", level,
                                         "language", language, "instruction", instruction));
}

/* One row: {risk, level, instruction: {lang: text}, custom: [lang]}. */
static json_t *template_row(json_t *custom, const char *risk, int rank)
{
    json_t *texts = json_object(), *mine = json_array(), *c;
    size_t i;

    for (int en = 0; en < 2; en++) {
        char *d = default_text(risk, rank, en);

        json_object_set_new(texts, en ? "en" : "it", json_string(d));
        free(d);
    }
    json_array_foreach(custom, i, c)
    {
        const char *lang = json_string_value(json_object_get(c, "language"));

        if (!strcmp(json_string_value(json_object_get(c, "risk")), risk) &&
            !strcmp(json_string_value(json_object_get(c, "level")), levels[rank - 1])) {
            json_object_set(texts, lang, json_object_get(c, "instruction"));
            json_array_append_new(mine, json_string(lang));
        }
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "risk", risk, "level", levels[rank - 1], "instruction",
                     texts, "custom", mine);
}

void api__templates_list(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    json_t *custom, *risks, *rows, *rk;
    size_t i;
    int err;

    if (!api__source_gate(r, &me, &o))
        return;
    custom = json_array();
    err = store_template_list(api__reader(r), o.id, custom_one, custom);
    if (err) {
        json_decref(custom);
        api__errno(r, err, "alert template list");
        return;
    }
    risks = api__risks_of(api__reader(r), o.id);
    rows = json_array();
    json_array_foreach(risks, i, rk)
    {
        for (int rank = 1; rank <= 4; rank++) {
            json_array_append_new(
                rows, template_row(custom, json_string_value(json_object_get(rk, "code")), rank));
        }
    }
    json_decref(risks);
    json_decref(custom);
    api__json(r, 200, json_pack("{s:o}", "templates", rows));
}

/* ---- PUT …/alert-templates/{risk}/{level} {"language", "instruction"} ---- */

static bool lang_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || n > STORE_TEMPLATE_LANG_MAX)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-'))
            return false;
    }
    return true;
}

struct put_ctx {
    char *risk, *level, *language;
};

static void template_done(struct http_req *r, int err, int64_t id, void *data)
{
    struct put_ctx *pc = data;
    struct store_org o;
    char *text;

    (void)id;
    if (err) {
        api__errno(r, err, "alert template write");
    } else if (api__alert_org(r, &o)) {
        text = api__template_text(api__reader(r), o.id, pc->risk, pc->level, pc->language);
        api__json(r, 200,
                  json_pack("{s:s, s:s, s:s, s:s?}", "risk", pc->risk, "level", pc->level,
                            "language", pc->language, "instruction", text));
        free(text);
    }
    free(pc->risk);
    free(pc->level);
    free(pc->language);
    free(pc);
}

void api__template_put(struct http_req *r)
{
    static const char *const allowed[] = { "language", "instruction", NULL };
    const char *risk = http_req_param(r, "risk"), *level = http_req_param(r, "level");
    const char *language = NULL, *text = NULL;
    struct store_org o;
    struct store_user me;
    struct put_ctx *pc;
    struct api_pending *p;
    json_t *body, *risks;
    bool known;
    int err;

    if (!api__source_gate(r, &me, &o))
        return;
    risks = api__risks_of(api__reader(r), o.id);
    known = api__risk_find(risks, risk) != NULL;
    json_decref(risks);
    if (!known || !level_rank(level)) {
        http_respond_error(r, 404, "template_not_found",
                           "Templates exist for this org's risks and the levels verde, giallo,"
                           " arancione, rosso.",
                           known ? "level" : "risk");
        return;
    }
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__string(r, body, "language", true, 2, STORE_TEMPLATE_LANG_MAX, &language) ||
        !api__label(r, body, "instruction", false, 1, TEMPLATE_TEXT_MAX, true, &text))
        goto out;
    if (!lang_ok(language)) {
        http_respond_error(r, 400, "invalid_value", "'language' is a language tag (it, en, de-AT).",
                           "language");
        goto out;
    }
    if (!text && !json_is_null(json_object_get(body, "instruction"))) {
        http_respond_error(r, 400, "missing_field",
                           "'instruction' is the text, or null to go back to the default.",
                           "instruction");
        goto out;
    }
    pc = xcalloc(1, sizeof(*pc));
    pc->risk = xstrdup(risk);
    pc->level = xstrdup(level);
    pc->language = xstrdup(language);
    p = api__pending_new(r, template_done, pc);
    err = store_template_put(api__app(r)->store, me.id, o.id, risk, level, language, text,
                             api__pending_done, p);
    if (err) {
        api__pending_free(p);
        template_done(r, err, 0, pc);
    }
out:
    json_decref(body);
}
