/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * media/: type sniffing, the multipart reader, content-addressed files and their sweep, image
 * processing limits (pixel cap, truncation, no metadata out) and QR codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "media/cas.h"
#include "media/image.h"
#include "media/multipart.h"
#include "media/qr.h"
#include "media/sniff.h"

/* ---- sniffing ---- */

static const char jpeg_head[] = "\xFF\xD8\xFF\xE0\x00\x10JFIF";
static const char png_head[] = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR";
static const char webp_head[] = "RIFF\x24\x00\x00\x00WEBPVP8 ";
static const char heic_head[] = "\x00\x00\x00\x18"
                                "ftypheic\x00\x00\x00\x00mif1heic";
static const char m4a_head[] = "\x00\x00\x00\x1C"
                               "ftypM4A \x00\x00\x00\x00M4A isomiso2";
static const char pdf_head[] = "%PDF-1.7\n";

static size_t ogg_opus(char *out)
{
    memset(out, 0, 64);
    memcpy(out, "OggS", 4);
    out[26] = 1;  /* one lacing value */
    out[27] = 19; /* the packet's length */
    memcpy(out + 28, "OpusHead", 8);
    return 47;
}

TEST(sniff_recognises_each_accepted_type)
{
    char ogg[64];
    size_t n = ogg_opus(ogg);

    CHECK_INT(media_sniff(jpeg_head, sizeof(jpeg_head) - 1), ==, MEDIA_JPEG);
    CHECK_INT(media_sniff(png_head, sizeof(png_head) - 1), ==, MEDIA_PNG);
    CHECK_INT(media_sniff(webp_head, sizeof(webp_head) - 1), ==, MEDIA_WEBP);
    CHECK_INT(media_sniff(heic_head, sizeof(heic_head) - 1), ==, MEDIA_HEIC);
    CHECK_INT(media_sniff(m4a_head, sizeof(m4a_head) - 1), ==, MEDIA_M4A);
    CHECK_INT(media_sniff(pdf_head, sizeof(pdf_head) - 1), ==, MEDIA_PDF);
    CHECK_INT(media_sniff(ogg, n), ==, MEDIA_OGG_OPUS);
    CHECK_STR(media_type_mime(MEDIA_HEIC), "image/heic");
    CHECK_INT(media_type_kind(MEDIA_M4A), ==, MEDIA_KIND_VOICE);
    CHECK_INT(media_type_kind(MEDIA_PDF), ==, MEDIA_KIND_DOCUMENT);
    CHECK_STR(media_kind_name(media_type_kind(MEDIA_WEBP)), "image");
}

TEST(sniff_refuses_lookalikes_and_prefixes)
{
    static const char *const bad[] = {
        "\x7F"
        "ELF\x02\x01\x01",              /* an executable */
        "GIF89a\x01\x00",               /* a GIF: not accepted */
        "<svg xmlns=",                  /* SVG can carry script */
        "<!doctype html>",              /* nor HTML */
        "PK\x03\x04",                   /* zip, docx */
        "RIFF\x24\x00\x00\x00WAVEfmt ", /* RIFF but not WebP */
        "OggS\x00\x02",                 /* Ogg without its first packet */
        "\x00\x00\x00\x18"
        "ftypmp42\x00\x00\x00\x00isommp42", /* a video */
    };
    char ogg[64];
    size_t n = ogg_opus(ogg);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(media_sniff(bad[i], strlen(bad[i]) + 4), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff("", 0), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(NULL, 10), ==, MEDIA_UNKNOWN);
    /* a prefix too short to be sure is not the type */
    CHECK_INT(media_sniff(jpeg_head, 2), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(png_head, 7), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(webp_head, 14), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(ogg, 35), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(heic_head, 15), ==, MEDIA_UNKNOWN);
    CHECK_INT(media_sniff(ogg, n), ==, MEDIA_OGG_OPUS);
}

TEST(sniff_ftyp_brands_stay_inside_the_box)
{
    /* box size 16 says the brand list is empty: the "heic" after it must not count */
    static const char s[] = "\x00\x00\x00\x10"
                            "ftypmp42\x00\x00\x00\x00heic";

    CHECK_INT(media_sniff(s, sizeof(s) - 1), ==, MEDIA_UNKNOWN);
}

/* ---- multipart ---- */

TEST(boundary_parsed_quoted_or_not_and_refused_when_bad)
{
    char b[MULTIPART_BOUNDARY_MAX + 1];
    char long_ct[200];

    CHECK_INT(media_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof(b)), ==,
              0);
    CHECK_STR(b, "abc123");
    CHECK_INT(media_multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b'c\"", b,
                                       sizeof(b)),
              ==, 0);
    CHECK_STR(b, "a b'c");
    CHECK_INT(media_multipart_boundary("multipart/form-data", b, sizeof(b)), ==, -EINVAL);
    CHECK_INT(media_multipart_boundary("multipart/form-data; boundary=", b, sizeof(b)), ==,
              -EINVAL);
    CHECK_INT(media_multipart_boundary("multipart/form-data; boundary=\"abc", b, sizeof(b)), ==,
              -EINVAL);
    CHECK_INT(media_multipart_boundary("multipart/form-data; boundary=a<b", b, sizeof(b)), ==,
              -EINVAL);
    CHECK_INT(media_multipart_boundary("multipart/mixed; boundary=abc", b, sizeof(b)), ==, -EINVAL);
    CHECK_INT(media_multipart_boundary("application/json", b, sizeof(b)), ==, -EINVAL);
    CHECK_INT(media_multipart_boundary(NULL, b, sizeof(b)), ==, -EINVAL);
    snprintf(long_ct, sizeof(long_ct), "multipart/form-data; boundary=%071d", 0);
    CHECK_INT(media_multipart_boundary(long_ct, b, sizeof(b)), ==, -EINVAL);
    snprintf(long_ct, sizeof(long_ct), "multipart/form-data; boundary=%070d", 0);
    CHECK_INT(media_multipart_boundary(long_ct, b, sizeof(b)), ==, 0);
}

#define CRLF "\r\n"

TEST(multipart_finds_the_file_part_byte_exact)
{
    static const char body[] =
        "--XyZ" CRLF "Content-Disposition: form-data; name=\"title\"" CRLF CRLF "ciao" CRLF
        "--XyZ" CRLF "Content-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"" CRLF
        "Content-Type: image/jpeg" CRLF CRLF "\xFF\xD8\r\n--XyZz\x00tail" CRLF "--XyZ--" CRLF;
    const char *d = NULL;
    size_t n = 0;

    CHECK_INT(media_multipart_find(body, sizeof(body) - 1, "XyZ", "file", &d, &n), ==, 0);
    /* "\r\n--XyZz" is data: a delimiter is followed by CRLF or "--" (RFC 2046 §5.1.1) */
    CHECK_INT(n, ==, 15);
    CHECK(!memcmp(d, "\xFF\xD8\r\n--XyZz\x00tail", 15));
    CHECK_INT(media_multipart_find(body, sizeof(body) - 1, "XyZ", "title", &d, &n), ==, 0);
    CHECK_INT(n, ==, 4);
    CHECK(!memcmp(d, "ciao", 4));
    /* "filename" is not "name" */
    CHECK_INT(media_multipart_find(body, sizeof(body) - 1, "XyZ", "a.jpg", &d, &n), ==, -ENOENT);
}

TEST(multipart_refuses_malformed_bodies)
{
    static const char *const bad[] = {
        "",
        "preamble" CRLF "--b" CRLF "Content-Disposition: form-data; name=\"file\"" CRLF CRLF
        "x" CRLF "--b--",
        "--b" CRLF "Content-Disposition: form-data; name=\"file\"" CRLF CRLF "x never ends",
        "--b" CRLF "Content-Disposition: form-data; name=\"file\"" CRLF "no blank line" CRLF
        "--b--",
        "--b" CRLF "Content-Disposition: form-data; name=\"file\"" CRLF CRLF "x" CRLF "--b",
        "--bX" CRLF,
    };
    char big[MULTIPART_HEADERS_MAX + 200];
    char many[4096];
    const char *d;
    size_t n;
    size_t len = 0;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(media_multipart_find(bad[i], strlen(bad[i]), "b", "file", &d, &n), ==, -EINVAL);
    /* a header block past MULTIPART_HEADERS_MAX */
    len = (size_t)snprintf(big, sizeof(big), "--b" CRLF "X-Pad: ");
    memset(big + len, 'a', MULTIPART_HEADERS_MAX);
    len += MULTIPART_HEADERS_MAX;
    len += (size_t)snprintf(big + len, sizeof(big) - len, CRLF CRLF "x" CRLF "--b--");
    CHECK_INT(media_multipart_find(big, len, "b", "file", &d, &n), ==, -EINVAL);
    /* more parts than MULTIPART_PARTS_MAX */
    len = 0;
    for (int i = 0; i <= MULTIPART_PARTS_MAX; i++)
        len += (size_t)snprintf(
            many + len, sizeof(many) - len,
            "--b" CRLF "Content-Disposition: form-data; name=\"f%d\"" CRLF CRLF "v" CRLF, i);
    len += (size_t)snprintf(many + len, sizeof(many) - len, "--b--");
    CHECK_INT(media_multipart_find(many, len, "b", "file", &d, &n), ==, -EINVAL);
    /* well formed, no such field */
    CHECK_INT(media_multipart_find("--b--", 5, "b", "file", &d, &n), ==, -ENOENT);
}

/* ---- content-addressed files ---- */

static bool never_used(void *ctx, const char *hex)
{
    (void)ctx;
    (void)hex;
    return false;
}

static bool used_if_match(void *ctx, const char *hex)
{
    return !strcmp(ctx, hex);
}

static int count_files(const char *root)
{
    char cmd[4200];
    FILE *f;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", root);
    f = popen(cmd, "r");
    if (f && fscanf(f, "%d", &n) != 1)
        n = -1;
    if (f)
        pclose(f);
    return n;
}

TEST(cas_writes_once_dedups_and_sweeps_only_unused_old_files)
{
    char root[4096];
    char a[MEDIA_HASH_HEX], b[MEDIA_HASH_HEX], c[MEDIA_HASH_HEX];
    char path[4200];
    struct stat st;
    unsigned n = 0;

    snprintf(root, sizeof(root), "%s/media", harness_tmpdir());
    CHECK_INT(media_cas_put(root, "hello", 5, a), ==, 0);
    CHECK_STR(a, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    CHECK_INT(media_cas_path(root, a, path, sizeof(path)), ==, 0);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_size, ==, 5);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(media_cas_put(root, "hello", 5, b), ==, 0);
    CHECK_STR(a, b);
    CHECK_INT(media_cas_put(root, "world", 5, c), ==, 0);
    CHECK_INT(count_files(root), ==, 2);
    /* young files stay whatever `used` says */
    CHECK_INT(media_cas_sweep(root, (int64_t)time(NULL) - 3600, never_used, NULL, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    /* old enough: the unused one goes, the used one stays */
    CHECK_INT(media_cas_sweep(root, (int64_t)time(NULL) + 10, used_if_match, a, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(count_files(root), ==, 1);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(media_cas_path(root, "../../etc/passwd", path, sizeof(path)), ==, -EINVAL);
    CHECK(!media_cas_hex_valid("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"));
    n = 9;
    CHECK_INT(media_cas_sweep("/nonexistent/araldo", 0, never_used, NULL, &n), ==, 0);
    CHECK_INT(n, ==, 0);
}

struct touch_ctx {
    const char *root;
};

/* Plays an upload of the same bytes arriving mid-sweep: it refreshes the file's time. */
static bool touch_and_say_unused(void *ctx, const char *hex)
{
    const struct touch_ctx *t = ctx;
    char path[4200];
    struct timespec ts[2] = { { .tv_sec = time(NULL) + 1000 }, { .tv_sec = time(NULL) + 1000 } };

    if (!media_cas_path(t->root, hex, path, sizeof(path)))
        (void)utimensat(AT_FDCWD, path, ts, 0);
    return false;
}

TEST(cas_sweep_keeps_a_file_an_upload_refreshed_meanwhile)
{
    char root[4096];
    char a[MEDIA_HASH_HEX];
    char path[4200];
    struct touch_ctx t;
    struct stat st;
    unsigned n = 9;

    snprintf(root, sizeof(root), "%s/media-race", harness_tmpdir());
    t.root = root;
    CHECK_INT(media_cas_put(root, "shared", 6, a), ==, 0);
    CHECK_INT(media_cas_sweep(root, (int64_t)time(NULL) + 10, touch_and_say_unused, &t, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    CHECK_INT(media_cas_path(root, a, path, sizeof(path)), ==, 0);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_size, ==, 6);
    CHECK_INT(count_files(root), ==, 1); /* and nothing left aside */
}

/* ---- images ---- */

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A w x h grey PNG made by our own encoder. Caller frees. */
static uint8_t *grey_png(int w, int h, size_t *len)
{
    uint8_t *pix = malloc((size_t)w * (size_t)h);
    void *out = NULL;

    for (int i = 0; i < w * h; i++)
        pix[i] = (uint8_t)(i * 7);
    if (media_png_gray(pix, w, h, &out, len))
        out = NULL;
    free(pix);
    return out;
}

TEST(image_process_makes_four_sizes_without_metadata)
{
    size_t len = 0;
    uint8_t *png = grey_png(2000, 1000, &len);
    struct media_image m;

    CHECK(png);
    CHECK_INT(media_image_process(png, len, 50000000, &m), ==, 0);
    CHECK_INT(m.width, ==, 1280);
    CHECK_INT(m.height, ==, 640);
    for (int i = 0; i < MEDIA_VARIANTS; i++)
        CHECK(m.data[i] && m.len[i] > 100);
    CHECK_INT(media_sniff(m.data[MEDIA_SMALL_WEBP], m.len[MEDIA_SMALL_WEBP]), ==, MEDIA_WEBP);
    CHECK_INT(media_sniff(m.data[MEDIA_LARGE_JPEG], m.len[MEDIA_LARGE_JPEG]), ==, MEDIA_JPEG);
    /* no EXIF chunk in the WebP, no APP1 (EXIF/XMP) in the JPEG */
    CHECK(!memmem(m.data[MEDIA_LARGE_WEBP], m.len[MEDIA_LARGE_WEBP], "EXIF", 4));
    CHECK(!memmem(m.data[MEDIA_LARGE_JPEG], m.len[MEDIA_LARGE_JPEG], "\xFF\xE1", 2));
    media_image_release(&m);
    free(png);
}

TEST(image_pixel_cap_checked_before_decoding_and_truncation_refused)
{
    size_t len = 0;
    uint8_t *png = grey_png(64, 64, &len);
    struct media_image m;

    CHECK(png);
    CHECK_INT(media_image_process(png, len, 64 * 64 - 1, &m), ==, -E2BIG);
    CHECK_INT(media_image_process(png, len - 12, 50000000, &m), ==, -EBADMSG);
    CHECK_INT(media_image_process(png, 30, 50000000, &m), ==, -EBADMSG);
    CHECK_INT(media_image_process("\xFF\xD8\xFF\xE0", 4, 50000000, &m), ==, -EBADMSG);
    /* the same PNG claiming 30,000 x 30,000 in its (re-checksummed) header: refused unread */
    be32(png + 16, 30000);
    be32(png + 20, 30000);
    be32(png + 29, crc32_of(png + 12, 17));
    CHECK_INT(media_image_process(png, len, 50000000, &m), ==, -E2BIG);
    free(png);
}

/* ---- QR ---- */

TEST(qr_svg_and_png_for_a_url)
{
    char *svg = NULL;
    void *png = NULL;
    size_t n = 0;
    char big[MEDIA_QR_TEXT_MAX + 2];

    CHECK_INT(media_qr_svg("https://avvisi.comune.example.it/i/abcdefghij", &svg, &n), ==, 0);
    CHECK(strstr(svg, "<svg") && strstr(svg, "</svg>"));
    CHECK_INT(n, ==, strlen(svg));
    free(svg);
    CHECK_INT(media_qr_png("https://x.it/i/abcdefghij", 4, &png, &n), ==, 0);
    CHECK_INT(media_sniff(png, n), ==, MEDIA_PNG);
    free(png);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(media_qr_svg(big, &svg, &n), ==, -EINVAL);
    CHECK_INT(media_qr_svg("", &svg, &n), ==, -EINVAL);
    CHECK_INT(media_qr_png("x", 0, &png, &n), ==, -EINVAL);
}
