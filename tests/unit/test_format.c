/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WhatsApp-style formatting to safe HTML: the markers, their word-boundary and same-line rules,
 * links, escaping (no HTML injection, no javascript: links) and the output bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/format.h"
#include "harness.h"

/* Render `in` into a static buffer (tests only). */
static const char *html(const char *in)
{
    static char out[8192];
    struct buf b;
    size_t n = strlen(in);

    buf_init(&b, FORMAT_HTML_MAX(n));
    if (format_html(in, n, &b) != 0) {
        buf_release(&b);
        return "(failed)";
    }
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

/* Escape `in` into a static buffer (tests only). */
static const char *esc(const char *in)
{
    static char out[1024];
    struct buf b;

    buf_init(&b, sizeof(out));
    if (format_escape(in, strlen(in), &b) != 0) {
        buf_release(&b);
        return "(failed)";
    }
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

TEST(format_markers)
{
    CHECK_STR(html("*bold*"), "<strong>bold</strong>");
    CHECK_STR(html("_it_ and ~gone~"), "<em>it</em> and <del>gone</del>");
    CHECK_STR(html("run `make check` now"), "run <code>make check</code> now");
    CHECK_STR(html("*_both_*"), "<strong><em>both</em></strong>");
    CHECK_STR(html("(*a*)"), "(<strong>a</strong>)");
    CHECK_STR(html("*Avviso:* strada chiusa."), "<strong>Avviso:</strong> strada chiusa.");
    CHECK_STR(html(""), "");
}

TEST(format_word_boundaries)
{
    CHECK_STR(html("2*3*4"), "2*3*4");
    CHECK_STR(html("snake_case_name"), "snake_case_name");
    CHECK_STR(html("città_bella_"), "città_bella_");
    CHECK_STR(html("* not bold *"), "* not bold *");
    CHECK_STR(html("*not bold *"), "*not bold *");
    CHECK_STR(html("**"), "**");
    CHECK_STR(html("*a"), "*a");
    CHECK_STR(html("a *b *c* d"), "a <strong>b *c</strong> d");
    CHECK_STR(html("**bold**"), "*<strong>bold</strong>*");
    /* the same marker does not nest in itself */
    CHECK_STR(html("*a *b* c*"), "<strong>a *b</strong> c*");
}

TEST(format_lines)
{
    CHECK_STR(html("*one\ntwo*"), "*one<br>two*");
    CHECK_STR(html("a\nb\r\nc"), "a<br>b<br>c");
    CHECK_STR(html("```x *y*\n<z>```"), "<pre><code>x *y*\n&lt;z&gt;</code></pre>");
    CHECK_STR(html("a ``` b"), "a ``` b");
    CHECK_STR(html("`*no*`"), "<code>*no*</code>");
}

TEST(format_escaping)
{
    CHECK_STR(html("<script>alert('x')</script>"),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK_STR(html("a & b \"c\""), "a &amp; b &quot;c&quot;");
    CHECK_STR(html("*<b>*"), "<strong>&lt;b&gt;</strong>");
    /* control characters are dropped, invalid UTF-8 becomes U+FFFD */
    CHECK_STR(html("a\x01\x7f"
                   "b"),
              "ab");
    CHECK_STR(html("x\xff"
                   "y"),
              "x\xEF\xBF\xBDy");
    CHECK_STR(html("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(html("emoji \xF0\x9F\x98\x80"), "emoji \xF0\x9F\x98\x80");
}

TEST(format_links)
{
    CHECK_STR(html("see https://comune.example.it/a?b=1&c=2."),
              "see <a href=\"https://comune.example.it/a?b=1&amp;c=2\" "
              "rel=\"nofollow noopener ugc\">https://comune.example.it/a?b=1&amp;c=2</a>.");
    CHECK_STR(html("(http://x.it)"),
              "(<a href=\"http://x.it\" rel=\"nofollow noopener ugc\">http://x.it</a>)");
    CHECK_STR(html("http://w.org/Foo_(bar)"),
              "<a href=\"http://w.org/Foo_(bar)\" rel=\"nofollow noopener ugc\">"
              "http://w.org/Foo_(bar)</a>");
    CHECK_STR(html("*https://x.it*"),
              "<strong><a href=\"https://x.it\" rel=\"nofollow noopener ugc\">https://x.it</a>"
              "</strong>");
    CHECK_STR(
        html("https://x.it/a_b_c"),
        "<a href=\"https://x.it/a_b_c\" rel=\"nofollow noopener ugc\">https://x.it/a_b_c</a>");
    /* quotes cannot leave the attribute */
    CHECK_STR(html("https://x.it/\"onmouseover=\"x"),
              "<a href=\"https://x.it/\" rel=\"nofollow noopener ugc\">https://x.it/</a>"
              "&quot;onmouseover=&quot;x");
    CHECK_STR(html("javascript:alert(1)"), "javascript:alert(1)");
    CHECK_STR(html("xhttp://a.it"), "xhttp://a.it");
    CHECK_STR(html("http://"), "http://");
}

TEST(format_bound)
{
    /* the worst case per byte: quotes inside a URL */
    char in[4096];
    struct buf b;

    memcpy(in, "http://", 7);
    memset(in + 7, '"', sizeof(in) - 7);
    in[sizeof(in) - 1] = 'a';
    /* the URL stops at the first quote, so build one of apostrophes instead */
    memset(in + 7, '\'', sizeof(in) - 8);
    buf_init(&b, FORMAT_HTML_MAX(sizeof(in)));
    CHECK_INT(format_html(in, sizeof(in), &b), ==, 0);
    CHECK(b.len <= FORMAT_HTML_MAX(sizeof(in)));
    buf_release(&b);
    buf_init(&b, 10);
    CHECK_INT(format_html("*a long text*", 13, &b), ==, -EMSGSIZE);
    buf_release(&b);
}

/*
 * Issue 9, finding 11: bidirectional overrides passed into rendered posts, so a link could show
 * other text than its address ("https://x.it/\u202Egpj.exe" reads as ".../exe.jpg"). The
 * embedding, override and isolate controls are dropped, in links and in text alike; the marks
 * (U+200E, U+200F) and right-to-left text stay.
 */
TEST(format_drops_bidi_controls)
{
    static const char *const controls[] = {
        "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
        "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",
    };
    char in[128];

    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        snprintf(in, sizeof(in), "see https://x.it/%sgpj.exe ok%s!", controls[i], controls[i]);
        CHECK_STR(html(in), "see <a href=\"https://x.it/gpj.exe\" rel=\"nofollow noopener ugc\">"
                            "https://x.it/gpj.exe</a> ok!");
    }
    CHECK_STR(html("\xE2\x80\xAE"
                   "abc *b*"),
              "abc <strong>b</strong>");
    CHECK_STR(html("a\xE2\x80\x8F"
                   "b \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"),
              "a\xE2\x80\x8F"
              "b \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");
    CHECK_STR(esc("\xE2\x81\xA6name\xE2\x81\xA9"), "name");
}

TEST(format_label_ok_refuses_controls_and_bidi)
{
    CHECK(format_label_ok("Protezione civile", 17, false));
    CHECK(format_label_ok("Citt\xC3\xA0 \xD7\xA9\xD7\x9C", 9, false));
    CHECK(format_label_ok("riga 1\nriga 2", 13, true));
    CHECK(!format_label_ok("riga 1\nriga 2", 13, false));
    CHECK(!format_label_ok("a\rb", 3, true));
    CHECK(!format_label_ok("a\tb", 3, false));
    CHECK(!format_label_ok("a\x1b[31mb", 7, false));
    CHECK(!format_label_ok("a\x7f", 2, false));
    CHECK(!format_label_ok("a\xC2\x85", 3, false)); /* NEL, a C1 control */
    CHECK(format_label_ok("a\xC2\xA0"
                          "b",
                          4, false)); /* NBSP is text */
    CHECK(!format_label_ok("a\xE2\x80\xAE"
                           "b",
                           5, false));
    CHECK(!format_label_ok("a\xE2\x81\xA7"
                           "b",
                           5, true));
    CHECK(!format_label_ok("a\xff", 2, false));
}
