/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Static file resolution: index.html, content types, and no way out of the web root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "http/http_int.h"

static void put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return;
    f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A web root under a fresh temporary directory, with a secret next to it. */
static const char *make_root(char *root, size_t len)
{
    const char *tmp = harness_tmpdir();
    char real[PATH_MAX], p[PATH_MAX];

    if (!realpath(tmp, real))
        return NULL;
    if (snprintf(root, len, "%s/web", real) >= (int)len)
        return NULL;
    mkdir(root, 0755);
    snprintf(p, sizeof(p), "%s/sub", root);
    mkdir(p, 0755);
    put(root, "index.html", "<p>home</p>");
    put(root, "app.css", "body{}");
    put(root, ".env", "SECRET=1");
    put(root, "sub/index.html", "<p>sub</p>");
    put(real, "secret.txt", "outside");
    snprintf(p, sizeof(p), "%s/out", root);
    (void)!symlink("../secret.txt", p);
    snprintf(p, sizeof(p), "%s/up", root);
    (void)!symlink("..", p);
    snprintf(p, sizeof(p), "%s/in", root);
    (void)!symlink("app.css", p);
    return root;
}

static int resolve(const char *root, const char *path, char *out)
{
    struct stat st;

    return http__static_resolve(root, strlen(root), path, out, PATH_MAX, &st);
}

TEST(index_html_for_root_and_directories)
{
    char root[PATH_MAX], out[PATH_MAX], want[PATH_MAX + 32];

    CHECK(make_root(root, sizeof(root)));
    CHECK_INT(resolve(root, "/", out), ==, 0);
    snprintf(want, sizeof(want), "%s/index.html", root);
    CHECK_STR(out, want);
    CHECK_INT(resolve(root, "/sub", out), ==, 0);
    snprintf(want, sizeof(want), "%s/sub/index.html", root);
    CHECK_STR(out, want);
    CHECK_INT(resolve(root, "/sub/", out), ==, 0);
    CHECK_STR(out, want);
    CHECK_INT(resolve(root, "/app.css", out), ==, 0);
    CHECK_INT(resolve(root, "/in", out), ==, 0); /* a symlink inside the root is fine */
}

TEST(nothing_outside_the_root)
{
    char root[PATH_MAX], out[PATH_MAX];

    CHECK(make_root(root, sizeof(root)));
    CHECK_INT(resolve(root, "/out", out), ==, -EACCES);
    CHECK_INT(resolve(root, "/up/secret.txt", out), ==, -EACCES);
    CHECK_INT(resolve(root, "/up/web/app.css", out), ==, 0); /* back inside: allowed */
    CHECK(resolve(root, "/../secret.txt", out) < 0);
    CHECK(resolve(root, "/sub/../../secret.txt", out) < 0);
    CHECK(resolve(root, "/..\\secret.txt", out) < 0);
    CHECK(resolve(root, "/.env", out) < 0);
    CHECK(resolve(root, "/missing", out) < 0);
    CHECK(resolve(root, "relative", out) < 0);
}

TEST(content_types_by_extension)
{
    CHECK_STR(http__content_type("/a/index.html"), "text/html; charset=utf-8");
    CHECK_STR(http__content_type("x.CSS"), "text/css; charset=utf-8");
    CHECK_STR(http__content_type("x.js"), "text/javascript; charset=utf-8");
    CHECK_STR(http__content_type("x.mjs"), "text/javascript; charset=utf-8");
    CHECK_STR(http__content_type("x.json"), "application/json");
    CHECK_STR(http__content_type("x.svg"), "image/svg+xml");
    CHECK_STR(http__content_type("x.png"), "image/png");
    CHECK_STR(http__content_type("x.jpg"), "image/jpeg");
    CHECK_STR(http__content_type("x.webp"), "image/webp");
    CHECK_STR(http__content_type("x.ico"), "image/x-icon");
    CHECK_STR(http__content_type("x.webmanifest"), "application/manifest+json");
    CHECK_STR(http__content_type("x.txt"), "text/plain; charset=utf-8");
    CHECK_STR(http__content_type("x.woff2"), "font/woff2");
    CHECK_STR(http__content_type("x.wasm"), "application/wasm");
    CHECK_STR(http__content_type("x.xml"), "application/xml");
    CHECK_STR(http__content_type("a.d/noext"), "application/octet-stream");
}
