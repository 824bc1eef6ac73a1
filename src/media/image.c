/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libvips glue (see image.h). Why each step:
 * - the header is read first, with the pixel limit checked before decoding: a 30,000 × 30,000
 *   PNG compresses to a few kilobytes and would want 2.7 GB of pixels;
 * - vips_thumbnail_buffer() shrinks on load (a 12-megapixel JPEG is decoded at 1/2 or 1/4
 *   scale straight away), honours the EXIF orientation and imports embedded ICC profiles;
 * - the large size's pixels are copied into a new image once: the loader reads sequentially
 *   and the four encoders would otherwise each decode the upload again, and the new image has
 *   no metadata at all (EXIF, XMP, IPTC, ICC). "strip" on each encoder is not enough by
 *   itself: libvips 8.14's webpsave ignores it (it wrote the GPS position out), so WebP
 *   files also lose their metadata chunks afterwards (webp_strip).
 */
#include "media/image.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/alloc.h"
#include "core/log.h"

/* Tall images are limited by the pixel cap, not by a height box. */
#define HEIGHT_UNBOUNDED 10000000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

/* libvips warns on stderr about each bad tile of a hostile upload: keep that out of the log. */
static void vips_warning(const char *domain, GLogLevelFlags level, const char *msg, void *ctx)
{
    (void)domain;
    (void)level;
    (void)ctx;
    log_debug("media: libvips: %s", msg);
}

static void init(void)
{
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, vips_warning, NULL);
    if (VIPS_INIT("araldo")) {
        log_error("media: cannot initialise libvips: %s", vips_error_buffer());
        vips_error_clear();
        init_err = -EIO;
        return;
    }
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_block_untrusted_set(TRUE);
    /* One upload per pool thread, each single-threaded: the pool size is the CPU budget. */
    vips_concurrency_set(1);
}

int media_image_init(void)
{
    pthread_once(&init_once, init);
    return init_err;
}

void media_image_release(struct media_image *m)
{
    if (!m)
        return;
    for (int i = 0; i < MEDIA_VARIANTS; i++) {
        g_free(m->data[i]);
        m->data[i] = NULL;
        m->len[i] = 0;
    }
}

/*
 * The pixels of `in` in a new memory image that carries no metadata whatsoever. `in` is
 * unreffed in every case. NULL on error.
 */
static VipsImage *pixels_only(VipsImage *in)
{
    VipsImage *out = NULL;
    size_t size = 0;
    void *px = vips_image_write_to_memory(in, &size);

    if (px) {
        out =
            vips_image_new_from_memory_copy(px, size, in->Xsize, in->Ysize, in->Bands, in->BandFmt);
    }
    g_free(px);
    g_object_unref(in);
    return out;
}

/* sRGB 8-bit, upright; `in` is unreffed in every case. NULL on error. */
static VipsImage *to_srgb(VipsImage *in)
{
    VipsImage *out = NULL;
    VipsInterpretation want =
        in->Type == VIPS_INTERPRETATION_B_W || in->Type == VIPS_INTERPRETATION_GREY16
            ? VIPS_INTERPRETATION_B_W
            : VIPS_INTERPRETATION_sRGB;

    if (vips_colourspace(in, &out, want, NULL))
        out = NULL;
    g_object_unref(in);
    return out;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/*
 * Drop the EXIF, XMP and ICCP chunks of a WebP file in place and clear their VP8X flags
 * (WebP container spec, "Extended File Format"). libvips 8.14 writes an EXIF chunk even for
 * an image without metadata; whatever the library version, no metadata chunk leaves here.
 * Returns the new length, or 0 if the file is not a well-formed RIFF WebP.
 */
static size_t webp_strip(uint8_t *p, size_t len)
{
    size_t in = 12;
    size_t out = 12;

    if (len < 12 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBP", 4) != 0)
        return 0;
    while (in + 8 <= len) {
        uint32_t n = le32(p + in + 4);
        size_t whole = 8 + (size_t)n + (n & 1);

        if (whole > len - in)
            return 0;
        if (!memcmp(p + in, "VP8X", 4) && n >= 4)
            p[in + 8] &= (uint8_t) ~(0x20 | 0x08 | 0x04); /* ICC, EXIF, XMP flags */
        if (memcmp(p + in, "EXIF", 4) != 0 && memcmp(p + in, "XMP ", 4) != 0 &&
            memcmp(p + in, "ICCP", 4) != 0) {
            memmove(p + out, p + in, whole);
            out += whole;
        }
        in += whole;
    }
    if (in != len)
        return 0;
    put_le32(p + 4, (uint32_t)(out - 8));
    return out;
}

/* Save `img` as WebP and as JPEG (alpha flattened on white, JPEG has none). */
static int save_pair(VipsImage *img, void **webp, size_t *webp_len, void **jpeg, size_t *jpeg_len)
{
    VipsImage *flat = NULL;
    double white[] = { 255, 255, 255 };
    int err = 0;

    if (vips_webpsave_buffer(img, webp, webp_len, "Q", 80, "strip", TRUE, NULL))
        return -EBADMSG;
    *webp_len = webp_strip(*webp, *webp_len);
    if (!*webp_len)
        return -EBADMSG;
    if (vips_image_hasalpha(img)) {
        VipsArrayDouble *bg = vips_array_double_new(white, img->Bands > 2 ? 3 : 1);

        if (vips_flatten(img, &flat, "background", bg, NULL))
            err = -EBADMSG;
        vips_area_unref(VIPS_AREA(bg));
    } else {
        flat = img;
        g_object_ref(flat);
    }
    if (!err && vips_jpegsave_buffer(flat, jpeg, jpeg_len, "Q", 82, "strip", TRUE,
                                     "optimize_coding", TRUE, NULL))
        err = -EBADMSG;
    if (flat)
        g_object_unref(flat);
    return err;
}

/*
 * Whether a JPEG has its end-of-image marker after the first scan. Marker segments are walked
 * up to the first SOS (an EXIF thumbnail inside APP1 has an EOI of its own); in entropy-coded
 * data a 0xFF byte is always followed by 0x00 or a restart marker, so an FF D9 after SOS is
 * the real end. Bytes after it are allowed: phones append motion-photo videos there.
 */
static bool jpeg_complete(const uint8_t *p, size_t len)
{
    size_t i = 2;

    while (i + 4 <= len && p[i] == 0xFF) {
        uint8_t m = p[i + 1];

        if (m == 0xFF) {
            i++; /* fill byte */
            continue;
        }
        if (m == 0xDA)
            break;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
            i += 2;
            continue;
        }
        i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
    }
    if (i + 4 > len || p[i + 1] != 0xDA)
        return false;
    return memmem(p + i, len - i, "\xFF\xD9", 2) != NULL;
}

/*
 * libvips 8.14 decodes a PNG or a JPEG cut short from a buffer with only a warning (the
 * missing rows come out grey or black), whatever fail_on says; a truncated upload is an error
 * the person should hear about. A PNG must end with its IEND chunk, a JPEG have its EOI.
 */
static bool complete(const uint8_t *p, size_t len)
{
    static const uint8_t iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82 };

    if (len >= 8 && !memcmp(p, "\x89PNG", 4))
        return len >= 8 + 12 && !memcmp(p + len - 12, iend, 12);
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8)
        return jpeg_complete(p, len);
    return true;
}

int media_image_process(const void *p, size_t len, uint64_t max_pixels, struct media_image *out)
{
    VipsImage *head = NULL;
    VipsImage *large = NULL;
    VipsImage *mem = NULL;
    VipsImage *small = NULL;
    int err = media_image_init();

    memset(out, 0, sizeof(*out));
    if (err)
        return err;
    if (!complete(p, len))
        return -EBADMSG;
    /* Header only: no pixel is decoded here. */
    head = vips_image_new_from_buffer(p, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!head) {
        err = -EBADMSG;
        goto out;
    }
    if ((uint64_t)head->Xsize * (uint64_t)head->Ysize > max_pixels) {
        err = -E2BIG;
        goto out;
    }
    if (vips_thumbnail_buffer((void *)p, len, &large, MEDIA_LARGE_WIDTH, "height", HEIGHT_UNBOUNDED,
                              "size", VIPS_SIZE_DOWN, "export_profile", "srgb", "fail_on",
                              VIPS_FAIL_ON_ERROR, NULL)) {
        err = -EBADMSG;
        goto out;
    }
    large = to_srgb(large);
    mem = large ? pixels_only(large) : NULL;
    large = NULL; /* pixels_only took it */
    if (!mem) {
        err = -EBADMSG;
        goto out;
    }
    out->width = mem->Xsize;
    out->height = mem->Ysize;
    err = save_pair(mem, &out->data[MEDIA_LARGE_WEBP], &out->len[MEDIA_LARGE_WEBP],
                    &out->data[MEDIA_LARGE_JPEG], &out->len[MEDIA_LARGE_JPEG]);
    if (err)
        goto out;
    if (vips_thumbnail_image(mem, &small, MEDIA_SMALL_WIDTH, "height", HEIGHT_UNBOUNDED, "size",
                             VIPS_SIZE_DOWN, "no_rotate", TRUE, NULL)) {
        err = -EBADMSG;
        goto out;
    }
    err = save_pair(small, &out->data[MEDIA_SMALL_WEBP], &out->len[MEDIA_SMALL_WEBP],
                    &out->data[MEDIA_SMALL_JPEG], &out->len[MEDIA_SMALL_JPEG]);
out:
    if (err) {
        log_debug("media: image not processed: %s", vips_error_buffer());
        media_image_release(out);
    }
    vips_error_clear();
    if (small)
        g_object_unref(small);
    if (mem)
        g_object_unref(mem);
    if (large)
        g_object_unref(large);
    if (head)
        g_object_unref(head);
    /* This thread is not one of libvips's own: free its per-thread buffers now. */
    vips_thread_shutdown();
    return err;
}

int media_png_gray(const uint8_t *pix, int w, int h, void **out, size_t *len)
{
    VipsImage *img = NULL;
    void *buf = NULL;
    size_t n = 0;
    int err = media_image_init();

    *out = NULL;
    *len = 0;
    if (err)
        return err;
    img = vips_image_new_from_memory(pix, (size_t)w * (size_t)h, w, h, 1, VIPS_FORMAT_UCHAR);
    if (!img || vips_pngsave_buffer(img, &buf, &n, "compression", 9, "strip", TRUE, NULL)) {
        err = -EIO;
    } else {
        *out = xmalloc(n);
        memcpy(*out, buf, n);
        *len = n;
    }
    g_free(buf);
    if (img)
        g_object_unref(img);
    vips_error_clear();
    vips_thread_shutdown();
    return err;
}
