/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Media: upload (POST /api/v1/media), details for staff (GET /api/v1/media/{id}) and serving
 * (GET /media/{id}, /media/{id}/small, /media/{id}/large). docs/API.md, section Media.
 *
 * Who may upload: any signed-in staff account (operator, org admin, staff). The media belongs
 * to the uploader's organisation; its details are visible to that organisation's staff and to
 * operators. Serving needs no credentials: a media id is 128 random bits, unguessable like an
 * invite code, and appears only in the posts that use it, so a photo of an unlisted channel
 * reaches exactly the people who can read that channel's posts (and whoever they share the
 * link with, as with the post itself).
 *
 * Everything uploaded is Internet input: the type comes from the bytes (media/sniff.h), never
 * from Content-Type or a file name; each kind has a size cap (settings); images are decoded
 * under a pixel cap and re-encoded without any metadata on the media work pool, never on an
 * event loop; files are written content-addressed, fsynced, before the row that lists them.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/media_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/workpool.h"
#include "media/cas.h"
#include "media/image.h"
#include "media/multipart.h"
#include "media/sniff.h"
#include "store/media.h"

/*
 * The request body ceiling for uploads: the largest per-kind cap a setting may have (32 MiB)
 * plus room for the multipart framing. The per-kind caps are checked after sniffing.
 */
#define UPLOAD_BODY_MAX ((size_t)32 * 1024 * 1024 + (size_t)64 * 1024)
/* Media workers run below the event loops' priority, so that answering wins the CPU. */
#define MEDIA_NICE 10

static const char cache_forever[] = "public, max-age=31536000, immutable";

/*
 * Where media files live: media_dir, which every node of a cluster must share (NFS or the
 * like: a photo uploaded through one node is served by the others), or DATA_DIR/media.
 */
static void media_root(struct api_app *a, char *out, size_t outlen)
{
    const char *m = a->set.media_dir;

    if (m && *m) {
        snprintf(out, outlen, "%s", m);
    } else {
        snprintf(out, outlen, "%s/media", a->set.data_dir ? a->set.data_dir : ".");
    }
}

/* ---- upload ---- */

struct upload {
    struct http_req *req;
    struct http_loop *loop;
    struct api_app *app;
    /*
     * A copy of the upload: the request's own body cannot be borrowed across threads, since
     * a shutdown past its grace period frees connections whose answer is still pending.
     */
    char *data;
    size_t len;
    enum media_type type;
    int err;
    struct store_media m;
    api_media_done_fn *done; /* NULL: answer the upload itself (POST /api/v1/media) */
    void *done_ctx;
};

static void add_file(struct store_media *m, const char *variant, const char *hex, const char *mime,
                     size_t bytes)
{
    struct store_media_file *f = &m->files[m->nfiles++];

    snprintf(f->variant, sizeof(f->variant), "%s", variant);
    snprintf(f->sha256, sizeof(f->sha256), "%s", hex);
    snprintf(f->mime, sizeof(f->mime), "%s", mime);
    f->bytes = (int64_t)bytes;
}

static int store_image(struct upload *u, const char *root)
{
    static const char *const names[MEDIA_VARIANTS] = {
        [MEDIA_SMALL_WEBP] = "small.webp",
        [MEDIA_SMALL_JPEG] = "small.jpeg",
        [MEDIA_LARGE_WEBP] = "large.webp",
        [MEDIA_LARGE_JPEG] = "large.jpeg",
    };
    struct media_image img;
    char hex[MEDIA_HASH_HEX];
    int err = media_image_process(u->data, u->len, u->app->set.media_max_pixels, &img);

    if (err)
        return err;
    u->m.width = img.width;
    u->m.height = img.height;
    for (int i = 0; i < MEDIA_VARIANTS && !err; i++) {
        err = media_cas_put(root, img.data[i], img.len[i], hex);
        if (!err) {
            add_file(&u->m, names[i], hex,
                     i == MEDIA_SMALL_WEBP || i == MEDIA_LARGE_WEBP ? "image/webp" : "image/jpeg",
                     img.len[i]);
        }
    }
    media_image_release(&img);
    if (!err && u->app->set.media_keep_originals) {
        err = media_cas_put(root, u->data, u->len, hex);
        if (!err)
            add_file(&u->m, "original", hex, media_type_mime(u->type), u->len);
    }
    return err;
}

static void upload_answer(void *arg);

/* On a media worker: process, write the files, record the row, then answer on the loop. */
static void upload_work(void *arg)
{
    struct upload *u = arg;
    char root[4096];
    char hex[MEDIA_HASH_HEX];
    int err;

    (void)setpriority(PRIO_PROCESS, 0, MEDIA_NICE); /* this thread only, on Linux */
    media_root(u->app, root, sizeof(root));
    if (media_type_kind(u->type) == MEDIA_KIND_IMAGE) {
        err = store_image(u, root);
    } else {
        err = media_cas_put(root, u->data, u->len, hex);
        if (!err)
            add_file(&u->m, "file", hex, media_type_mime(u->type), u->len);
    }
    if (err == -EDQUOT)
        err = -ENOSPC; /* over quota is full, for whoever must free space */
    if (err == -ENOSPC)
        store_disk_full(u->app->store); /* the same line, counter and readyz as the store's */
    /* Blocking write: this is a worker thread, and the answer waits for durability anyway. */
    if (!err)
        err = store_media_add(u->app->store, &u->m, NULL, NULL, NULL);
    u->err = err;
    free(u->data); /* processed: only the answer is left */
    u->data = NULL;
    if (http_loop_post(u->loop, upload_answer, u) != 0)
        free(u); /* the loop is stopping: its connections are closed */
}

static json_t *media_json(const struct store_media *m)
{
    char path[128];
    json_t *v = json_pack("{s:s, s:s, s:s, s:I}", "id", m->public_id, "kind", m->kind, "mime",
                          m->mime, "bytes", (json_int_t)m->bytes);

    if (!strcmp(m->kind, "image")) {
        json_object_set_new(v, "width", json_integer(m->width));
        json_object_set_new(v, "height", json_integer(m->height));
        snprintf(path, sizeof(path), "/media/%s/small", m->public_id);
        json_object_set_new(v, "small_url", json_string(path));
        snprintf(path, sizeof(path), "/media/%s/large", m->public_id);
        json_object_set_new(v, "large_url", json_string(path));
    } else {
        snprintf(path, sizeof(path), "/media/%s", m->public_id);
        json_object_set_new(v, "url", json_string(path));
    }
    return v;
}

static void upload_answer(void *arg)
{
    struct upload *u = arg;
    struct http_req *r = u->req;

    if (u->done) {
        u->done(r, u->err, u->m.public_id, u->done_ctx);
        free(u);
        return;
    }
    switch (u->err) {
    case 0:
        api__json(r, 201, media_json(&u->m));
        break;
    case -E2BIG:
        http_respond_error(r, 422, "image_too_large",
                           "The image has too many pixels: send one of at most 50 megapixels "
                           "(see the media_max_pixels setting), for instance a phone photo.",
                           "file");
        break;
    case -EBADMSG:
        http_respond_error(r, 422, "image_unreadable",
                           "The image cannot be decoded (truncated or damaged): export it again "
                           "as JPEG or PNG and retry.",
                           "file");
        break;
    default:
        api__errno(r, u->err, "media upload");
        break;
    }
    free(u);
}

/* The uploaded bytes: the "file" part of a multipart body, or the raw body. Answers on error. */
static bool upload_bytes(struct http_req *r, const char **data, size_t *len)
{
    const char *ct = http_req_header(r, "Content-Type");
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    size_t blen;
    const char *body = http_req_body(r, &blen);
    int err;

    if (ct && !strncasecmp(ct, "multipart/", 10)) {
        if (media_multipart_boundary(ct, boundary, sizeof(boundary))) {
            http_respond_error(r, 400, "invalid_multipart",
                               "The multipart/form-data Content-Type needs a boundary parameter "
                               "(let the browser or curl -F set it).",
                               NULL);
            return false;
        }
        err = media_multipart_find(body, blen, boundary, "file", data, len);
        if (err == -ENOENT) {
            http_respond_error(r, 400, "missing_file",
                               "Send the file in a form field named 'file'.", "file");
            return false;
        }
        if (err) {
            http_respond_error(r, 400, "invalid_multipart",
                               "The multipart body is malformed (delimiters, headers or end "
                               "missing): let the browser or curl -F build it.",
                               NULL);
            return false;
        }
    } else {
        *data = body;
        *len = blen;
    }
    if (!*len) {
        http_respond_error(r, 400, "empty_file", "The file is empty: choose the file again.",
                           "file");
        return false;
    }
    return true;
}

static size_t kind_cap(const struct api_app *a, enum media_kind k)
{
    switch (k) {
    case MEDIA_KIND_IMAGE:
        return a->set.media_image_max;
    case MEDIA_KIND_VOICE:
        return a->set.media_voice_max;
    default:
        return a->set.media_document_max;
    }
}

/* Credentials are checked from the head alone: no megabytes are read for a stranger. */
static bool upload_admit(struct http_req *r)
{
    struct store_user me;

    return api__staff(r, &me, NULL);
}

static void media_upload(struct http_req *r)
{
    struct api_app *a = api__app(r);
    struct store_user me;
    struct upload *u;
    const char *data = NULL;
    size_t len = 0;
    enum media_type t;
    enum media_kind k;
    char msg[200];
    int err;

    if (!api__staff(r, &me, NULL) || !upload_bytes(r, &data, &len))
        return;
    t = media_sniff(data, len);
    k = media_type_kind(t);
    if (k == MEDIA_KIND_NONE) {
        http_respond_error(r, 415, "unsupported_type",
                           "This kind of file is not accepted: send a photo (JPEG, PNG, WebP, "
                           "HEIC), a voice note (Ogg/Opus, M4A) or a PDF document.",
                           "file");
        return;
    }
    if (len > kind_cap(a, k)) {
        snprintf(msg, sizeof(msg), "The %s is too large: the limit is %zu bytes.",
                 k == MEDIA_KIND_IMAGE   ? "photo"
                 : k == MEDIA_KIND_VOICE ? "voice note"
                                         : "document",
                 kind_cap(a, k));
        http_respond_error(r, 413, "too_large", msg, "file");
        return;
    }
    if (!a->media_pool) {
        api__errno(r, -ENOBUFS, "media upload");
        return;
    }
    u = xcalloc(1, sizeof(*u));
    u->req = r;
    u->loop = http_req_loop(r);
    u->app = a;
    u->data = xmalloc(len);
    memcpy(u->data, data, len); /* about 1 ms for a 5 MB photo */
    u->len = len;
    u->type = t;
    {
        unsigned char rnd[16];

        secret_random(rnd, sizeof(rnd));
        secret_b64url(rnd, sizeof(rnd), u->m.public_id, sizeof(u->m.public_id));
    }
    u->m.org_id = me.org_id;
    u->m.user_id = me.id;
    snprintf(u->m.kind, sizeof(u->m.kind), "%s", media_kind_name(k));
    snprintf(u->m.mime, sizeof(u->m.mime), "%s", media_type_mime(t));
    u->m.bytes = (int64_t)len;
    err = workpool_submit(a->media_pool, upload_work, u);
    if (err) {
        free(u->data);
        free(u);
        api__errno(r, -ENOBUFS, "media upload");
    }
}

int api__media_image_submit(struct http_req *r, const char *data, size_t len, int64_t org_id,
                            api_media_done_fn *done, void *ctx)
{
    struct api_app *a = api__app(r);
    enum media_type t = media_sniff(data, len);
    struct upload *u;
    unsigned char rnd[16];

    if (media_type_kind(t) != MEDIA_KIND_IMAGE)
        return -EPROTONOSUPPORT;
    if (len > a->set.media_image_max)
        return -EMSGSIZE;
    if (!a->media_pool)
        return -ENOSPC;
    u = xcalloc(1, sizeof(*u));
    u->req = r;
    u->loop = http_req_loop(r);
    u->app = a;
    u->data = xmalloc(len);
    memcpy(u->data, data, len);
    u->len = len;
    u->type = t;
    u->done = done;
    u->done_ctx = ctx;
    secret_random(rnd, sizeof(rnd));
    secret_b64url(rnd, sizeof(rnd), u->m.public_id, sizeof(u->m.public_id));
    u->m.org_id = org_id;
    snprintf(u->m.kind, sizeof(u->m.kind), "%s", media_kind_name(MEDIA_KIND_IMAGE));
    snprintf(u->m.mime, sizeof(u->m.mime), "%s", media_type_mime(t));
    u->m.bytes = (int64_t)len;
    if (workpool_submit(a->media_pool, upload_work, u) != 0) {
        free(u->data);
        free(u);
        return -ENOSPC;
    }
    return 0;
}

/* ---- details for staff ---- */

static bool may_see(const struct store_user *me, const struct store_media *m)
{
    return me->role == STORE_ROLE_OPERATOR || (me->org_id && me->org_id == m->org_id);
}

static void media_get(struct http_req *r)
{
    struct store_user me;
    struct store_media m;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    err = store_media_get(api__reader(r), http_req_param(r, "id"), &m);
    if (!err && !may_see(&me, &m))
        err = -ENOENT; /* another org's media: as if it did not exist */
    if (err) {
        if (err == -ENOENT) {
            http_respond_error(r, 404, "media_not_found", "No media has this id.", "id");
        } else {
            api__errno(r, err, "media get");
        }
        return;
    }
    api__json(r, 200, media_json(&m));
}

/* A media id as we hand them out: 1 to STORE_MEDIA_ID_MAX of [A-Za-z0-9_.-]. */
static bool media_id_valid(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > STORE_MEDIA_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/*
 * Another Comune's upload is refused as if it did not exist: its id may have leaked (a link
 * to a post), but one Comune's identity must not be made of another's pictures.
 */
bool api__media_image_of(struct http_req *r, const char *id, int64_t org_id)
{
    struct store_media m;

    return media_id_valid(id) && !store_media_get(api__reader(r), id, &m) &&
           !strcmp(m.kind, "image") && (!m.org_id || m.org_id == org_id);
}

/* ---- serving ---- */

static const struct store_media_file *find_variant(const struct store_media *m, const char *v)
{
    for (unsigned i = 0; i < m->nfiles; i++) {
        if (!strcmp(m->files[i].variant, v))
            return &m->files[i];
    }
    return NULL;
}

/*
 * Open the stored file to serve `size` bytes of it. On the loop, as static.c opens its large
 * files: opening a content-addressed path is a lookup in the dentry cache, and the bytes
 * themselves go out with sendfile() from the loop (http_respond_file()), never through memory.
 * Returns the fd, or a negative errno: -EIO when the file is shorter than its row says, since
 * the Content-Length announced could not be kept.
 */
static int open_stored(const char *path, uint64_t size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st)) {
        err = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < size) {
        err = -EIO;
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return err;
}

static void serve_file(struct http_req *r, const struct store_media *m,
                       const struct store_media_file *f)
{
    char root[4096];
    char path[4200];
    char etag[72];
    char cr[96];
    char disp[160];
    const char *inm = http_req_header(r, "If-None-Match");
    const char *range = http_req_header(r, "Range");
    const char *if_range = http_req_header(r, "If-Range");
    uint64_t size = (uint64_t)f->bytes;
    uint64_t from = 0, to = size ? size - 1 : 0;
    int status = 200;
    int rr = 0;
    int err;
    int fd;

    snprintf(etag, sizeof(etag), "\"%.32s\"", f->sha256);
    http_resp_header(r, "Cache-Control", cache_forever);
    http_resp_header(r, "ETag", etag);
    http_resp_header(r, "Accept-Ranges", "bytes");
    if (!strcmp(m->kind, "image"))
        http_resp_header(r, "Vary", "Accept"); /* WebP or JPEG by the Accept header */
    if (!strcmp(m->kind, "document")) {
        /* A name we make, never the client's: safe in any shell, browser or file system. */
        snprintf(disp, sizeof(disp), "attachment; filename=\"documento-%.8s.pdf\"", m->public_id);
        http_resp_header(r, "Content-Disposition", disp);
    } else {
        http_resp_header(r, "Content-Disposition", "inline");
    }
    if (inm && strstr(inm, etag)) {
        http_respond(r, 304, NULL, NULL, 0);
        return;
    }
    if (range && (!if_range || !strcmp(if_range, etag)))
        rr = http_range_parse(range, size, &from, &to);
    if (rr < 0) {
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
        http_resp_header(r, "Content-Range", cr);
        http_respond_error(r, 416, "range_not_satisfiable",
                           "The requested range is outside the file.", NULL);
        return;
    }
    if (rr > 0) {
        status = 206;
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
        http_resp_header(r, "Content-Range", cr);
    }
    media_root(api__app(r), root, sizeof(root));
    err = media_cas_path(root, f->sha256, path, sizeof(path));
    fd = err ? err : open_stored(path, size);
    if (fd < 0) {
        log_warn("media: cannot read a stored file: %s", strerror(-fd));
        http_respond_error(r, 500, "internal",
                           "The file cannot be read on the server; the error was logged.", NULL);
        return;
    }
    http_respond_file(r, status, f->mime, fd, from, size ? to - from + 1 : 0); /* takes fd */
}

static bool accepts_webp(struct http_req *r)
{
    const char *acc = http_req_header(r, "Accept");

    return acc && strstr(acc, "image/webp");
}

static void serve(struct http_req *r, const char *size)
{
    struct store_media m;
    const struct store_media_file *f = NULL;
    char v[24];
    int err = store_media_get(api__reader(r), http_req_param(r, "id"), &m);

    if (err) {
        if (err == -ENOENT) {
            http_respond_error(r, 404, "media_not_found", "No media has this id.", NULL);
        } else {
            api__errno(r, err, "media serve");
        }
        return;
    }
    if (!strcmp(m.kind, "image")) {
        snprintf(v, sizeof(v), "%s.%s", size ? size : "large", accepts_webp(r) ? "webp" : "jpeg");
        f = find_variant(&m, v);
    } else if (!size) {
        f = find_variant(&m, "file");
    }
    if (!f) {
        http_respond_error(r, 404, "media_not_found",
                           size ? "Only images have sizes: use /media/{id}."
                                : "This media has no such file.",
                           NULL);
        return;
    }
    serve_file(r, &m, f);
}

static void media_serve(struct http_req *r)
{
    serve(r, NULL);
}

static void media_serve_small(struct http_req *r)
{
    serve(r, "small");
}

static void media_serve_large(struct http_req *r)
{
    serve(r, "large");
}

/* ---- orphaned files (the jobs thread) ---- */

static bool file_used(void *ctx, const char *hex)
{
    bool used = true;

    if (store_media_file_used(ctx, hex, &used))
        return true; /* on any doubt the file stays */
    return used;
}

/*
 * Files no media row lists any more (their media were swept or never recorded) and untouched
 * for an hour: the hour protects an upload between writing its files and recording its row.
 */
#define ORPHAN_FILE_GRACE_S 3600

void api__media_sweep(struct api_app *a, struct store_reader *reader)
{
    char root[4096];
    unsigned n = 0;
    int err;

    media_root(a, root, sizeof(root));
    /* The store's clock (which tests may shift), like the row sweep before it. */
    err = media_cas_sweep(root, clock_now_ms() / 1000 - ORPHAN_FILE_GRACE_S, file_used, reader, &n);
    if (n)
        log_info("jobs: removed %u orphaned media file(s)", n);
    if (err)
        log_warn("jobs: media file sweep failed: %s", strerror(-err));
}

static const struct http_route routes[] = {
    { HTTP_M_POST, 0, "/api/v1/media", media_upload, UPLOAD_BODY_MAX, upload_admit },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/media/{id:secret}", media_get, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/media/{id:secret}", media_serve, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/media/{id:secret}/small", media_serve_small, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/media/{id:secret}/large", media_serve_large, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/invites/{code:secret}/qr.svg", api__qr_svg, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/api/v1/invites/{code:secret}/qr.png", api__qr_png, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/i/{code:secret}/poster", api__invite_poster, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/i/{code:secret}", api__invite_landing, 0, NULL },
};

API_ROUTE_SET(api_media_routes, routes);
