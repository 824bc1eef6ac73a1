/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* web/: the HTML writer's escaping, URL rule and sticky error; strings, languages, plurals;
 * a post in the shared markup with hostile text in every field. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/post.h"

/* The page so far as a string (the test frees it). */
static char *take(struct html *h)
{
    size_t len;
    int err;
    char *s = html_take(h, &len, &err);

    return s ? s : strdup("<error>");
}

TEST(text_and_attributes_are_escaped_literals_are_not)
{
    struct html h;
    char *s;

    html_init(&h, 4096);
    html_tag(&h, "<p");
    html_attr(&h, "title", "\"><script>x</script>");
    html_tag(&h, ">");
    html_text(&h, "<b>&'</b>");
    html_tag(&h, "</p>");
    s = take(&h);
    CHECK_STR(
        s,
        "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">&lt;b&gt;&amp;&#39;&lt;/b&gt;</p>");
    free(s);
}

TEST(urls_only_same_origin_or_http)
{
    CHECK(html_url_ok("/media/abc/small", 0));
    CHECK(html_url_ok("https://form.agid.gov.it/x", 0));
    CHECK(html_url_ok("HTTP://a.example", 0));
    CHECK(!html_url_ok("//evil.example/x", 0));
    CHECK(!html_url_ok("/\\evil.example", 0));
    CHECK(!html_url_ok("javascript:alert(1)", 0));
    CHECK(!html_url_ok(" javascript:alert(1)", 0));
    CHECK(!html_url_ok("data:text/html,x", 0));
    CHECK(!html_url_ok("mailto:a@b.it", 0));
    CHECK(html_url_ok("mailto:a@b.it", 1));
    CHECK(!html_url_ok("", 0));
    CHECK(!html_url_ok(NULL, 0));
}

TEST(first_error_sticks_and_take_reports_it)
{
    struct html h;
    size_t len;
    int err;

    html_init(&h, 8);
    html_tag(&h, "<p>");
    html_text(&h, "much too long for the limit");
    html_tag(&h, "</p>");
    CHECK(html_take(&h, &len, &err) == NULL);
    CHECK_INT(err, ==, -EMSGSIZE);
}

TEST(language_from_query_then_accept_language_then_italian)
{
    CHECK_INT(web_lang_pick("en", "it"), ==, WEB_LANG_EN);
    CHECK_INT(web_lang_pick("xx", "en-GB,en;q=0.9"), ==, WEB_LANG_EN);
    CHECK_INT(web_lang_pick(NULL, "de-DE, en;q=0.5, it;q=0.8"), ==, WEB_LANG_IT);
    CHECK_INT(web_lang_pick(NULL, "de-DE, en;q=0.5"), ==, WEB_LANG_EN);
    CHECK_INT(web_lang_pick(NULL, "fr"), ==, WEB_LANG_IT);
    CHECK_INT(web_lang_pick(NULL, "english"), ==, WEB_LANG_IT);
    CHECK_INT(web_lang_pick(NULL, NULL), ==, WEB_LANG_IT);
    CHECK_INT(web_lang_pick(NULL, "*"), ==, WEB_LANG_IT);
}

TEST(strings_plurals_and_numbers)
{
    struct html h;
    char num[32];
    char *s;

    CHECK_STR(web_t(WEB_LANG_IT, "page.channel.follow"), "Segui");
    CHECK_STR(web_t(WEB_LANG_EN, "page.channel.follow"), "Follow");
    CHECK_STR(web_t(WEB_LANG_EN, "no.such.key"), "no.such.key");
    web_number(WEB_LANG_IT, 1234567, num, sizeof(num));
    CHECK_STR(num, "1.234.567");
    web_number(WEB_LANG_EN, 999, num, sizeof(num));
    CHECK_STR(num, "999");
    html_init(&h, 4096);
    web_tn(&h, WEB_LANG_IT, "page.channel.followers", 0);
    html_tag(&h, "|");
    web_tn(&h, WEB_LANG_IT, "page.channel.followers", 1);
    html_tag(&h, "|");
    web_tn(&h, WEB_LANG_IT, "page.channel.followers", 1500);
    s = take(&h);
    CHECK_STR(s, "Ancora nessuno segue il canale|1 persona segue il canale|"
                 "1.500 persone seguono il canale");
    free(s);
    web_size(WEB_LANG_IT, 1234567, num, sizeof(num));
    CHECK_STR(num, "1,2 MB");
    web_size(WEB_LANG_EN, 12345, num, sizeof(num));
    CHECK_STR(num, "12 kB");
}

TEST(placeholders_are_filled_with_escaped_values)
{
    struct html h;
    const char *kv[] = { "org", "<A & B>", NULL };
    char *s;

    html_init(&h, 4096);
    web_tf(&h, WEB_LANG_IT, "page.privacy.controller.unset", kv);
    s = take(&h);
    CHECK_STR(s, "Titolare del trattamento: &lt;A &amp; B&gt;.");
    free(s);
}

TEST(post_markup_escapes_every_field_and_trusts_only_html)
{
    const char *x = "<script>alert(1)</script>";
    json_t *post = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s, s:i}, "
        "{s:s, s:s, s:s, s:s}], s:b, s:b, s:i, s:{s:i}, "
        "s:{s:s, s:[{s:s, s:i}, {s:s, s:i}], s:b, s:b, s:i, s:n}}",
        "id", "42", "html", "<strong>ok</strong>", "published_at", "2026-12-04T10:00:00Z", "media",
        "id", "img1", "alt", x, "kind", "image", "small_url", "/media/img1/small", "large_url",
        "/media/img1/large", "id", "doc1", "alt", x, "kind", "document", "url", "/media/doc1",
        "mime", "application/pdf", "bytes", 1234567, "id", "bad", "kind", "image", "small_url",
        "javascript:alert(1)", "large_url", "javascript:alert(1)", "pinned", 1, "edited", 1,
        "views", 3, "reactions", "\xF0\x9F\x91\x8D", 2, "poll", "question", x, "options", "text", x,
        "votes", 1, "text", "b", "votes", 3, "multiple", 0, "closed", 0, "total_voters", 4,
        "closes_at");
    struct web_post_opts o = { WEB_LANG_IT, "it", 0, 2 * 3600 * 1000, true };
    struct html h;
    char *s;

    CHECK(post != NULL);
    html_init(&h, 65536);
    web_post(&h, post, &o);
    s = take(&h);
    CHECK(strstr(s, "<article class=\"post\" id=\"p-42\" data-id=\"42\" lang=\"it\">") != NULL);
    CHECK(strstr(s, "<div class=\"post-text\"><strong>ok</strong></div>") != NULL);
    CHECK(strstr(s, "<script>") == NULL);
    CHECK(strstr(s, "javascript:") == NULL); /* the hostile URL's item is left out */
    CHECK(strstr(s, "alt=\"&lt;script&gt;alert(1)&lt;/script&gt;\"") != NULL);
    CHECK(strstr(s, "<a class=\"media-image\" href=\"/media/img1/large\"><img "
                    "src=\"/media/img1/small\"") != NULL);
    CHECK(strstr(s, "download>&lt;script&gt;alert(1)&lt;/script&gt; <span class=\"media-size\">"
                    "1,2 MB</span>") != NULL);
    CHECK(strstr(s, "<legend>&lt;script&gt;") != NULL);
    CHECK(strstr(s, "<meter min=\"0\" max=\"4\" value=\"3\">75%</meter>") != NULL);
    CHECK(strstr(s, "4 voti") != NULL);
    CHECK(strstr(s, "<p class=\"post-pinned\">") != NULL);
    CHECK(strstr(s, "<span class=\"post-edited\">modificato</span>") != NULL);
    CHECK(strstr(s, "2 ore fa</time>") != NULL);
    CHECK(strstr(s, "<span class=\"count\">2</span>") != NULL);
    free(s);
    json_decref(post);
}

TEST(page_frame_has_the_footer_links_and_refuses_hostile_urls)
{
    struct web_page p = { 0 };
    struct html h;
    char *s;

    p.lang = WEB_LANG_IT;
    p.title = "<T>";
    p.org_name = "Comune \"X\"";
    p.a11y_url = "javascript:alert(1)";
    p.a11y_email = "a11y@comune.example";
    p.canonical = "https://avvisi.example/c/x";
    p.path = "/c/x";
    html_init(&h, 65536);
    web_page_open(&h, &p);
    web_page_close(&h, &p);
    s = take(&h);
    CHECK(strstr(s, "<title>&lt;T&gt;</title>") != NULL);
    CHECK(strstr(s, "javascript:") == NULL);
    CHECK(strstr(s, "data-element=\"accessibility-link\"") == NULL);
    CHECK(strstr(s, "<a data-element=\"privacy-policy-link\" href=\"/privacy\">") != NULL);
    CHECK(strstr(s, "href=\"mailto:a11y@comune.example\"") != NULL);
    CHECK(strstr(s, "<meta property=\"og:url\" content=\"https://avvisi.example/c/x\">") != NULL);
    CHECK(strstr(s, "href=\"/c/x?lang=en\"") != NULL);
    CHECK(strstr(s, "Comune &quot;X&quot;") != NULL);
    free(s);
}

TEST(catalogues_parse_and_agree_on_keys)
{
    json_t *it = json_loads(web_i18n_sources[WEB_LANG_IT], 0, NULL);
    json_t *en = json_loads(web_i18n_sources[WEB_LANG_EN], 0, NULL);
    const char *key;
    json_t *v;

    CHECK(json_is_object(it) && json_is_object(en));
    json_object_foreach(it, key, v) CHECK(json_is_string(json_object_get(en, key)));
    CHECK_INT(json_object_size(it), ==, json_object_size(en));
    json_decref(it);
    json_decref(en);
}
