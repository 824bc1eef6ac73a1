/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* araldo: the one binary. Dispatches to the subcommands in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/conf.h"

static const char usage_main[] =
    "usage: araldo COMMAND [OPTIONS]\n"
    "\n"
    "araldo is a self-hostable civic broadcast service: channels, alerts and reports.\n"
    "\n"
    "Commands:\n"
    "  serve         run the server\n"
    "  migrate       apply pending database migrations and exit\n"
    "  backup FILE   copy the database to FILE (safe while the server runs)\n"
    "  export FILE   dump every table to FILE, to move to another engine (secret!)\n"
    "  import FILE   load a dump into a new, empty database (SQLite or PostgreSQL)\n"
    "  user add      create a staff account (password read from standard input)\n"
    "  token create  create an API token for a staff account and print it once\n"
    "  token list    list an account's API tokens;  token revoke: revoke one\n"
    "  org add       create an organization (a Comune)\n"
    "  channel add   create a channel\n"
    "  post          publish a post read from standard input\n"
    "  vapid-keys    make the Web Push key (if missing) and print its public key\n"
    "\n"
    "Run 'araldo COMMAND --help' for a command's options, 'araldo serve --help-config'\n"
    "for every setting. Version " ARALDO_VERSION ".\n";

int main(int argc, char **argv)
{
    struct cli c;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("araldo %s\n", ARALDO_VERSION);
        return 0;
    }
    memset(&c, 0, sizeof(c));
    conf_init(&c.conf);
    if (!strcmp(argv[1], "serve")) {
        rc = cmd_serve(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "migrate")) {
        rc = cmd_migrate(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "backup")) {
        rc = cmd_backup(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "export")) {
        rc = cmd_export(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "import")) {
        rc = cmd_import(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "user")) {
        rc = cmd_user(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "token")) {
        rc = cmd_token(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "org")) {
        rc = cmd_org(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "channel")) {
        rc = cmd_channel(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "post")) {
        rc = cmd_post(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "vapid-keys")) {
        rc = cmd_vapid_keys(&c, argc - 1, argv + 1);
    } else {
        fprintf(stderr, "araldo: unknown command '%s'\n\n%s", argv[1], usage_main);
        rc = 2;
    }
    conf_release(&c.conf);
    return rc;
}
