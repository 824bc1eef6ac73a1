/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * src/open311/: the form-urlencoded parser (decoding, refusals, caps), attribute[code] names,
 * the XML writer (element names, array items, escaping, forbidden characters) and ISO 8601
 * dates with the org's offset (CET/CEST by the EU rule).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "harness.h"
#include "open311/encode.h"
#include "open311/form.h"

TEST(form_decodes_plus_percent_and_utf8)
{
    struct o311_form f;
    const char in[] = "service_code=strade-buche&description=Buca+in+via%20Roma+%C3%A8&&lat=43.7";

    CHECK_INT(o311_form_parse(&f, in, strlen(in)), ==, 0);
    CHECK_INT(f.n, ==, 3);
    CHECK_STR(o311_form_get(&f, "description"), "Buca in via Roma è");
    CHECK_STR(o311_form_get(&f, "lat"), "43.7");
    CHECK(o311_form_get(&f, "long") == NULL);
    o311_form_release(&f);
}

TEST(form_piece_without_equals_is_empty_value)
{
    struct o311_form f;

    CHECK_INT(o311_form_parse(&f, "flag&x=1", 8), ==, 0);
    CHECK_STR(o311_form_get(&f, "flag"), "");
    o311_form_release(&f);
}

TEST(form_refuses_bad_escapes_nul_and_invalid_utf8)
{
    static const char *const bad[] = { "a=%zz",       "a=%4",     "a=%",
                                       "a=%00",       "a=%C3%28", "%FF=1",
                                       "a=%ED%A0%80", "a=%C0%AF", "a=%F4%90%80%80" };
    struct o311_form f;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(o311_form_parse(&f, bad[i], strlen(bad[i])), ==, -EINVAL);
        o311_form_release(&f);
    }
}

TEST(form_caps_the_number_of_fields)
{
    struct buf b;
    struct o311_form f;

    buf_init(&b, 1 << 16);
    for (int i = 0; i <= O311_FORM_FIELDS_MAX; i++)
        CHECK_INT(buf_printf(&b, "f%d=1&", i), ==, 0);
    CHECK_INT(o311_form_parse(&f, b.data, b.len), ==, -E2BIG);
    o311_form_release(&f);
    buf_release(&b);
}

TEST(form_add_checks_utf8)
{
    struct o311_form f = { 0 };

    CHECK_INT(o311_form_add(&f, "a", 1, "\xc3\xa8", 2), ==, 0);
    CHECK_INT(o311_form_add(&f, "b", 1, "x\0y", 3), ==, -EINVAL);
    CHECK_STR(o311_form_get(&f, "a"), "è");
    o311_form_release(&f);
}

TEST(attribute_names)
{
    char code[O311_ATTR_CODE_MAX + 1];
    bool multi = true;

    CHECK(o311_attr_name("attribute[tipo_rifiuto]", code, &multi));
    CHECK_STR(code, "tipo_rifiuto");
    CHECK(!multi);
    CHECK(o311_attr_name("attribute[materiale][]", code, &multi));
    CHECK_STR(code, "materiale");
    CHECK(multi);
    CHECK(!o311_attr_name("attribute[]", code, &multi));
    CHECK(!o311_attr_name("attribute[a]x", code, &multi));
    CHECK(!o311_attr_name("attribute[a b]", code, &multi));
    CHECK(!o311_attr_name("attributes[a]", code, &multi));
    CHECK(!o311_attr_name("attribute[a", code, &multi));
}

static const char *xml(const char *json, const char *root, const char *item)
{
    static char out[4096];
    json_t *v = json_loads(json, 0, NULL);
    struct buf b;

    buf_init(&b, sizeof(out) - 1);
    if (!v || o311_xml_encode(v, root, item, &b) != 0) {
        snprintf(out, sizeof(out), "(failed)");
    } else {
        snprintf(out, sizeof(out), "%s", b.data);
    }
    buf_release(&b);
    json_decref(v);
    return out;
}

TEST(xml_names_array_items_as_the_specification_does)
{
    CHECK_STR(xml("[{\"service_code\":\"a\",\"metadata\":true}]", "services", "service"),
              "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service><service_code>a"
              "</service_code><metadata>true</metadata></service></services>\n");
    CHECK_STR(xml("{\"attributes\":[{\"values\":[{\"key\":\"k\",\"name\":\"n\"}]}]}",
                  "service_definition", NULL),
              "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_definition><attributes>"
              "<attribute><values><value><key>k</key><name>n</name></value></values></attribute>"
              "</attributes></service_definition>\n");
    CHECK_STR(xml("{\"formats\":[\"text/xml\"],\"x\":null,\"n\":3,\"f\":43.77}", "endpoint", NULL),
              "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<endpoint><formats><format>text/xml"
              "</format></formats><x/><n>3</n><f>43.77</f></endpoint>\n");
}

TEST(xml_escapes_markup_and_drops_forbidden_characters)
{
    CHECK_STR(xml("{\"d\":\"<a href='x'>&amp;\\\"è\\u0001\\u001f\\t\"}", "r", NULL),
              "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<r><d>&lt;a href=&apos;x&apos;&gt;"
              "&amp;amp;&quot;è\t</d></r>\n");
}

TEST(xml_past_the_limit_fails)
{
    json_t *v = json_pack("[s]", "una descrizione lunga");
    struct buf b;

    buf_init(&b, 40);
    CHECK_INT(o311_xml_encode(v, "service_requests", "request", &b), ==, -EMSGSIZE);
    buf_release(&b);
    json_decref(v);
}

TEST(datetime_has_the_org_offset)
{
    char d[40];

    /* 2026-01-15T12:00:00Z: winter, +01:00 in Rome */
    o311_datetime(1768478400000LL, "Europe/Rome", d, sizeof(d));
    CHECK_STR(d, "2026-01-15T13:00:00+01:00");
    /* 2026-07-15T12:00:00Z: summer, +02:00 */
    o311_datetime(1784116800000LL, "Europe/Rome", d, sizeof(d));
    CHECK_STR(d, "2026-07-15T14:00:00+02:00");
    /* DST starts 2026-03-29 01:00 UTC and ends 2026-10-25 01:00 UTC */
    CHECK_INT(o311_tz_offset_min(1774745999000LL, "Europe/Rome"), ==, 60);
    CHECK_INT(o311_tz_offset_min(1774746000000LL, "Europe/Rome"), ==, 120);
    CHECK_INT(o311_tz_offset_min(1792889999000LL, "Europe/Rome"), ==, 120);
    CHECK_INT(o311_tz_offset_min(1792890000000LL, "Europe/Rome"), ==, 60);
    o311_datetime(1768478400000LL, "UTC", d, sizeof(d));
    CHECK_STR(d, "2026-01-15T12:00:00+00:00");
    o311_datetime(1768478400000LL, "America/New_York", d, sizeof(d));
    CHECK_STR(d, "2026-01-15T07:00:00-05:00");
    o311_datetime(1768478400000LL, "Nowhere/Atlantis", d, sizeof(d));
    CHECK_STR(d, "2026-01-15T12:00:00+00:00");
}
