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

/*
 * The one table of options: getopt's names and arguments, the metavar --help shows, and the
 * help of the common options (a command's own options carry their help in its struct
 * cli_command, since --name means one thing for a token and another for a channel).
 */
struct opt_def {
    const char *name;
    int has_arg;
    enum cli_opt id;
    const char *metavar; /* NULL: a flag */
    const char *help;    /* common options only */
};

static const struct opt_def opt_defs[] = {
    { "config", required_argument, CLI_OPT_CONFIG, "FILE",
      "read settings from FILE (`name = value` lines)" },
    { "data", required_argument, CLI_OPT_DATA, "DIR",
      "data directory (setting data_dir; default ./var)" },
    { "set", required_argument, CLI_OPT_SET, "NAME=VALUE",
      "override one setting (repeatable; see araldo serve --help-config)" },
    { "help", no_argument, CLI_OPT_HELP, NULL, "show this help" },
    { "listen", required_argument, CLI_OPT_LISTEN, "ADDR", NULL },
    { "help-config", optional_argument, CLI_OPT_HELP_CONFIG, "markdown", NULL },
    { "demo", no_argument, CLI_OPT_DEMO, NULL, NULL },
    { "email", required_argument, CLI_OPT_EMAIL, "EMAIL", NULL },
    { "role", required_argument, CLI_OPT_ROLE, "ROLE", NULL },
    { "name", required_argument, CLI_OPT_NAME, "NAME", NULL },
    { "slug", required_argument, CLI_OPT_SLUG, "SLUG", NULL },
    { "istat", required_argument, CLI_OPT_ISTAT, "CODE", NULL },
    { "timezone", required_argument, CLI_OPT_TIMEZONE, "ZONE", NULL },
    { "org", required_argument, CLI_OPT_ORG, "SLUG", NULL },
    { "handle", required_argument, CLI_OPT_HANDLE, "HANDLE", NULL },
    { "description", required_argument, CLI_OPT_DESCRIPTION, "TEXT", NULL },
    { "category", required_argument, CLI_OPT_CATEGORY, "CAT", NULL },
    { "language", required_argument, CLI_OPT_LANGUAGE, "TAG", NULL },
    { "owner", required_argument, CLI_OPT_OWNER, "EMAIL", NULL },
    { "channel", required_argument, CLI_OPT_CHANNEL, "HANDLE", NULL },
    { "as", required_argument, CLI_OPT_AS, "EMAIL", NULL },
    { "unlisted", no_argument, CLI_OPT_UNLISTED, NULL, NULL },
    { "important", no_argument, CLI_OPT_IMPORTANT, NULL, NULL },
    { "silent", no_argument, CLI_OPT_SILENT, NULL, NULL },
};

#define HELP_COLUMN 19 /* where option help starts: "  --timezone ZONE  " */

static const struct opt_def *opt_def(enum cli_opt id)
{
    for (size_t i = 0; i < ARRAY_SIZE(opt_defs); i++) {
        if (opt_defs[i].id == id)
            return &opt_defs[i];
    }
    return NULL;
}

static bool is_common(enum cli_opt id)
{
    return id == CLI_OPT_CONFIG || id == CLI_OPT_DATA || id == CLI_OPT_SET || id == CLI_OPT_HELP;
}

static void print_opt(FILE *out, const struct opt_def *d, const char *help)
{
    int n;
    const char *nl;

    if (!d->metavar) {
        n = fprintf(out, "  %s--%s", d->id == CLI_OPT_HELP ? "-h, " : "", d->name);
    } else if (d->has_arg == optional_argument) {
        n = fprintf(out, "  --%s[=%s]", d->name, d->metavar);
    } else {
        n = fprintf(out, "  --%s %s", d->name, d->metavar);
    }
    fprintf(out, "%*s", n < HELP_COLUMN - 1 ? HELP_COLUMN - n : 2, "");
    while ((nl = strchr(help, '\n'))) {
        fprintf(out, "%.*s\n%*s", (int)(nl - help), help, HELP_COLUMN, "");
        help = nl + 1;
    }
    fprintf(out, "%s\n", help);
}

void cli_help(const struct cli_command *cmd, FILE *out)
{
    const struct cli_opt_help *o;

    fprintf(out, "%s\n%s", cmd->usage, cmd->about);
    if (cmd->opts[0].opt != CLI_OPT_END) {
        fputs("\nOptions:\n", out);
        for (o = cmd->opts; o->opt != CLI_OPT_END; o++)
            print_opt(out, opt_def(o->opt), o->help);
    }
    fputs("\nCommon options:\n", out);
    for (size_t i = 0; i < ARRAY_SIZE(opt_defs); i++) {
        if (is_common(opt_defs[i].id))
            print_opt(out, &opt_defs[i], opt_defs[i].help);
    }
}

static bool accepts(const struct cli_command *cmd, int id)
{
    if (is_common((enum cli_opt)id))
        return true;
    for (const struct cli_opt_help *o = cmd->opts; o->opt != CLI_OPT_END; o++) {
        if ((int)o->opt == id)
            return true;
    }
    return false;
}

/* A command's own option (--email, --channel, --demo, ...): stores it and returns true. */
static bool take_command_option(struct cli *c, int opt)
{
    switch (opt) {
    case CLI_OPT_LISTEN:
        c->listen = optarg;
        break;
    case CLI_OPT_HELP_CONFIG:
        c->help_config = optarg && !strcmp(optarg, "markdown") ? 2 : 1;
        break;
    case CLI_OPT_EMAIL:
        c->email = optarg;
        break;
    case CLI_OPT_ROLE:
        c->role = optarg;
        break;
    case CLI_OPT_NAME:
        c->name = optarg;
        break;
    case CLI_OPT_SLUG:
        c->slug = optarg;
        break;
    case CLI_OPT_ISTAT:
        c->istat = optarg;
        break;
    case CLI_OPT_TIMEZONE:
        c->timezone = optarg;
        break;
    case CLI_OPT_ORG:
        c->org = optarg;
        break;
    case CLI_OPT_HANDLE:
        c->handle = optarg;
        break;
    case CLI_OPT_DESCRIPTION:
        c->description = optarg;
        break;
    case CLI_OPT_CATEGORY:
        c->category = optarg;
        break;
    case CLI_OPT_LANGUAGE:
        c->language = optarg;
        break;
    case CLI_OPT_OWNER:
        c->owner = optarg;
        break;
    case CLI_OPT_CHANNEL:
        c->channel = optarg;
        break;
    case CLI_OPT_AS:
        c->as = optarg;
        break;
    case CLI_OPT_UNLISTED:
        c->unlisted = true;
        break;
    case CLI_OPT_IMPORTANT:
        c->important = true;
        break;
    case CLI_OPT_SILENT:
        c->silent = true;
        break;
    case CLI_OPT_DEMO:
        c->demo = true;
        break;
    default:
        return false;
    }
    return true;
}

/* getopt's view of the table, built once. */
static const struct option *long_opts(void)
{
    static struct option lo[ARRAY_SIZE(opt_defs) + 1];

    if (!lo[0].name) {
        for (size_t i = 0; i < ARRAY_SIZE(opt_defs); i++) {
            lo[i] =
                (struct option){ opt_defs[i].name, opt_defs[i].has_arg, NULL, (int)opt_defs[i].id };
        }
    }
    return lo;
}

/* The common options and the errors; 1 when help was printed, -1 on error. */
static int take_common_option(struct cli *c, int opt, const struct cli_command *cmd,
                              const char *arg)
{
    switch (opt) {
    case CLI_OPT_CONFIG:
        c->config_file = optarg;
        return 0;
    case CLI_OPT_DATA:
        c->data = optarg;
        return 0;
    case CLI_OPT_SET:
        if (c->nsets == (int)ARRAY_SIZE(c->sets)) {
            fprintf(stderr, "araldo: too many --set options\n");
            return -1;
        }
        c->sets[c->nsets++] = optarg;
        return 0;
    case CLI_OPT_HELP:
        cli_help(cmd, stdout);
        return 1;
    default:
        fprintf(stderr, "araldo %s: unknown or incomplete option '%s' (see --help)\n", cmd->name,
                arg);
        return -1;
    }
}

/* Apply --config, then --data/--listen/--set, so the command line always wins. */
static int apply_settings(struct cli *c)
{
    char err[512];

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

int cli_parse(struct cli *c, int argc, char **argv, const struct cli_command *cmd)
{
    int opt, rc;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", long_opts(), NULL)) != -1) {
        if (opt == 'h')
            opt = CLI_OPT_HELP;
        if (opt != '?' && !accepts(cmd, opt)) {
            fprintf(stderr, "araldo %s: --%s does not apply to this command (see --help)\n",
                    cmd->name, opt_def((enum cli_opt)opt)->name);
            return -1;
        }
        if (take_command_option(c, opt))
            continue;
        rc = take_common_option(c, opt, cmd, argv[optind - 1]);
        if (rc)
            return rc;
    }
    if (c->help_config) {
        if (c->help_config == 2) {
            conf_print_markdown(stdout);
        } else {
            conf_print_help(stdout);
        }
        return 1;
    }
    return apply_settings(c);
}

struct store *cli_open_store(const struct conf *conf)
{
    struct store_opts so = {
        .data_dir = conf->data_dir,
        .database_url = *conf->database_url ? conf->database_url : NULL,
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
