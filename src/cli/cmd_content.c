/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Content from the command line, for scripting against the local database: org add,
 * channel add, post. Each write goes through the store like the API's (audited; CLI writes are
 * attributed to the system unless --as names a staff account).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/channels.h"
#include "store/orgs.h"
#include "store/posts.h"

/* Print why a write failed in words a person can act on. */
static int report(const char *cmd, int err, const char *what)
{
    if (!err)
        return 0;
    if (err == -EEXIST) {
        fprintf(stderr, "araldo %s: %s already exists\n", cmd, what);
    } else if (err == -ENOENT) {
        fprintf(stderr, "araldo %s: %s refers to something that does not exist\n", cmd, what);
    } else if (err == -EINVAL) {
        fprintf(stderr, "araldo %s: a value is out of its limits (see --help)\n", cmd);
    } else if (err == -EPERM) {
        fprintf(stderr, "araldo %s: not allowed for this account\n", cmd);
    } else {
        fprintf(stderr, "araldo %s: cannot write: %s\n", cmd, strerror(-err));
    }
    return 1;
}

static bool is_sub(int argc, char **argv, const char *sub, const struct cli_command *cmd, int *rc)
{
    if (argc >= 2 && !strcmp(argv[1], sub))
        return true;
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        cli_help(cmd, stdout);
        *rc = 0;
    } else {
        fprintf(stderr, "araldo: expected '%s'\n", sub);
        cli_help(cmd, stderr);
        *rc = 2;
    }
    return false;
}

static const struct cli_opt_help org_opts[] = {
    { CLI_OPT_SLUG, "2 to 64 of a-z, 0-9 and '-', used in addresses (comune-valdoro)" },
    { CLI_OPT_NAME, "the name people see (Comune di Valdoro)" },
    { CLI_OPT_ISTAT, "the six-digit ISTAT code" },
    { CLI_OPT_TIMEZONE, "IANA time zone (default Europe/Rome)" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_org_help = {
    "org add",
    "usage: araldo org add --slug SLUG --name NAME [--istat CODE] [--timezone ZONE] [--data DIR]\n"
    "                      [OPTIONS]\n",
    "Create an organization (a Comune).\n",
    org_opts,
};

int cmd_org(struct cli *c, int argc, char **argv)
{
    struct store_org_fields f = { 0 };
    struct store *s;
    int64_t id = 0;
    int rc = 0;

    if (!is_sub(argc, argv, "add", &cmd_org_help, &rc))
        return rc;
    rc = cli_parse(c, argc - 1, argv + 1, &cmd_org_help);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->slug || !store_org_slug_valid(c->slug) || !c->name) {
        fprintf(stderr, "araldo org add: --slug (2 to 64 of a-z 0-9 -) and --name are needed\n");
        return 2;
    }
    f.set =
        STORE_ORG_F_NAME | (c->istat ? STORE_ORG_F_ISTAT : 0) | (c->timezone ? STORE_ORG_F_TZ : 0);
    f.name = c->name;
    f.istat_code = c->istat;
    f.timezone = c->timezone;
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    rc = store_org_add(s, 0, c->slug, &f, NULL, NULL, &id);
    store_close(s);
    if (report("org add", rc, "an organization with this slug"))
        return 1;
    printf("org add: created '%s'\n", c->slug);
    return 0;
}

static const struct cli_opt_help channel_opts[] = {
    { CLI_OPT_ORG, "the organization's slug" },
    { CLI_OPT_HANDLE, "3 to 32 of a-z, 0-9, '-' and '_' (the channel's address)" },
    { CLI_OPT_NAME, "the name followers see" },
    { CLI_OPT_OWNER, "the staff account that owns it" },
    { CLI_OPT_DESCRIPTION, "what followers get from it (default empty)" },
    { CLI_OPT_CATEGORY, "news, civil_protection, culture, tourism, schools, transport,\n"
                        "environment, sport or other (default news)" },
    { CLI_OPT_LANGUAGE, "default it" },
    { CLI_OPT_UNLISTED, "not in the public directory: reachable by invite link only" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_channel_help = {
    "channel add",
    "usage: araldo channel add --org SLUG --handle HANDLE --name NAME --owner EMAIL\n"
    "                          [--description TEXT] [--category CAT] [--language TAG]\n"
    "                          [--unlisted] [--data DIR] [OPTIONS]\n",
    "Create a channel in an organization, owned by a staff account of that organization or an\n"
    "operator (the API's rule).\n",
    channel_opts,
};

/* Look up a staff account by e-mail; prints why not. */
static int user_of(struct store *s, const char *cmd, const char *email, struct store_user *u)
{
    struct store_reader *r = cli_open_reader(s);
    char hash[256];
    int rc;

    if (!r)
        return -EIO;
    rc = store_user_by_email(r, email, u, hash, sizeof(hash));
    store_reader_close(r);
    if (rc == -ENOENT) {
        fprintf(stderr, "araldo %s: no staff account '%s'\n", cmd, email);
    } else if (rc) {
        fprintf(stderr, "araldo %s: cannot read accounts: %s\n", cmd, strerror(-rc));
    }
    return rc;
}

/* Look up a staff account's id by e-mail; prints why not. */
static int user_id_of(struct store *s, const char *cmd, const char *email, int64_t *id)
{
    struct store_user u;
    int rc = user_of(s, cmd, email, &u);

    if (!rc)
        *id = u.id;
    return rc;
}

int cmd_channel(struct cli *c, int argc, char **argv)
{
    struct store_channel_fields f = { 0 };
    struct store_reader *r = NULL;
    struct store_org org;
    struct store *s = NULL;
    struct store_user owner;
    int64_t id = 0;
    bool reserved = false;
    int rc = 0;

    if (!is_sub(argc, argv, "add", &cmd_channel_help, &rc))
        return rc;
    rc = cli_parse(c, argc - 1, argv + 1, &cmd_channel_help);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->org || !c->handle || !c->name || !c->owner) {
        fprintf(stderr, "araldo channel add: --org, --handle, --name and --owner are needed\n");
        return 2;
    }
    if (!store_channel_handle_valid(c->handle, &reserved)) {
        fprintf(stderr, "araldo channel add: '%s' is %s\n", c->handle,
                reserved ? "a reserved word" : "not 3 to 32 of a-z, 0-9, '-' and '_'");
        return 2;
    }
    s = cli_open_store(&c->conf);
    if (!s)
        return 1;
    r = cli_open_reader(s);
    rc = r ? store_org_get(r, c->org, &org) : -EIO;
    store_reader_close(r);
    if (rc) {
        fprintf(stderr, "araldo channel add: no organization '%s'\n", c->org);
        goto out;
    }
    rc = user_of(s, "channel add", c->owner, &owner);
    if (rc)
        goto out;
    /* The API's rule, from the store that enforces it: an operator or staff of this org. */
    if (!store_channel_owner_allowed(owner.role, owner.org_id, org.id)) {
        fprintf(stderr, "araldo channel add: '%s' is not staff of '%s' (nor an operator)\n",
                c->owner, c->org);
        rc = -EPERM;
        goto out;
    }
    f.handle = c->handle;
    f.name = c->name;
    f.description = c->description ? c->description : "";
    f.category = c->category ? c->category : "news";
    f.language = c->language ? c->language : "it";
    f.has_listed = true;
    f.listed = !c->unlisted;
    rc = store_channel_create(s, org.id, owner.id, &f, NULL, NULL, &id);
    if (!report("channel add", rc, "a channel with this handle"))
        printf("channel add: created '%s'\n", c->handle);
out:
    store_close(s);
    return rc ? 1 : 0;
}

static const struct cli_opt_help post_opts[] = {
    { CLI_OPT_CHANNEL, "the channel's handle" },
    { CLI_OPT_IMPORTANT, "notify followers (push) as well" },
    { CLI_OPT_SILENT, "no notification at all" },
    { CLI_OPT_AS, "the staff account recorded in the audit log (default: the system)" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_post_help = {
    "post",
    "usage: araldo post --channel HANDLE [--important | --silent] [--as EMAIL] [--data DIR]\n"
    "                   [OPTIONS] < text\n",
    "Publish a post now; its text (1 to 4,096 characters, WhatsApp-style *bold* _italic_\n"
    "~strike~ `mono`) is read from standard input.\n",
    post_opts,
};

int cmd_post(struct cli *c, int argc, char **argv)
{
    struct store_post_fields f = { 0 };
    struct store_reader *r = NULL;
    struct store_channel ch;
    struct store *s = NULL;
    char *text = NULL;
    int64_t user = 0;
    int64_t id = 0;
    size_t n;
    int rc = cli_parse(c, argc, argv, &cmd_post_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->channel || (c->important && c->silent)) {
        fprintf(stderr, "araldo post: --channel is needed; choose --important or --silent\n");
        return 2;
    }
    text = cli_read_stdin(POST_TEXT_BYTES);
    if (!text) {
        fprintf(stderr, "araldo post: the text is longer than 4,096 characters\n");
        return 2;
    }
    n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    s = cli_open_store(&c->conf);
    if (!s) {
        free(text);
        return 1;
    }
    r = cli_open_reader(s);
    rc = r ? store_channel_get(r, c->channel, &ch) : -EIO;
    store_reader_close(r);
    if (rc) {
        fprintf(stderr, "araldo post: no channel '%s'\n", c->channel);
        goto out;
    }
    if (c->as) {
        rc = user_id_of(s, "post", c->as, &user);
        if (rc)
            goto out;
    }
    f.text = text;
    f.has_importance = true;
    f.importance = c->important ? STORE_IMPORTANT : c->silent ? STORE_SILENT : STORE_NORMAL;
    rc = store_post_create(s, ch.id, user, &f, NULL, NULL, &id);
    if (rc == -EINVAL) {
        fprintf(stderr, "araldo post: the text must be 1 to 4,096 characters\n");
    } else if (!report("post", rc, "the post")) {
        printf("post: published %lld in '%s'\n", (long long)id, c->channel);
    }
out:
    store_close(s);
    free(text);
    return rc ? 1 : 0;
}
