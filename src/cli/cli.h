/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The command line: option parsing shared by every subcommand, and the subcommands, one file
 * per family (cmd_serve.c, cmd_admin.c, cmd_content.c). Only main.c and cli/ wire modules.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/conf.h"
#include "store/store.h"

#define ARALDO_VERSION "0.1.0"

/* What the command line said; settings already applied to `conf` by cli_parse(). */
struct cli {
    struct conf conf;
    const char *config_file;
    const char *sets[64];
    int nsets;
    const char *listen;
    const char *data;
    const char *email;
    const char *role;
    const char *name;
    const char *slug;
    const char *istat;
    const char *timezone;
    const char *org;
    const char *handle;
    const char *description;
    const char *category;
    const char *language;
    const char *owner;
    const char *channel;
    const char *as;
    bool unlisted;
    bool important;
    bool silent;
    bool demo;
    int help_config; /* 1: text, 2: markdown */
};

/* Every option of every command, defined once in common.c's table (name, argument, metavar). */
enum cli_opt {
    CLI_OPT_END = 0,
    CLI_OPT_CONFIG = 256, /* the common ones, accepted by every command */
    CLI_OPT_DATA,
    CLI_OPT_SET,
    CLI_OPT_HELP,
    CLI_OPT_LISTEN, /* a command's own, accepted where its struct cli_command lists it */
    CLI_OPT_HELP_CONFIG,
    CLI_OPT_DEMO,
    CLI_OPT_EMAIL,
    CLI_OPT_ROLE,
    CLI_OPT_NAME,
    CLI_OPT_SLUG,
    CLI_OPT_ISTAT,
    CLI_OPT_TIMEZONE,
    CLI_OPT_ORG,
    CLI_OPT_HANDLE,
    CLI_OPT_DESCRIPTION,
    CLI_OPT_CATEGORY,
    CLI_OPT_LANGUAGE,
    CLI_OPT_OWNER,
    CLI_OPT_CHANNEL,
    CLI_OPT_AS,
    CLI_OPT_UNLISTED,
    CLI_OPT_IMPORTANT,
    CLI_OPT_SILENT,
};

/* One of a command's own options and what it means for that command. */
struct cli_opt_help {
    enum cli_opt opt;
    const char *help; /* one line, or several separated by '\n' (indented when printed) */
};

/*
 * A subcommand as --help shows it. The options list is both the help and what cli_parse()
 * accepts, so the two cannot disagree; the common options (--config, --data, --set, --help)
 * are added to every command.
 */
struct cli_command {
    const char *name;                /* "token", "channel add": for messages */
    const char *usage;               /* "usage: araldo ...\n" then "       araldo ...\n" lines */
    const char *about;               /* what it does, newline-terminated */
    const struct cli_opt_help *opts; /* its own options, ended by { CLI_OPT_END, NULL } */
};

/* Print the whole help of `cmd`: usage, about, its options, the common options. */
void cli_help(const struct cli_command *cmd, FILE *out);
/*
 * Parse options for `cmd`, whose own name is argv[0]; an option `cmd` does not list is refused.
 * Returns 0, 1 if help was printed (exit 0), or -1 on error (one line already printed; exit 2).
 * Settings apply in this order whatever the order on the command line: defaults, --config
 * file, then --data/--listen/--set.
 */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_command *cmd);
/* Open the store described by the settings; prints the reason and returns NULL on failure. */
struct store *cli_open_store(const struct conf *conf);
/* A reader for the calling thread; prints the reason and returns NULL on failure. */
struct store_reader *cli_open_reader(struct store *s);
/* True for a plausible e-mail address (one '@', no spaces or controls, ≤ 254 bytes). */
bool cli_email_ok(const char *e);
/* Read all of standard input (≤ `limit` bytes) into a new string; NULL if larger. */
char *cli_read_stdin(size_t limit);
/* Read one line from stdin without echo when it is a terminal. Returns 0 or -errno. */
int cli_read_password(char *out, size_t outlen);

/* Fill a new database with the demo Comune; `owner_id` owns its channels. Returns 0 or -errno. */
int cli_demo_seed(struct store *s, int64_t owner_id);

int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_org(struct cli *c, int argc, char **argv);
int cmd_channel(struct cli *c, int argc, char **argv);
int cmd_post(struct cli *c, int argc, char **argv);
int cmd_vapid_keys(struct cli *c, int argc, char **argv);

#endif
