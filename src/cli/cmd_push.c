/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* araldo vapid-keys: make (if missing) the Web Push VAPID key and print its public half. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "push/vapid.h"

static const struct cli_opt_help no_opts[] = { { CLI_OPT_END, NULL } };

static const struct cli_command cmd_vapid_help = {
    "vapid-keys",
    "usage: araldo vapid-keys [--data DIR] [OPTIONS]\n",
    "Make the server's Web Push (VAPID, RFC 8292) key pair in DATA_DIR/vapid.pem (mode 0600)\n"
    "unless it exists, and print the public key (base64url). 'araldo serve' makes it on first\n"
    "start too; back the file up with the database: a new key makes every browser subscribe\n"
    "again.\n",
    no_opts,
};

int cmd_vapid_keys(struct cli *c, int argc, char **argv)
{
    char path[4096];
    char err[512];
    bool created = false;
    struct vapid *v;
    int rc = cli_parse(c, argc, argv, &cmd_vapid_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (mkdir(c->conf.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "araldo: cannot create '%s'\n", c->conf.data_dir);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/vapid.pem", c->conf.data_dir);
    v = vapid_open(path, true, &created, err, sizeof(err));
    if (!v) {
        fprintf(stderr, "araldo: %s\n", err);
        return 1;
    }
    printf("%s\n", vapid_public_key(v));
    fprintf(stderr, "vapid-keys: %s '%s'\n", created ? "made" : "using", path);
    vapid_free(v);
    return 0;
}
