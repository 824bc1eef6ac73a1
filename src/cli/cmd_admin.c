/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Administration: migrate, backup, user add, token create. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/password.h"
#include "core/secret.h"

static const struct cli_opt_help no_opts[] = { { CLI_OPT_END, NULL } };

static const struct cli_command cmd_migrate_help = {
    "migrate",
    "usage: araldo migrate [--data DIR] [OPTIONS]\n",
    "Apply pending database migrations (serve also does this at start) and exit.\n",
    no_opts,
};

int cmd_migrate(struct cli *c, int argc, char **argv)
{
    struct store *s;
    int rc = cli_parse(c, argc, argv, &cmd_migrate_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    printf("migrate: schema at version %d (%d migrations applied now)\n", store_schema_version(s),
           store_migrations_applied(s));
    store_close(s);
    return 0;
}

static const struct cli_command cmd_backup_help = {
    "backup",
    "usage: araldo backup FILE [--data DIR] [OPTIONS]\n",
    "Copy the database to FILE with SQLite's online backup: safe while the server runs,\n"
    "the copy is a consistent snapshot, written under a temporary name and renamed.\n",
    no_opts,
};

static void backup_progress(void *ctx, int done, int total)
{
    (void)ctx;
    if (total > 0)
        fprintf(stderr, "\rbackup: %3d%% (%d of %d pages)", done * 100 / total, done, total);
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
    struct store *s;
    char err[512];
    int rc = cli_parse(c, argc, argv, &cmd_backup_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (optind != argc - 1) {
        fprintf(stderr, "araldo backup: name one destination FILE\n");
        cli_help(&cmd_backup_help, stderr);
        return 2;
    }
    if (*c->conf.database_url) {
        fprintf(stderr, "araldo backup: the database is PostgreSQL (database_url): back it up "
                        "with pg_dump (docs/DEPLOY.md)\n");
        return 1;
    }
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    rc = store_backup(s, argv[optind], isatty(STDERR_FILENO) ? backup_progress : NULL, NULL, err,
                      sizeof(err));
    if (isatty(STDERR_FILENO))
        fputc('\n', stderr);
    store_close(s);
    if (rc) {
        fprintf(stderr, "araldo: %s\n", err);
        return 1;
    }
    printf("backup: wrote '%s'\n", argv[optind]);
    return 0;
}

static const struct cli_opt_help user_opts[] = {
    { CLI_OPT_EMAIL, "the person's e-mail address, used to sign in" },
    { CLI_OPT_ROLE, "operator" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_user_help = {
    "user add",
    "usage: araldo user add --email EMAIL --role operator [--data DIR] [OPTIONS] < password\n",
    "Create a staff account. The password (10 to 256 characters) is read from standard\n"
    "input (one line; typed without echo on a terminal). Nothing secret is printed.\n"
    "ROLE is operator (the whole server); org_admin and staff need an organization,\n"
    "created with the organizations API.\n",
    user_opts,
};

int cmd_user(struct cli *c, int argc, char **argv)
{
    char pw[PASSWORD_MAX_LEN + 2];
    char hash[PASSWORD_HASH_MAX];
    enum store_role role;
    struct store *s;
    int64_t id = 0;
    int rc;

    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            cli_help(&cmd_user_help, stdout);
            return 0;
        }
        fprintf(stderr, "araldo user: expected 'add'\n");
        cli_help(&cmd_user_help, stderr);
        return 2;
    }
    rc = cli_parse(c, argc - 1, argv + 1, &cmd_user_help);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->email || !cli_email_ok(c->email)) {
        fprintf(stderr, "araldo user add: --email must be an e-mail address like "
                        "ufficio@comune.example.it\n");
        return 2;
    }
    if (!c->role || store_role_parse(c->role, &role)) {
        fprintf(stderr, "araldo user add: --role must be operator, org_admin or staff\n");
        return 2;
    }
    if (role != STORE_ROLE_OPERATOR) {
        fprintf(stderr,
                "araldo user add: role '%s' belongs to an organization; create it "
                "with POST /api/v1/orgs/{slug}/staff\n",
                c->role);
        return 2;
    }
    if (cli_read_password(pw, sizeof(pw)) || password_hash(pw, hash, sizeof(hash))) {
        fprintf(stderr,
                "araldo user add: the password must be %d to %d characters on one "
                "line of standard input\n",
                PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
        return 2;
    }
    secret_random(pw, sizeof(pw));
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    rc = store_user_add(s, c->email, role, hash, false, NULL, NULL, &id);
    store_close(s);
    if (rc == -EEXIST) {
        fprintf(stderr, "araldo user add: an account for '%s' already exists\n", c->email);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "araldo user add: cannot create the account: %s\n", strerror(-rc));
        return 1;
    }
    printf("user add: created %s account '%s'\n", store_role_name(role), c->email);
    return 0;
}

static const struct cli_opt_help token_opts[] = {
    { CLI_OPT_EMAIL, "the account the tokens act as" },
    { CLI_OPT_NAME, "what a new token is for (default \"cli\"; create only)" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_token_help = {
    "token",
    "usage: araldo token create --email EMAIL [--name NAME] [--data DIR] [OPTIONS]\n"
    "       araldo token list --email EMAIL [--data DIR] [OPTIONS]\n"
    "       araldo token revoke --email EMAIL ID [--data DIR] [OPTIONS]\n",
    "create: make an API token for the staff account EMAIL and print it once on standard\n"
    "output. Only its hash is stored: keep it safe.\n"
    "list: the account's live tokens (id, name, creation time), never their secrets.\n"
    "revoke: stop token ID of the account from working, at once.\n",
    token_opts,
};

static void token_print(void *ctx, const struct store_token *tok)
{
    char when[32];

    (void)ctx;
    clock_rfc3339(tok->created_ms, when, sizeof(when));
    printf("%lld\t%s\t%s\n", (long long)tok->id, when, tok->name);
}

/* The account named by --email into `u`; prints why not. */
static int token_account(struct store *s, const char *email, struct store_user *u)
{
    char hashbuf[PASSWORD_HASH_MAX];
    struct store_reader *r = cli_open_reader(s);
    int rc = r ? store_user_by_email(r, email, u, hashbuf, sizeof(hashbuf)) : -EIO;

    store_reader_close(r);
    if (rc == -ENOENT) {
        fprintf(stderr, "araldo token: no account '%s' (create it with araldo user add)\n", email);
    } else if (rc) {
        fprintf(stderr, "araldo token: cannot read accounts: %s\n", strerror(-rc));
    }
    return rc;
}

static int token_create(struct store *s, const struct store_user *u, const char *name)
{
    uint8_t hash[SECRET_HASH_LEN];
    char token[64];
    int rc;

    secret_token("araldo", token, sizeof(token));
    secret_sha256(token, strlen(token), hash);
    rc = store_token_add(s, u->id, name ? name : "cli", hash, NULL, NULL, NULL);
    if (rc) {
        fprintf(stderr, "araldo token create: cannot create the token: %s\n", strerror(-rc));
    } else {
        printf("%s\n", token);
    }
    secret_random(token, sizeof(token));
    return rc;
}

static int token_revoke(struct store *s, const struct store_user *u, const char *idtext)
{
    char *end = NULL;
    long long id = idtext ? strtoll(idtext, &end, 10) : 0;
    int rc;

    if (!idtext || *end || id <= 0) {
        fprintf(stderr, "araldo token revoke: name the token's ID (see araldo token list)\n");
        return -EINVAL;
    }
    rc = store_token_revoke(s, u->id, id, NULL, NULL);
    if (rc == -ENOENT) {
        fprintf(stderr, "araldo token revoke: '%s' has no live token %lld\n", u->email, id);
    } else if (rc) {
        fprintf(stderr, "araldo token revoke: cannot revoke: %s\n", strerror(-rc));
    } else {
        printf("token revoke: token %lld of '%s' no longer works\n", id, u->email);
    }
    return rc;
}

int cmd_token(struct cli *c, int argc, char **argv)
{
    const char *sub = argc >= 2 ? argv[1] : "";
    struct store_reader *r = NULL;
    struct store_user u;
    struct store *s;
    int rc;

    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        cli_help(&cmd_token_help, stdout);
        return 0;
    }
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
        fprintf(stderr, "araldo token: expected 'create', 'list' or 'revoke'\n");
        cli_help(&cmd_token_help, stderr);
        return 2;
    }
    rc = cli_parse(c, argc - 1, argv + 1, &cmd_token_help);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->email) {
        fprintf(stderr, "araldo token %s: --email is required\n", sub);
        return 2;
    }
    if (c->name && (!*c->name || strlen(c->name) > 100)) {
        fprintf(stderr, "araldo token create: --name must be 1 to 100 characters\n");
        return 2;
    }
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    rc = token_account(s, c->email, &u);
    if (!rc && !strcmp(sub, "create")) {
        rc = token_create(s, &u, c->name);
    } else if (!rc && !strcmp(sub, "revoke")) {
        rc = token_revoke(s, &u, optind < argc - 1 ? argv[1 + optind] : NULL);
    } else if (!rc) {
        r = cli_open_reader(s);
        rc = r ? store_token_list(r, u.id, token_print, NULL) : -EIO;
        store_reader_close(r);
    }
    store_close(s);
    return rc ? 1 : 0;
}
