/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Post text to safe HTML, with WhatsApp's formatting: *bold*, _italic_, ~strike~, `mono`,
 * ```preformatted blocks```, autolinked http(s) URLs, and line breaks. It is not Markdown: no
 * headings, lists or raw HTML. Everything the writer typed is HTML-escaped, so the output can be
 * pasted into a page (or, escaped once more, into an Atom feed) whatever the input was.
 */
#ifndef CORE_FORMAT_H
#define CORE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/compiler.h"

/*
 * The most bytes format_html() can append for `len` bytes of input: an input byte becomes at
 * most 18 output bytes (a quote inside an autolinked URL is escaped twice, once in href and once
 * in the link text, plus the tags around a two-byte marker pair), plus a constant for short
 * inputs. Size the output buffer's limit with this and the call cannot fail.
 */
#define FORMAT_HTML_MAX(len) (18 * (size_t)(len) + 64)

/*
 * Render `len` bytes of `text` (UTF-8; invalid sequences become U+FFFD, control characters
 * other than tab and newline are dropped, so the result is also valid inside XML, and so are
 * the bidirectional embedding, override and isolate controls U+202A..U+202E and
 * U+2066..U+2069, which could make a link's text read as another address) and append
 * the HTML to `out`. The output is well-formed: every tag opened is closed, in order, and only
 * <strong> <em> <del> <code> <pre> <a href="http(s)://..." rel="nofollow noopener ugc"> and
 * <br> appear. Markers pair only within one line and at word boundaries, as in WhatsApp:
 * "2*3*4" and "snake_case_name" stay literal. Returns 0, or -EMSGSIZE when `out`'s limit is
 * smaller than FORMAT_HTML_MAX(len) would allow (then `out` holds a partial result).
 * Pure; any thread.
 */
MUST_CHECK int format_html(const char *text, size_t len, struct buf *out);

/*
 * Append `len` bytes of `text` to `out` escaped for XML and HTML text or a quoted attribute
 * (& < > " ' become entities), with the same UTF-8 and control-character cleaning as
 * format_html(). Returns 0 or -EMSGSIZE. Pure; any thread.
 */
MUST_CHECK int format_escape(const char *text, size_t len, struct buf *out);

/*
 * Whether `len` bytes of `text` may be a name or a description shown on pages: valid UTF-8
 * without control characters (C0, DEL, C1; a newline only when `multiline`) and without the
 * bidirectional controls that format_html() drops. Pure; any thread.
 */
bool format_label_ok(const char *text, size_t len, bool multiline);

#endif
