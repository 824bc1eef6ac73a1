/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Option parsing and helpers shared by every subcommand. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"

static const char usage_common[] =
    "  --config FILE    read settings from FILE (`name = value` lines)\n"
    "  --data DIR       data directory (setting data_dir; default ./var)\n"
    "  --set NAME=VALUE override one setting (repeatable; see araldo serve --help-config)\n"
    "  -h, --help       show this help\n";

enum {
    OPT_CONFIG = 256,
    OPT_DATA,
    OPT_SET,
    OPT_LISTEN,
    OPT_HELP_CONFIG,
};

static const struct option long_opts[] = {
    { "config", required_argument, NULL, OPT_CONFIG },
    { "data", required_argument, NULL, OPT_DATA },
    { "set", required_argument, NULL, OPT_SET },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "help-config", optional_argument, NULL, OPT_HELP_CONFIG },
    { "email", required_argument, NULL, 'E' },
    { "role", required_argument, NULL, 'R' },
    { "name", required_argument, NULL, 'N' },
    { "slug", required_argument, NULL, 'S' },
    { "istat", required_argument, NULL, 'I' },
    { "timezone", required_argument, NULL, 'Z' },
    { "org", required_argument, NULL, 'O' },
    { "handle", required_argument, NULL, 'H' },
    { "description", required_argument, NULL, 'D' },
    { "category", required_argument, NULL, 'C' },
    { "language", required_argument, NULL, 'L' },
    { "owner", required_argument, NULL, 'W' },
    { "channel", required_argument, NULL, 'c' },
    { "as", required_argument, NULL, 'A' },
    { "unlisted", no_argument, NULL, 'u' },
    { "important", no_argument, NULL, 'i' },
    { "silent", no_argument, NULL, 's' },
    { "demo", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* A command's own option (--email, --channel, --demo, ...): stores it and returns true. */
static bool take_command_option(struct cli *c, int opt)
{
    switch (opt) {
    case 'E':
        c->email = optarg;
        break;
    case 'R':
        c->role = optarg;
        break;
    case 'N':
        c->name = optarg;
        break;
    case 'S':
        c->slug = optarg;
        break;
    case 'I':
        c->istat = optarg;
        break;
    case 'Z':
        c->timezone = optarg;
        break;
    case 'O':
        c->org = optarg;
        break;
    case 'H':
        c->handle = optarg;
        break;
    case 'D':
        c->description = optarg;
        break;
    case 'C':
        c->category = optarg;
        break;
    case 'L':
        c->language = optarg;
        break;
    case 'W':
        c->owner = optarg;
        break;
    case 'c':
        c->channel = optarg;
        break;
    case 'A':
        c->as = optarg;
        break;
    case 'u':
        c->unlisted = true;
        break;
    case 'i':
        c->important = true;
        break;
    case 's':
        c->silent = true;
        break;
    case 'd':
        c->demo = true;
        break;
    default:
        return false;
    }
    return true;
}

/*
 * Parse options; returns 0, 1 if help was printed, or -1 on error (message printed). Settings
 * apply in this order whatever the order on the command line: defaults, --config file, then
 * --data/--listen/--set, so the command line always wins.
 */
int cli_parse(struct cli *c, int argc, char **argv, const char *usage)
{
    char err[512];
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        if (take_command_option(c, opt))
            continue;
        switch (opt) {
        case OPT_CONFIG:
            c->config_file = optarg;
            break;
        case OPT_DATA:
            c->data = optarg;
            break;
        case OPT_LISTEN:
            c->listen = optarg;
            break;
        case OPT_SET:
            if (c->nsets == (int)ARRAY_SIZE(c->sets)) {
                fprintf(stderr, "araldo: too many --set options\n");
                return -1;
            }
            c->sets[c->nsets++] = optarg;
            break;
        case OPT_HELP_CONFIG:
            c->help_config = optarg && !strcmp(optarg, "markdown") ? 2 : 1;
            break;
        case 'h':
            printf("%s\nCommon options:\n%s", usage, usage_common);
            return 1;
        default:
            fprintf(stderr, "araldo: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (c->help_config) {
        if (c->help_config == 2) {
            conf_print_markdown(stdout);
        } else {
            conf_print_help(stdout);
        }
        return 1;
    }
    if (c->config_file && conf_load_file(&c->conf, c->config_file, err, sizeof(err))) {
        fprintf(stderr, "araldo: %s\n", err);
        return -1;
    }
    if ((c->data && conf_set(&c->conf, "data_dir", c->data, err, sizeof(err))) ||
        (c->listen && conf_set(&c->conf, "listen", c->listen, err, sizeof(err)))) {
        fprintf(stderr, "araldo: %s\n", err);
        return -1;
    }
    for (int i = 0; i < c->nsets; i++) {
        if (conf_set_pair(&c->conf, c->sets[i], err, sizeof(err))) {
            fprintf(stderr, "araldo: %s\n", err);
            return -1;
        }
    }
    if (log_level_parse(c->conf.log_level, &log_max_level)) {
        fprintf(stderr, "araldo: log_level: bad value\n");
        return -1;
    }
    return 0;
}

struct store *cli_open_store(const struct conf *conf)
{
    struct store_opts so = {
        .data_dir = conf->data_dir,
        .batch_max = (unsigned)conf->store_batch_max,
        .queue_max = (unsigned)conf->store_queue_max,
    };
    char err[512];
    struct store *s = store_open(&so, err, sizeof(err));

    if (!s)
        fprintf(stderr, "araldo: %s\n", err);
    return s;
}

int cli_read_password(char *out, size_t outlen)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO);
    size_t n;
    int rc = 0;

    if (tty) {
        fputs("Password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (!fgets(out, (int)outlen, stdin))
        rc = -EINVAL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (rc)
        return rc;
    n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == outlen - 1)
        return -EMSGSIZE;
    out[n] = '\0';
    return 0;
}

bool cli_email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    size_t n = strlen(e);

    if (!at || at == e || !at[1] || strchr(at + 1, '@') || n > 254)
        return false;
    for (const char *p = e; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    }
    return true;
}

struct store_reader *cli_open_reader(struct store *s)
{
    char err[256];
    struct store_reader *r = store_reader_open(s, err, sizeof(err));

    if (!r)
        fprintf(stderr, "araldo: %s\n", err);
    return r;
}

char *cli_read_stdin(size_t limit)
{
    struct buf b;
    char chunk[4096];
    size_t n;

    buf_init(&b, limit);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
        if (buf_append(&b, chunk, n)) {
            buf_release(&b);
            return NULL;
        }
    }
    return buf_take(&b, NULL);
}
