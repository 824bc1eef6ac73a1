/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * araldo: the one binary. Parses the command line, loads settings and wires the modules
 * together (the only place that does): store, http server, api routes.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "api/api.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/password.h"
#include "core/secret.h"
#include "http/http.h"
#include "store/store.h"

#define ARALDO_VERSION "0.1.0"

static const char usage_main[] =
    "usage: araldo COMMAND [OPTIONS]\n"
    "\n"
    "araldo is a self-hostable civic broadcast service: channels, alerts and reports.\n"
    "\n"
    "Commands:\n"
    "  serve         run the server\n"
    "  migrate       apply pending database migrations and exit\n"
    "  backup FILE   copy the database to FILE (safe while the server runs)\n"
    "  user add      create a staff account (password read from standard input)\n"
    "  token create  create an API token for a staff account and print it once\n"
    "\n"
    "Run 'araldo COMMAND --help' for a command's options, 'araldo serve --help-config'\n"
    "for every setting. Version " ARALDO_VERSION ".\n";

static const char usage_common[] =
    "  --config FILE    read settings from FILE (`name = value` lines)\n"
    "  --data DIR       data directory (setting data_dir; default ./var)\n"
    "  --set NAME=VALUE override one setting (repeatable; see araldo serve --help-config)\n"
    "  -h, --help       show this help\n";

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
    int help_config; /* 1: text, 2: markdown */
};

enum { OPT_CONFIG = 256, OPT_DATA, OPT_SET, OPT_LISTEN, OPT_HELP_CONFIG, OPT_EMAIL, OPT_ROLE,
       OPT_NAME };

static const struct option long_opts[] = {
    { "config", required_argument, NULL, OPT_CONFIG },
    { "data", required_argument, NULL, OPT_DATA },
    { "set", required_argument, NULL, OPT_SET },
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "help-config", optional_argument, NULL, OPT_HELP_CONFIG },
    { "email", required_argument, NULL, OPT_EMAIL },
    { "role", required_argument, NULL, OPT_ROLE },
    { "name", required_argument, NULL, OPT_NAME },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/*
 * Parse options; returns 0, 1 if help was printed, or -1 on error (message printed). Settings
 * apply in this order whatever the order on the command line: defaults, --config file, then
 * --data/--listen/--set, so the command line always wins.
 */
static int parse_args(struct cli *c, int argc, char **argv, const char *usage)
{
    char err[512];
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
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
        case OPT_EMAIL:
            c->email = optarg;
            break;
        case OPT_ROLE:
            c->role = optarg;
            break;
        case OPT_NAME:
            c->name = optarg;
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
        if (c->help_config == 2)
            conf_print_markdown(stdout);
        else
            conf_print_help(stdout);
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

static struct store *open_store(const struct conf *conf)
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

/*
 * A new server has no account to sign in with: create an operator with a one-time password and
 * show it once on standard output (never in the log).
 */
static int first_start(struct store *s)
{
    static const char email[] = "admin@localhost";
    char pw[32];
    char hash[PASSWORD_HASH_MAX];
    struct store_reader *r;
    char err[256];
    int64_t n = 0;
    int rc;

    r = store_reader_open(s, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "araldo: %s\n", err);
        return -EIO;
    }
    rc = store_user_count(r, &n);
    store_reader_close(r);
    if (rc || n > 0)
        return rc;
    password_generate(pw, sizeof(pw));
    rc = password_hash(pw, hash, sizeof(hash));
    if (!rc)
        rc = store_user_add(s, email, STORE_ROLE_OPERATOR, hash, true, NULL, NULL, NULL);
    if (rc) {
        fprintf(stderr, "araldo: cannot create the first operator account: %s\n",
                strerror(-rc));
        return rc;
    }
    printf("first start: created operator account '%s' with one-time password %s\n"
           "first start: sign in and change it; it is not shown again\n",
           email, pw);
    fflush(stdout);
    return 0;
}

static unsigned worker_count(long configured)
{
    long n = configured > 0 ? configured : sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

static const char usage_serve[] =
    "usage: araldo serve [OPTIONS]\n"
    "\n"
    "Run the server until SIGTERM or SIGINT (then it finishes in-flight requests and exits).\n"
    "On a new database it creates an operator account and prints its one-time password.\n"
    "\n"
    "  --listen ADDR    address:port to listen on (setting listen; default 127.0.0.1:8080;\n"
    "                   port 0 picks a free port; the address is printed as\n"
    "                   'listening on http://ADDR:PORT')\n"
    "  --help-config[=markdown]  list every setting with its default and range\n";

static int cmd_serve(struct cli *c, int argc, char **argv)
{
    struct api_app app = { 0 };
    struct http_server *srv = NULL;
    struct api_jobs *jobs = NULL;
    struct http_opts ho;
    char err[512];
    sigset_t sigs;
    int sig = 0;
    int rc = parse_args(c, argc, argv, usage_serve);

    if (rc)
        return rc > 0 ? 0 : 2;
    app.store = open_store(&c->conf);
    if (!app.store)
        return 1;
    if (first_start(app.store)) {
        store_close(app.store);
        return 1;
    }
    /* Workers inherit this mask; only the main thread takes the signals, with sigwait. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&ho, 0, sizeof(ho));
    ho.listen = c->conf.listen;
    ho.workers = worker_count(c->conf.workers);
    ho.max_header_bytes = (size_t)c->conf.max_header_bytes;
    ho.max_body_bytes = (size_t)c->conf.max_body_bytes;
    ho.header_timeout_ms = (uint64_t)c->conf.header_timeout_ms;
    ho.body_timeout_ms = (uint64_t)c->conf.body_timeout_ms;
    ho.idle_timeout_ms = (uint64_t)c->conf.idle_timeout_ms;
    ho.max_connections = (unsigned)c->conf.max_connections;
    ho.max_connections_per_ip = (unsigned)c->conf.max_connections_per_ip;
    ho.shutdown_timeout_ms = (uint64_t)c->conf.shutdown_timeout_ms;
    ho.web_root = c->conf.web_root;
    ho.frame_ancestors = c->conf.frame_ancestors;
    ho.static_max_age_s = (unsigned)c->conf.static_max_age_s;
    ho.access_log = c->conf.access_log;
    ho.routes = api_routes(&ho.nroutes);
    ho.app = &app;
    ho.loop_init = api_loop_init;
    ho.loop_fini = api_loop_fini;
    srv = http_server_start(&ho, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "araldo: %s\n", err);
        store_close(app.store);
        return 1;
    }
    app.server = srv;
    jobs = api_jobs_start(&app); /* scheduled posts, retention */
    printf("listening on http://%s\n", http_server_address(srv));
    fflush(stdout);
    log_info("serve: %u workers, data in '%s'", ho.workers, c->conf.data_dir);

    while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    log_info("serve: %s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    api_jobs_stop(jobs);
    http_server_stop(srv);
    http_server_free(srv);
    store_close(app.store);
    log_info("serve: stopped");
    return 0;
}

static const char usage_migrate[] =
    "usage: araldo migrate [OPTIONS]\n"
    "\n"
    "Apply pending database migrations (serve also does this at start) and exit.\n";

static int cmd_migrate(struct cli *c, int argc, char **argv)
{
    struct store *s;
    int rc = parse_args(c, argc, argv, usage_migrate);

    if (rc)
        return rc > 0 ? 0 : 2;
    s = open_store(&c->conf);
    if (!s)
        return 1;
    printf("migrate: schema at version %d (%d migrations applied now)\n",
           store_schema_version(s), store_migrations_applied(s));
    store_close(s);
    return 0;
}

static const char usage_backup[] =
    "usage: araldo backup FILE [OPTIONS]\n"
    "\n"
    "Copy the database to FILE with SQLite's online backup: safe while the server runs,\n"
    "the copy is a consistent snapshot, written under a temporary name and renamed.\n";

static void backup_progress(void *ctx, int done, int total)
{
    (void)ctx;
    if (total > 0)
        fprintf(stderr, "\rbackup: %3d%% (%d of %d pages)", done * 100 / total, done, total);
}

static int cmd_backup(struct cli *c, int argc, char **argv)
{
    struct store *s;
    char err[512];
    int rc = parse_args(c, argc, argv, usage_backup);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (optind != argc - 1) {
        fprintf(stderr, "araldo backup: name one destination FILE\n%s", usage_backup);
        return 2;
    }
    s = open_store(&c->conf);
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

/* Read one line from stdin without echo when it is a terminal. Returns 0 or -EINVAL. */
static int read_password(char *out, size_t outlen)
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

static bool email_ok(const char *e)
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

static const char usage_user[] =
    "usage: araldo user add --email EMAIL --role ROLE [OPTIONS] < password\n"
    "\n"
    "Create a staff account. The password (10 to 256 characters) is read from standard\n"
    "input (one line; typed without echo on a terminal). Nothing secret is printed.\n"
    "ROLE is operator (the whole server); org_admin and staff need an organization,\n"
    "created with the organizations API.\n"
    "\n"
    "  --email EMAIL    the person's e-mail address, used to sign in\n"
    "  --role ROLE      operator\n";

static int cmd_user(struct cli *c, int argc, char **argv)
{
    char pw[PASSWORD_MAX_LEN + 2];
    char hash[PASSWORD_HASH_MAX];
    enum store_role role;
    struct store *s;
    int64_t id = 0;
    int rc;

    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(usage_user, stdout);
            return 0;
        }
        fprintf(stderr, "araldo user: expected 'add'\n%s", usage_user);
        return 2;
    }
    rc = parse_args(c, argc - 1, argv + 1, usage_user);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->email || !email_ok(c->email)) {
        fprintf(stderr, "araldo user add: --email must be an e-mail address like "
                        "ufficio@comune.example.it\n");
        return 2;
    }
    if (!c->role || store_role_parse(c->role, &role)) {
        fprintf(stderr, "araldo user add: --role must be operator, org_admin or staff\n");
        return 2;
    }
    if (role != STORE_ROLE_OPERATOR) {
        fprintf(stderr, "araldo user add: role '%s' belongs to an organization; create it "
                        "with POST /api/v1/orgs/{slug}/staff\n", c->role);
        return 2;
    }
    if (read_password(pw, sizeof(pw)) || password_hash(pw, hash, sizeof(hash))) {
        fprintf(stderr, "araldo user add: the password must be %d to %d characters on one "
                        "line of standard input\n", PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
        return 2;
    }
    secret_random(pw, sizeof(pw));
    s = open_store(&c->conf);
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

static const char usage_token[] =
    "usage: araldo token create --email EMAIL [--name NAME] [OPTIONS]\n"
    "\n"
    "Create an API token for the staff account EMAIL and print it once on standard output.\n"
    "Only its hash is stored: keep it safe; revoke it with DELETE /api/v1/tokens/{id}.\n"
    "\n"
    "  --email EMAIL    the account the token acts as\n"
    "  --name NAME      what the token is for (default \"cli\")\n";

static int cmd_token(struct cli *c, int argc, char **argv)
{
    uint8_t hash[SECRET_HASH_LEN];
    char token[64];
    char hashbuf[PASSWORD_HASH_MAX];
    struct store_user u;
    struct store_reader *r;
    struct store *s;
    char err[256];
    int rc;

    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(usage_token, stdout);
            return 0;
        }
        fprintf(stderr, "araldo token: expected 'create'\n%s", usage_token);
        return 2;
    }
    rc = parse_args(c, argc - 1, argv + 1, usage_token);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (!c->email) {
        fprintf(stderr, "araldo token create: --email is required\n");
        return 2;
    }
    if (c->name && (!*c->name || strlen(c->name) > 100)) {
        fprintf(stderr, "araldo token create: --name must be 1 to 100 characters\n");
        return 2;
    }
    s = open_store(&c->conf);
    if (!s)
        return 1;
    r = store_reader_open(s, err, sizeof(err));
    rc = r ? store_user_by_email(r, c->email, &u, hashbuf, sizeof(hashbuf)) : -EIO;
    store_reader_close(r);
    if (!rc) {
        secret_token("araldo", token, sizeof(token));
        secret_sha256(token, strlen(token), hash);
        rc = store_token_add(s, u.id, c->name ? c->name : "cli", hash, NULL, NULL, NULL);
    }
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "araldo token create: no account '%s' (create it with araldo user "
                        "add)\n", c->email);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "araldo token create: cannot create the token: %s\n", strerror(-rc));
        return 1;
    }
    printf("%s\n", token);
    return 0;
}

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
    } else if (!strcmp(argv[1], "user")) {
        rc = cmd_user(&c, argc - 1, argv + 1);
    } else if (!strcmp(argv[1], "token")) {
        rc = cmd_token(&c, argc - 1, argv + 1);
    } else {
        fprintf(stderr, "araldo: unknown command '%s'\n\n%s", argv[1], usage_main);
        rc = 2;
    }
    conf_release(&c.conf);
    return rc;
}
