/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* CAP 1.2 read/write (src/cap/) and the UTC offsets CAP needs (core/tz.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap/cap.h"
#include "core/tz.h"
#include "harness.h"

/* 2026-01-15T12:00:00Z and 2026-07-15T12:00:00Z */
#define WINTER_MS 1768478400000LL
#define SUMMER_MS 1784116800000LL

TEST(posix_tz_rome_winter_and_summer)
{
    int off = 0;

    CHECK_INT(tz_posix_offset_min("CET-1CEST,M3.5.0,M10.5.0/3", WINTER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 60);
    CHECK_INT(tz_posix_offset_min("CET-1CEST,M3.5.0,M10.5.0/3", SUMMER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 120);
    CHECK_INT(tz_posix_offset_min("<-03>3", SUMMER_MS, &off), ==, 0);
    CHECK_INT(off, ==, -180);
    CHECK_INT(tz_posix_offset_min("UTC0", SUMMER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 0);
    /* Southern hemisphere: DST spans the new year. */
    CHECK_INT(tz_posix_offset_min("AEST-10AEDT,M10.1.0,M4.1.0/3", WINTER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 660);
    CHECK_INT(tz_posix_offset_min("AEST-10AEDT,M10.1.0,M4.1.0/3", SUMMER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 600);
    CHECK_INT(tz_posix_offset_min("garbage", SUMMER_MS, &off), ==, -EPROTO);
}

TEST(posix_tz_switches_at_the_last_sunday_of_march_at_two)
{
    int off = 0;

    /* 2026-03-29 is the last Sunday of March: 01:00Z is 02:00 CET, when clocks go to 03:00. */
    CHECK_INT(tz_posix_offset_min("CET-1CEST,M3.5.0,M10.5.0/3", 1774745999000LL, &off), ==, 0);
    CHECK_INT(off, ==, 60);
    CHECK_INT(tz_posix_offset_min("CET-1CEST,M3.5.0,M10.5.0/3", 1774746000000LL, &off), ==, 0);
    CHECK_INT(off, ==, 120);
}

TEST(zone_file_rome)
{
    int off = 0;

    CHECK_INT(tz_offset_min("Europe/Rome", SUMMER_MS, &off), ==, 0);
    CHECK_INT(off, ==, 120);
    CHECK_INT(tz_offset_min("../etc/passwd", SUMMER_MS, &off), ==, -EINVAL);
    CHECK_INT(tz_offset_min("No/Such_Zone", SUMMER_MS, &off), ==, -ENOENT);
}

TEST(cap_times_round_trip_with_offsets)
{
    char s[40];
    int64_t ms = 0;

    cap_time_format(WINTER_MS, 60, s, sizeof(s));
    CHECK_STR(s, "2026-01-15T13:00:00+01:00");
    CHECK_INT(cap_time_parse(s, &ms), ==, 0);
    CHECK(ms == WINTER_MS);
    CHECK_INT(cap_time_parse("2026-01-15T12:00:00-00:00", &ms), ==, 0);
    CHECK(ms == WINTER_MS);
    CHECK_INT(cap_time_parse("2026-01-15T12:00:00.250Z", &ms), ==, 0);
    CHECK(ms == WINTER_MS);
    CHECK_INT(cap_time_parse("2026-01-15 12:00:00Z", &ms), ==, -EINVAL);
    CHECK_INT(cap_time_parse("2026-13-15T12:00:00Z", &ms), ==, -EINVAL);
    CHECK_INT(cap_time_parse("2026-01-15T12:00:00+0100", &ms), ==, -EINVAL);
}

static const char doc[] =
    "<?xml version=\"1.0\"?><alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
    "<identifier>id-1</identifier><sender>s@x</sender><sent>2026-01-15T13:00:00+01:00</sent>"
    "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
    "<info><language>it-IT</language><category>Met</category><event>Vento</event>"
    "<urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>"
    "<headline>Vento &amp; mare</headline>"
    "<parameter><valueName>awareness_level</valueName><value>3; orange; Severe</value></parameter>"
    "<area><areaDesc>Zona A</areaDesc><geocode><valueName>ISTAT</valueName>"
    "<value>048010</value></geocode></area></info></alert>";

TEST(parse_reads_the_elements_araldo_uses)
{
    struct cap_msg m;
    char why[200], where[100];

    CHECK_INT(cap_parse(doc, strlen(doc), &m, why, sizeof(why), where, sizeof(where)), ==, 0);
    CHECK_STR(m.identifier, "id-1");
    CHECK_INT((int)m.n_info, ==, 1);
    CHECK_STR(m.info[0].headline, "Vento & mare");
    CHECK_STR(m.info[0].param[0].value, "3; orange; Severe");
    CHECK_STR(m.info[0].area[0].geocode[0].value, "048010");
    cap_msg_release(&m);
}

TEST(parse_names_the_missing_element)
{
    char bad[sizeof(doc)];
    struct cap_msg m;
    char why[200], where[100];
    char *p;

    memcpy(bad, doc, sizeof(doc));
    p = strstr(bad, "<severity>Severe</severity>");
    memcpy(p, "<severity>Awful!</severity>", strlen("<severity>Awful!</severity>"));
    CHECK_INT(cap_parse(bad, strlen(bad), &m, why, sizeof(why), where, sizeof(where)), ==, -EINVAL);
    CHECK_STR(where, "alert/info[1]/severity");
}

TEST(parse_refuses_doctype_entities_and_depth)
{
    static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM "
                              "\"file:///etc/passwd\">]><alert>&x;</alert>";
    static const char lower[] = "<!doctype alert><alert/>";
    struct cap_msg m;
    char why[200], where[100];
    char deep[4096];
    size_t n = 0;

    CHECK_INT(cap_parse(xxe, strlen(xxe), &m, why, sizeof(why), where, sizeof(where)), ==, -EINVAL);
    CHECK(strstr(why, "DOCTYPE") != NULL);
    CHECK_INT(cap_parse(lower, strlen(lower), &m, why, sizeof(why), where, sizeof(where)), ==,
              -EINVAL);
    n += (size_t)snprintf(deep, sizeof(deep), "<alert xmlns=\"%s\">", CAP_NS_12);
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "</a>");
    snprintf(deep + n, sizeof(deep) - n, "</alert>");
    CHECK_INT(cap_parse(deep, strlen(deep), &m, why, sizeof(why), where, sizeof(where)), ==,
              -EINVAL);
    CHECK(strstr(why, "deeper") != NULL);
}

TEST(encode_escapes_and_parses_back)
{
    struct cap_msg in = { 0 }, out;
    char why[200], where[100];
    size_t len;
    char *x;

    in.identifier = (char *)"a";
    in.sender = (char *)"b";
    in.sent = (char *)"2026-01-15T13:00:00+01:00";
    in.status = (char *)"Actual";
    in.msg_type = (char *)"Alert";
    in.scope = (char *)"Public";
    in.n_info = 1;
    in.info[0].category = (char *)"Met";
    in.info[0].event = (char *)"Vento";
    in.info[0].urgency = (char *)"Expected";
    in.info[0].severity = (char *)"Severe";
    in.info[0].certainty = (char *)"Likely";
    in.info[0].headline = (char *)"<script>&";
    x = cap_encode(&in, &len);
    CHECK(x != NULL);
    CHECK(strstr(x, "&lt;script&gt;&amp;") != NULL);
    CHECK_INT(cap_parse(x, len, &out, why, sizeof(why), where, sizeof(where)), ==, 0);
    CHECK_STR(out.info[0].headline, "<script>&");
    cap_msg_release(&out);
    free(x);
}
