/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* araldo vapid-keys: make (if missing) the Web Push VAPID key and print its public half. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "api/push_cluster.h"
#include "push/vapid.h"

static const struct cli_opt_help vapid_opts[] = {
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_vapid_help = {
    "vapid-keys",
    "usage: araldo vapid-keys [--data DIR] [OPTIONS]\n",
    "Make the server's Web Push (VAPID, RFC 8292) key pair unless it exists, and print the\n"
    "public key (base64url). The key is kept in the database, one for every node that shares\n"
    "it; an older server's DATA_DIR/vapid.pem is moved in on first use. 'araldo serve' does the\n"
    "same on start. The private key is never printed: back the database up, since a new key\n"
    "makes every browser subscribe again.\n",
    vapid_opts,
};

int cmd_vapid_keys(struct cli *c, int argc, char **argv)
{
    static const char *const said[] = { "using the database's key", "moved DATA_DIR/vapid.pem in",
                                        "made a new key" };
    char err[512];
    enum api_vapid_how how = API_VAPID_SHARED;
    bool differs = false;
    struct store *s;
    struct vapid *v;
    int rc = cli_parse(c, argc, argv, &cmd_vapid_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (mkdir(c->conf.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "araldo: cannot create '%s'\n", c->conf.data_dir);
        return 1;
    }
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    v = api_push_vapid_load(s, c->conf.data_dir, &how, &differs, err, sizeof(err));
    store_close(s);
    if (!v) {
        fprintf(stderr, "araldo: %s\n", err);
        return 1;
    }
    printf("%s\n", vapid_public_key(v));
    fprintf(stderr, "vapid-keys: %s\n", said[how]);
    if (differs) {
        fprintf(stderr, "vapid-keys: '%s/vapid.pem' is not the database's key: it is ignored\n",
                c->conf.data_dir);
    }
    vapid_free(v);
    return 0;
}
