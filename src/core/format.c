/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WhatsApp-style formatting to safe HTML (see format.h for what is supported).
 *
 * Safety comes from the structure, not from filtering: the writer's bytes only ever reach the
 * output through escape(), and the tags come from a fixed table, opened and closed by the same
 * recursive call, so the output is balanced whatever the input. Links are built only from text
 * that starts with http:// or https://, so no other scheme (javascript:, data:) can become one.
 *
 * Pairing follows WhatsApp: an opening marker follows the start of the text or a non-word
 * character and is followed by a non-space; a closing marker follows a non-space and is
 * followed by the end or a non-word character; both are on the same line; the same marker does
 * not nest inside itself. Bytes >= 0x80 count as word characters, so "città_bella_" stays
 * literal like "citta_bella_".
 */
#include "core/format.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

struct fmt {
    const unsigned char *s;
    size_t len;
    struct buf *out;
    int err; /* sticky: the first failed append */
};

static const struct {
    char marker;
    const char *open;
    const char *close;
} tags[] = {
    { '*', "<strong>", "</strong>" },
    { '_', "<em>", "</em>" },
    { '~', "<del>", "</del>" },
    { '`', "<code>", "</code>" },
};

#define NTAGS (sizeof(tags) / sizeof(tags[0]))
#define NONE  SIZE_MAX

static void put(struct fmt *f, const void *p, size_t n)
{
    if (!f->err)
        f->err = buf_append(f->out, p, n);
}

static void put_str(struct fmt *f, const char *s)
{
    put(f, s, strlen(s));
}

static bool is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0 if it is not one (RFC 3629 table). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    uint32_t cp;
    size_t want;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        want = 2;
        cp = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        want = 3;
        cp = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        want = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < want)
        return 0;
    for (size_t i = 1; i < want; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates, past U+10FFFF, and the XML non-characters U+FFFE/U+FFFF. */
    if ((want == 3 && cp < 0x800) || (want == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return want;
}

/*
 * The bidirectional embedding, override and isolate controls, U+202A..U+202E and
 * U+2066..U+2069, as the 3-byte UTF-8 sequence at p (already known valid). Inside a post they
 * reorder what follows as displayed, so a link's text could show another address than its
 * href ("https://x.it/\u202Egpj.exe"), or text could pass for a link: they are dropped.
 */
static bool is_bidi_control(const unsigned char *p, size_t n)
{
    return n == 3 && p[0] == 0xE2 &&
           ((p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
            (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9));
}

/*
 * What escape() writes for the character at i (before b): its entity, "" to drop it, or NULL
 * to copy it as it is. *n is set to its length in bytes.
 */
static const char *escape_one(const struct fmt *f, size_t i, size_t b, size_t *n)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    unsigned char c = f->s[i];

    *n = 1;
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        if (c >= 0x80) {
            *n = utf8_seq(f->s + i, b - i);
            if (!*n) {
                *n = 1;
                return replacement;
            }
            if (is_bidi_control(f->s + i, *n))
                return "";
        } else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
            return ""; /* not allowed in XML 1.0, never meaningful in a post */
        }
        return NULL;
    }
}

static void escape(struct fmt *f, size_t a, size_t b)
{
    size_t run = a; /* start of bytes to copy as they are */
    size_t i = a;

    while (i < b) {
        size_t n;
        const char *ent = escape_one(f, i, b, &n);

        if (ent) {
            put(f, f->s + run, i - run);
            put_str(f, ent);
            run = i + n;
        }
        i += n;
    }
    put(f, f->s + run, b - run);
}

/*
 * Length of the http(s) URL starting at i (at a word boundary) and ending before `b`, or 0.
 * Trailing punctuation is sentence, not URL ("see https://x.it/a."), and so is a closing
 * parenthesis without its opening one ("(https://x.it)"), or a formatting marker.
 */
static size_t url_len(const struct fmt *f, size_t i, size_t b)
{
    const unsigned char *s = f->s;
    size_t start;
    size_t j;
    int parens = 0;

    if (i > 0 && is_word(s[i - 1]))
        return 0;
    if (b - i > 8 && !strncasecmp((const char *)s + i, "https://", 8)) {
        start = i + 8;
    } else if (b - i > 7 && !strncasecmp((const char *)s + i, "http://", 7)) {
        start = i + 7;
    } else {
        return 0;
    }
    for (j = start; j < b; j++) {
        unsigned char c = s[j];

        if (is_space(c) || c < 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`')
            break;
        parens += c == '(';
        parens -= c == ')';
    }
    while (j > start) {
        unsigned char c = s[j - 1];

        if (c == ')' && parens < 0) {
            parens++;
        } else if (!strchr(".,;:!?'*_~", c)) {
            break;
        }
        j--;
    }
    return j > start ? j - i : 0;
}

static void link(struct fmt *f, size_t i, size_t n)
{
    put_str(f, "<a href=\"");
    escape(f, i, i + n);
    put_str(f, "\" rel=\"nofollow noopener ugc\">");
    escape(f, i, i + n);
    put_str(f, "</a>");
}

static bool opener_ok(const struct fmt *f, size_t i, size_t b)
{
    /* "**" or "```" inside a line is not an empty span */
    return (i == 0 || !is_word(f->s[i - 1])) && i + 1 < b && !is_space(f->s[i + 1]) &&
           f->s[i + 1] != f->s[i];
}

/*
 * The closing marker for the opener at i, before `b`, or NONE. URLs are skipped: a marker
 * inside a link is part of the link.
 */
static size_t closer(const struct fmt *f, size_t i, size_t b)
{
    unsigned char m = f->s[i];

    for (size_t j = i + 1; j < b; j++) {
        size_t n = m == '`' ? 0 : url_len(f, j, b);

        if (n) {
            j += n - 1;
            continue;
        }
        if (f->s[j] == m && j >= i + 2 && !is_space(f->s[j - 1]) &&
            (j + 1 == f->len || !is_word(f->s[j + 1])))
            return j;
    }
    return NONE;
}

static int tag_of(unsigned char c)
{
    for (size_t k = 0; k < NTAGS; k++) {
        if ((unsigned char)tags[k].marker == c)
            return (int)k;
    }
    return -1;
}

/*
 * Render s[a..b), which holds no newline, with markers in `mask` (bit k: tags[k]) already open
 * around it. Each opener's closer search is remembered when it fails: closers do not depend on
 * the opener, so a later opener of the same marker fails too, and a line costs O(n) per marker
 * instead of O(n^2).
 */
static void render(struct fmt *f, size_t a, size_t b, unsigned mask)
{
    size_t failed[NTAGS];
    size_t lit = a;
    size_t i = a;

    for (size_t k = 0; k < NTAGS; k++)
        failed[k] = NONE;
    while (i < b) {
        int k = tag_of(f->s[i]);
        size_t n = url_len(f, i, b);
        size_t j;

        if (n) {
            escape(f, lit, i);
            link(f, i, n);
            i += n;
            lit = i;
            continue;
        }
        if (k < 0 || (mask & (1u << k)) || (failed[k] != NONE && i >= failed[k]) ||
            !opener_ok(f, i, b)) {
            i++;
            continue;
        }
        j = closer(f, i, b);
        if (j == NONE) {
            failed[k] = i;
            i++;
            continue;
        }
        escape(f, lit, i);
        put_str(f, tags[k].open);
        if (tags[k].marker == '`') {
            escape(f, i + 1, j);
        } else {
            render(f, i + 1, j, mask | (1u << k));
        }
        put_str(f, tags[k].close);
        i = j + 1;
        lit = i;
    }
    escape(f, lit, b);
}

/* Lines of s[a..b): each rendered alone, joined with <br>. */
static void lines(struct fmt *f, size_t a, size_t b)
{
    while (a < b) {
        const unsigned char *nl = memchr(f->s + a, '\n', b - a);
        size_t e = nl ? (size_t)(nl - f->s) : b;

        render(f, a, e, 0);
        if (e < b)
            put_str(f, "<br>");
        a = e + 1;
    }
}

static size_t find3(const struct fmt *f, size_t from)
{
    for (size_t i = from; i + 3 <= f->len; i++) {
        if (!memcmp(f->s + i, "```", 3))
            return i;
    }
    return NONE;
}

int format_html(const char *text, size_t len, struct buf *out)
{
    struct fmt f = { (const unsigned char *)text, len, out, 0 };
    size_t a = 0;

    /* ```blocks``` first: they may span lines, and nothing inside them is formatted. */
    while (a < len && !f.err) {
        size_t p = find3(&f, a);
        size_t q = p == NONE ? NONE : find3(&f, p + 4);

        if (q == NONE) {
            lines(&f, a, len);
            break;
        }
        lines(&f, a, p);
        put_str(&f, "<pre><code>");
        escape(&f, p + 3, q);
        put_str(&f, "</code></pre>");
        a = q + 3;
    }
    return f.err;
}

int format_escape(const char *text, size_t len, struct buf *out)
{
    struct fmt f = { (const unsigned char *)text, len, out, 0 };

    escape(&f, 0, len);
    return f.err;
}

bool format_label_ok(const char *text, size_t len, bool multiline)
{
    const unsigned char *s = (const unsigned char *)text;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(s + i, len - i);

        if (!n)
            return false;
        if ((s[i] < 0x20 && !(multiline && s[i] == '\n')) || s[i] == 0x7F)
            return false; /* C0 controls and DEL */
        if (n == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0)
            return false; /* C1 controls, U+0080..U+009F */
        if (is_bidi_control(s + i, n))
            return false;
        i += n;
    }
    return true;
}
