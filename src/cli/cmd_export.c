/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `araldo export FILE` and `araldo import FILE`: the whole database as a gzip'd dump
 * (store/export.h has the format), to move a deployment between SQLite and PostgreSQL. This file
 * is the files, the compression and what a person sees; the store reads and writes the rows.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "store/export.h"

static const struct cli_opt_help no_opts[] = { { CLI_OPT_END, NULL } };

static const struct cli_command cmd_export_help = {
    "export",
    "usage: araldo export FILE [--data DIR] [--set database_url=...] [OPTIONS]\n",
    "Write every table of the database (SQLite, or PostgreSQL with database_url) to FILE, a\n"
    "gzip'd dump that 'araldo import' loads into a new database of either engine. Safe while\n"
    "the server runs: the dump is one consistent snapshot. FILE is written 0600 under a\n"
    "temporary name and renamed; '-' writes to standard output. The dump holds password,\n"
    "token and follower hashes, push subscriptions and the Web Push key pair:\n"
    "keep it as secret as the database. Media files are not in it: copy the media directory\n"
    "yourself (docs/DEPLOY.md).\n",
    no_opts,
};

static const struct cli_command cmd_import_help = {
    "import",
    "usage: araldo import FILE [--data DIR] [--set database_url=...] [OPTIONS]\n",
    "Load a dump made by 'araldo export' into a new, empty database (SQLite in --data, or\n"
    "PostgreSQL with database_url; migrations are applied first). All of it or nothing: one\n"
    "transaction. Refused: a database that holds data, a dump of another schema version, a\n"
    "damaged or truncated file. Stop the servers of the new database while it runs. '-' reads\n"
    "standard input. Media files are not in the dump: copy the media directory yourself.\n",
    no_opts,
};

/* Where media files live for this configuration (media_dir, else data_dir/media). */
static const char *media_dir(const struct cli *c)
{
    static char path[4096];

    if (c->conf.media_dir && *c->conf.media_dir)
        return c->conf.media_dir;
    snprintf(path, sizeof(path), "%s/media", c->conf.data_dir);
    return path;
}

/* ---- progress on a terminal ---- */

struct progress {
    const char *verb; /* "export", "import" */
    bool tty;
};

static void show_progress(void *ctx, const char *table, uint64_t rows, bool finished)
{
    struct progress *p = ctx;

    if (!p->tty)
        return;
    fprintf(stderr, "\r\033[K%s: %s: %llu rows%s", p->verb, table, (unsigned long long)rows,
            finished ? "\n" : "");
}

/* ---- export ---- */

struct sink {
    struct progress progress; /* first: the store's progress callback gets this struct */
    gzFile gz;
};

static int sink_write(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;

    /* gzwrite takes an unsigned length: lines are far below 4 GiB (STORE_EXPORT_LINE_MAX) */
    if (len && gzwrite(s->gz, data, (unsigned)len) != (int)len)
        return -EIO;
    return 0;
}

static int export_to(struct store *s, int fd, struct sink *out, struct store_dump_stats *stats,
                     char *err, size_t errlen)
{
    int errnum = 0, rc;

    out->gz = gzdopen(fd, "wb6");
    if (!out->gz) {
        close(fd);
        snprintf(err, errlen, "cannot start compression");
        return -ENOMEM;
    }
    rc = store_export(s, sink_write, show_progress, out, stats, err, errlen);
    if (rc == -EIO && !*err)
        snprintf(err, errlen, "cannot write: %s", gzerror(out->gz, &errnum));
    if (gzclose(out->gz) != Z_OK && !rc) {
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
        rc = -EIO;
    }
    return rc;
}

/* FILE: written under a temporary name (mkstemp: 0600), fsynced and renamed into place. */
static int export_file(struct store *s, const char *path, struct sink *out,
                       struct store_dump_stats *stats, char *err, size_t errlen)
{
    size_t n = strlen(path) + sizeof(".tmp-XXXXXX");
    char *tmp = xmalloc(n);
    int fd, rc;

    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    rc = export_to(s, dup(fd), out, stats, err, errlen);
    if (!rc && fsync(fd)) {
        rc = -errno;
        snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
    }
    close(fd);
    if (!rc && rename(tmp, path)) {
        rc = -errno;
        snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    }
    if (rc)
        unlink(tmp); /* a failed export leaves nothing behind */
    free(tmp);
    return rc;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
    struct sink out = { .progress = { "export", isatty(STDERR_FILENO) } };
    struct store_dump_stats stats = { 0 };
    char err[512] = "";
    const char *path;
    struct store *s;
    int rc = cli_parse(c, argc, argv, &cmd_export_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (optind != argc - 1) {
        fprintf(stderr, "araldo export: name one destination FILE (or '-')\n");
        cli_help(&cmd_export_help, stderr);
        return 2;
    }
    path = argv[optind];
    if (!strcmp(path, "-") && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "araldo export: standard output is a terminal: redirect it to a file\n");
        return 2;
    }
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    if (!strcmp(path, "-")) {
        rc = export_to(s, dup(STDOUT_FILENO), &out, &stats, err, sizeof(err));
    } else {
        rc = export_file(s, path, &out, &stats, err, sizeof(err));
    }
    store_close(s);
    if (rc) {
        if (out.progress.tty)
            fputc('\n', stderr);
        fprintf(stderr, "araldo export: %s\n", err);
        return 1;
    }
    /* standard error: standard output may be the dump itself */
    fprintf(stderr, "export: wrote '%s': schema %d, %zu tables, %llu rows\n", path, stats.schema,
            stats.tables, (unsigned long long)stats.rows);
    fprintf(stderr, "export: the dump holds password, token and follower hashes and the Web Push "
                    "key: keep it as secret as the database, and delete it once imported\n");
    fprintf(stderr,
            "export: media files are not in the dump: copy '%s' to the new server's media "
            "directory (docs/DEPLOY.md)\n",
            media_dir(c));
    return 0;
}

/* ---- import ---- */

struct source {
    struct progress progress; /* first, as in struct sink */
    gzFile gz;
    char *line;
    size_t cap;
    bool failed;
};

static int source_read(void *ctx, const char **line, size_t *len)
{
    struct source *src = ctx;
    size_t n = 0;
    int errnum = 0;

    for (;;) {
        if (src->cap - n < 2) {
            if (src->cap > STORE_EXPORT_LINE_MAX)
                return -EMSGSIZE;
            src->cap = src->cap ? src->cap * 2 : 64 << 10;
            src->line = xrealloc(src->line, src->cap);
        }
        if (!gzgets(src->gz, src->line + n, (int)(src->cap - n))) {
            (void)gzerror(src->gz, &errnum);
            if (errnum != Z_OK && errnum != Z_STREAM_END)
                return -EIO;
            if (n == 0)
                return 0; /* the end */
            break;        /* a last line without its newline */
        }
        n += strlen(src->line + n);
        if (n && src->line[n - 1] == '\n') {
            n--;
            break;
        }
    }
    src->line[n] = '\0';
    *line = src->line;
    *len = n;
    return 1;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
    struct source src = { .progress = { "import", isatty(STDERR_FILENO) } };
    struct store_dump_stats stats = { 0 };
    char err[512] = "";
    const char *path;
    struct store *s;
    int fd, rc = cli_parse(c, argc, argv, &cmd_import_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (optind != argc - 1) {
        fprintf(stderr, "araldo import: name one FILE made by 'araldo export' (or '-')\n");
        cli_help(&cmd_import_help, stderr);
        return 2;
    }
    path = argv[optind];
    fd = !strcmp(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "araldo import: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    src.gz = gzdopen(fd, "rb"); /* reads an uncompressed dump as it is */
    if (!src.gz) {
        close(fd);
        fprintf(stderr, "araldo import: cannot read '%s'\n", path);
        return 1;
    }
    s = cli_open_store(&c->conf);
    if (!s) {
        gzclose(src.gz);
        return 1;
    }
    rc = store_import(s, source_read, show_progress, &src, &stats, err, sizeof(err));
    store_close(s);
    gzclose(src.gz);
    free(src.line);
    if (rc) {
        if (src.progress.tty)
            fputc('\n', stderr);
        fprintf(stderr, "araldo import: %s; nothing was imported\n", err);
        return 1;
    }
    printf("import: loaded '%s': schema %d, %zu tables, %llu rows\n", path, stats.schema,
           stats.tables, (unsigned long long)stats.rows);
    printf("import: media files are not in the dump: copy the old server's media directory to "
           "'%s' (docs/DEPLOY.md)\n",
           media_dir(c));
    return 0;
}
