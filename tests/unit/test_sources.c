/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The official alert sources' readers (src/cap/dpc.c, lamma.c, feed.c) on fixture files built
 * in the real formats (tests/fixtures/sources/): levels, Comune matching, unknown texts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap/dpc.h"
#include "cap/feed.h"
#include "cap/lamma.h"
#include "harness.h"

#define FIX "tests/fixtures/sources/"

/* The whole file (caller frees), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n + 1);
        if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
            p[n] = '\0';
            *len = (size_t)n;
        } else {
            free(p);
            p = NULL;
        }
    }
    fclose(f);
    return p;
}

TEST(dpc_level_texts)
{
    CHECK_INT(dpc_level_parse("Assenza di fenomeni significativi prevedibili / NESSUNA ALLERTA"),
              ==, 1);
    CHECK_INT(dpc_level_parse("Ordinaria / ALLERTA GIALLA"), ==, 2);
    CHECK_INT(dpc_level_parse("Ordinaria per rischio temporali / ALLERTA GIALLA"), ==, 2);
    CHECK_INT(dpc_level_parse("ORDINARIA CRITICITA' PER RISCHIO IDRAULICO / ALLERTA GIALLA:"), ==,
              2);
    CHECK_INT(dpc_level_parse("Moderata / ALLERTA ARANCIONE"), ==, 3);
    CHECK_INT(dpc_level_parse("Elevata per rischio idraulico / Allerta rossa"), ==, 4);
    CHECK_INT(dpc_level_parse("NESSUNA ALLERTA"), ==, 1);
    /* Anything else is unknown (0), never verde. */
    CHECK_INT(dpc_level_parse("Criticità da definire / ALLERTA VIOLA"), ==, 0);
    CHECK_INT(dpc_level_parse(""), ==, 0);
    CHECK_INT(dpc_level_parse("Assenza di fenomeni significativi prevedibili"), ==, 0);
    CHECK_INT(dpc_level_parse("ALLERTA GIALLA / ALLERTA"), ==, 0);
    CHECK_INT(dpc_level_parse("NESSUNA ALLERTA GIALLA"), ==, 0);
}

TEST(dpc_names_fold_accents_case_apostrophes)
{
    char out[64];

    dpc_name_fold("Sant\xe2\x80\x99Omero", out, sizeof(out));
    CHECK_STR(out, "sant omero");
    dpc_name_fold("  SANT'  OMERO ", out, sizeof(out));
    CHECK_STR(out, "sant omero");
    dpc_name_fold("Forl\xc3\xac", out, sizeof(out));
    CHECK_STR(out, "forli");
    dpc_name_fold("Colle di Val d'Elsa", out, sizeof(out));
    CHECK_STR(out, "colle di val d elsa");
    dpc_name_fold("Reggio nell'Emilia", out, 8);
    CHECK_STR(out, "reggio");
    CHECK(dpc_name_eq("Sant'Omero", "sant\xe2\x80\x99omero"));
    CHECK(dpc_name_eq("FORLI", "Forl\xc3\xac"));
    CHECK(!dpc_name_eq("Certaldo", "Certaldi"));
    CHECK(!dpc_name_eq("", ""));
    CHECK(!dpc_name_eq("'", "-"));
    /* An overlong '@' (found by fuzz_dpc) stays two opaque bytes, not a one-byte letter. */
    dpc_name_fold("A\xc1\x80"
                  "B",
                  out, sizeof(out));
    CHECK_STR(out, "a\xc1\x80"
                   "b");
}

TEST(dpc_finds_the_first_bulletin_id_in_a_page)
{
    char id[DPC_ID_LEN + 1];
    size_t len = 0;
    char *page = slurp(FIX "dpc_page_1430.html", &len);
    int y, mo, d, h, mi;

    CHECK(page != NULL);
    CHECK_INT(dpc_find_id(page, len, id), ==, 0);
    CHECK_STR(id, "20261204_1430");
    free(page);
    CHECK_INT(dpc_id_parse(id, &y, &mo, &d, &h, &mi), ==, 0);
    CHECK_INT(y * 10000 + mo * 100 + d, ==, 20261204);
    CHECK_INT(h * 100 + mi, ==, 1430);
    /* Glued to more digits, or not a date: skipped. */
    CHECK_INT(dpc_find_id("x120261204_14301 20261399_1430 20261204_2460", 44, id), ==, -ENOENT);
    CHECK_INT(dpc_find_id("a 20261204_0905", 15, id), ==, 0);
    CHECK_STR(id, "20261204_0905");
    CHECK_INT(dpc_id_parse("2026120_1430", &y, &mo, &d, &h, &mi), ==, -EINVAL);
}

TEST(dpc_url_template)
{
    char out[128];

    CHECK_INT(dpc_url_fill("https://h/files/geojson/{id}_{day}.json", "20261204_1430", "today", out,
                           sizeof(out)),
              ==, 0);
    CHECK_STR(out, "https://h/files/geojson/20261204_1430_today.json");
    CHECK_INT(dpc_url_fill("{id}{id}{day}", "20261204_1430", "tomorrow", out, 20), ==,
              -ENAMETOOLONG);
    CHECK_INT(dpc_url_fill("{i}d{day", "x", "y", out, sizeof(out)), ==, 0);
    CHECK_STR(out, "{i}d{day");
}

TEST(dpc_day_file_levels_of_a_comune)
{
    struct dpc_zone z[DPC_MAX_ZONES];
    char why[256];
    size_t len = 0, n = 0;
    char *p = slurp(FIX "dpc_20261204_1430_today.json", &len);

    CHECK(p != NULL);
    CHECK_INT(dpc_day_parse(p, len, "Certaldo", NULL, z, DPC_MAX_ZONES, &n, why, sizeof(why)), ==,
              0);
    CHECK_INT(n, ==, 1);
    CHECK_STR(z[0].name, "Valdelsa-Valdera");
    CHECK_STR(dpc_risk_code[0], "idrogeologico");
    CHECK_INT(z[0].level[0], ==, 2); /* idrogeologico giallo */
    CHECK_INT(z[0].level[1], ==, 1); /* idraulico verde */
    CHECK_INT(z[0].level[2], ==, 2); /* temporali giallo */
    /* A Comune listed in two zones gets both. */
    CHECK_INT(dpc_day_parse(p, len, "MONTAIONE", NULL, z, DPC_MAX_ZONES, &n, why, sizeof(why)), ==,
              0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(z[1].name, "Arno-Firenze");
    CHECK_INT(z[1].level[1], ==, 3);
    /* Apostrophes and accents. */
    CHECK_INT(dpc_day_parse(p, len, "Sant\xe2\x80\x99Omero", NULL, z, DPC_MAX_ZONES, &n, why,
                            sizeof(why)),
              ==, 0);
    CHECK_STR(z[0].name, "Bacini Tordino Vomano");
    CHECK_INT(dpc_day_parse(p, len, "forli", NULL, z, DPC_MAX_ZONES, &n, why, sizeof(why)), ==, 0);
    CHECK_STR(z[0].name, "Romagna");
    /* A zone set by hand. */
    CHECK_INT(dpc_day_parse(p, len, NULL, "arno firenze", z, DPC_MAX_ZONES, &n, why, sizeof(why)),
              ==, 0);
    CHECK_INT(n, ==, 1);
    /* Not listed anywhere. */
    CHECK_INT(dpc_day_parse(p, len, "Atlantide", NULL, z, DPC_MAX_ZONES, &n, why, sizeof(why)), ==,
              -ENOENT);
    CHECK(strstr(why, "Atlantide") != NULL);
    /* An unknown level text in the Comune's zone is an error naming it, never verde. */
    CHECK_INT(dpc_day_parse(p, len, "Sora", NULL, z, DPC_MAX_ZONES, &n, why, sizeof(why)), ==,
              -EPROTO);
    CHECK(strstr(why, "ALLERTA VIOLA") != NULL);
    CHECK(strstr(why, "Bacino del Liri") != NULL);
    free(p);
}

TEST(dpc_day_file_refuses_what_is_not_a_bulletin)
{
    struct dpc_zone z[DPC_MAX_ZONES];
    char why[256];
    size_t n = 0;
    static const char missing[] = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
                                  "\"Feature\",\"properties\":{\"Nome zona\":\"Z\",\"Comuni\":["
                                  "\"Certaldo\"],\"Per rischio idraulico\":\"NESSUNA ALLERTA\"}}]}";

    CHECK_INT(dpc_day_parse("[]", 2, "Certaldo", NULL, z, 4, &n, why, sizeof(why)), ==, -EINVAL);
    CHECK_INT(dpc_day_parse("{\"type\":", 8, "Certaldo", NULL, z, 4, &n, why, sizeof(why)), ==,
              -EINVAL);
    CHECK_INT(
        dpc_day_parse(missing, sizeof(missing) - 1, "Certaldo", NULL, z, 4, &n, why, sizeof(why)),
        ==, -EPROTO);
    CHECK(strstr(why, "Per rischio idrogeologico") != NULL);
    CHECK_INT(dpc_day_parse("{}", DPC_MAX_BYTES + 1, "C", NULL, z, 4, &n, why, sizeof(why)), ==,
              -EMSGSIZE);
}

TEST(lamma_levels_and_na)
{
    struct lamma_bulletin b;
    char why[256];
    size_t len = 0;
    char *p = slurp(FIX "lamma_certaldo_giallo.xml", &len);

    CHECK(p != NULL);
    CHECK(p[0] == '\n'); /* the fixture starts with white space, as the real files do */
    CHECK_INT(lamma_parse(p, len, &b, why, sizeof(why)), ==, 0);
    free(p);
    CHECK_STR(b.comune, "Certaldo");
    CHECK_STR(b.updated, "04/12/2026 13:05");
    CHECK_INT(b.n_day, ==, 2);
    CHECK_INT(b.day[0].idday, ==, 1);
    CHECK_INT(b.day[0].allerta, ==, 2);
    CHECK_STR(lamma_risk_code[1], "idrogeologico");
    CHECK_INT(b.day[0].level[0], ==, 1); /* idraulico: nessuno is verde */
    CHECK_INT(b.day[0].level[1], ==, 2); /* idrogeologico giallo */
    CHECK_INT(b.day[0].level[3], ==, 3); /* vento arancio */
    CHECK_INT(b.day[1].idday, ==, 2);
    CHECK_INT(b.day[1].allerta, ==, 0); /* NA: not issued, never verde */
    for (size_t r = 0; r < LAMMA_N_RISKS; r++)
        CHECK_INT(b.day[1].level[r], ==, 0);
}

TEST(lamma_unknown_value_and_looser_input_refused)
{
    struct lamma_bulletin b;
    char why[256];
    size_t len = 0;
    char *p = slurp(FIX "lamma_certaldo_unknown.xml", &len);
    static const char bom[] = "\xef\xbb\xbf <?xml version=\"1.0\"?><p><previsione idday=\"1\" "
                              "ora=\"giorno\"/></p>";
    static const char junk[] = "x<?xml version=\"1.0\"?><p/>";
    static const char none[] = "<?xml version=\"1.0\"?><p><previsione idday=\"3\" ora=\"giorno\"/>"
                               "<previsione idday=\"1\" ora=\"sera\"/></p>";
    static const char xxe[] = "  <?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM "
                              "\"file:///etc/passwd\">]><p>&x;</p>";

    CHECK(p != NULL);
    CHECK_INT(lamma_parse(p, len, &b, why, sizeof(why)), ==, -EPROTO);
    CHECK(strstr(why, "viola") != NULL);
    CHECK(strstr(why, "idrogeologico") != NULL);
    free(p);
    CHECK_INT(lamma_level_parse("NA"), ==, 0);
    CHECK_INT(lamma_level_parse("Nessuno"), ==, 1);
    CHECK_INT(lamma_level_parse(""), ==, -1);
    CHECK_INT(lamma_parse(bom, sizeof(bom) - 1, &b, why, sizeof(why)), ==, -EINVAL);
    CHECK_INT(lamma_parse(junk, sizeof(junk) - 1, &b, why, sizeof(why)), ==, -EINVAL);
    CHECK_INT(lamma_parse(none, sizeof(none) - 1, &b, why, sizeof(why)), ==, -EINVAL);
    CHECK(strstr(why, "giorno") != NULL);
    CHECK_INT(lamma_parse(xxe, sizeof(xxe) - 1, &b, why, sizeof(why)), ==, -EINVAL);
    CHECK(strstr(why, "DOCTYPE") != NULL);
}

TEST(cap_feed_atom_and_rss_links)
{
    static const char atom[] =
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"
        "<entry><id>a</id><link rel=\"self\" href=\"https://x/self\"/>"
        "<link href=\"https://x/page\"/>"
        "<link rel=\"alternate\" type=\"application/cap+xml\" href=\" https://x/a.cap \"/></entry>"
        "<entry><id>b</id><link href=\"https://x/b.xml\"/></entry>"
        "<entry><id>c</id><link rel=\"self\" href=\"https://x/c\"/></entry></feed>";
    static const char rss[] =
        "<rss version=\"2.0\"><channel><title>t</title>"
        "<item><link>https://r/1.xml</link></item>"
        "<item><link>https://r/page</link><enclosure url=\"https://r/2.cap\" "
        "type=\"application/cap+xml\" length=\"1\"/></item><item><title>x</title></item>"
        "</channel></rss>";
    struct cap_feed_entry e[4];
    char why[200];
    size_t n = 0;

    CHECK_INT(cap_feed_parse(atom, sizeof(atom) - 1, e, 4, &n, why, sizeof(why)), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(e[0].url, "https://x/a.cap");
    CHECK_STR(e[1].url, "https://x/b.xml");
    CHECK_INT(cap_feed_parse(rss, sizeof(rss) - 1, e, 1, &n, why, sizeof(why)), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(cap_feed_parse(rss, sizeof(rss) - 1, e, 4, &n, why, sizeof(why)), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(e[0].url, "https://r/1.xml");
    CHECK_STR(e[1].url, "https://r/2.cap");
    CHECK_INT(cap_feed_parse("<html/>", 7, e, 4, &n, why, sizeof(why)), ==, -EINVAL);
    CHECK_INT(cap_feed_parse("<!DOCTYPE feed><feed/>", 22, e, 4, &n, why, sizeof(why)), ==,
              -EINVAL);
}
