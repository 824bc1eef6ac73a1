/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * libvips glue (see image.h). Why each step:
 * - the header is read first, with the pixel limit checked before decoding: a 30,000 × 30,000
 *   PNG compresses to a few kilobytes and would want 2.7 GB of pixels;
 * - vips_thumbnail_buffer() shrinks on load (a 12-megapixel JPEG is decoded at 1/2 or 1/4
 *   scale straight away), honours the EXIF orientation and imports embedded ICC profiles;
 * - the large size is copied to memory once, because the loader reads sequentially and the
 *   four encoders would otherwise each decode the upload again;
 * - every encoder gets "strip": nothing of the upload's metadata reaches a follower.
 */
#include "media/image.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/alloc.h"
#include "core/log.h"

/* Tall images are limited by the pixel cap, not by a height box. */
#define HEIGHT_UNBOUNDED 10000000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

static void init(void)
{
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

/* Save `img` as WebP and as JPEG (alpha flattened on white, JPEG has none). */
static int save_pair(VipsImage *img, void **webp, size_t *webp_len, void **jpeg, size_t *jpeg_len)
{
    VipsImage *flat = NULL;
    double white[] = { 255, 255, 255 };
    int err = 0;

    if (vips_webpsave_buffer(img, webp, webp_len, "Q", 80, "strip", TRUE, NULL))
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
    if (vips_thumbnail_buffer((void *)p, len, &large, MEDIA_LARGE_WIDTH, "height",
                              HEIGHT_UNBOUNDED, "size", VIPS_SIZE_DOWN, "export_profile", "srgb",
                              "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL)) {
        err = -EBADMSG;
        goto out;
    }
    large = to_srgb(large);
    mem = large ? vips_image_copy_memory(large) : NULL;
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
