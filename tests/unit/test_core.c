/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* core/: bounded buffers, settings, JSON, secrets, passwords, histograms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/password.h"
#include "core/secret.h"
#include "harness.h"

TEST(append_past_limit_fails_and_keeps_contents)
{
    struct buf b;

    buf_init(&b, 4);
    CHECK_INT(buf_append(&b, "abcd", 4), ==, 0);
    CHECK_INT(buf_append(&b, "e", 1), ==, -EMSGSIZE);
    CHECK_STR(b.data, "abcd");
    CHECK_INT(buf_printf(&b, "%d", 1), ==, -EMSGSIZE);
    CHECK_INT(b.len, ==, 4);
    buf_release(&b);
}

TEST(buf_consume_and_take_hand_over_contents)
{
    struct buf b;
    size_t len;
    char *s;

    buf_init(&b, 100);
    CHECK_INT(buf_printf(&b, "hello %s", "world"), ==, 0);
    buf_consume(&b, 6);
    CHECK_STR(b.data, "world");
    s = buf_take(&b, &len);
    CHECK_INT(len, ==, 5);
    CHECK_STR(s, "world");
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    s = buf_take(&b, &len);
    CHECK_STR(s, "");
    free(s);
}

TEST(every_default_setting_is_valid_and_documented)
{
    struct conf c;
    char err[256];

    conf_init(&c);
    for (size_t i = 0; i < conf_def_count(); i++) {
        const struct conf_def *d = conf_def_at(i);

        CHECK(d->doc && strlen(d->doc) > 10);
        CHECK_INT(conf_set(&c, d->name, d->defval, err, sizeof(err)), ==, 0);
    }
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_INT(c.max_header_bytes, ==, 16384);
    CHECK_INT(c.max_body_bytes, ==, 1048576);
    CHECK_INT(c.header_timeout_ms, ==, 10000);
    CHECK_INT(c.idle_timeout_ms, ==, 60000);
    conf_release(&c);
}

TEST(bad_setting_names_the_setting_and_changes_nothing)
{
    struct conf c;
    char err[256];

    conf_init(&c);
    CHECK_INT(conf_set(&c, "workers", "3x", err, sizeof(err)), ==, -EINVAL);
    CHECK_STR(err, "workers: '3x' is not a whole number");
    CHECK_INT(c.workers, ==, 0);
    CHECK_INT(conf_set(&c, "workers", "999", err, sizeof(err)), ==, -EINVAL);
    CHECK_STR(err, "workers: 999 is outside 0..256");
    CHECK_INT(conf_set(&c, "nope", "1", err, sizeof(err)), ==, -ENOENT);
    CHECK_INT(conf_set(&c, "listen", "", err, sizeof(err)), ==, -EINVAL);
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_INT(conf_set_pair(&c, "=1", err, sizeof(err)), ==, -EINVAL);
    conf_release(&c);
}

TEST(config_file_lines_with_comments_quotes_and_errors)
{
    static const char text[] = "# araldo\n"
                               "\n"
                               "  listen = 0.0.0.0:80   # all interfaces\n"
                               "web_root = \"/srv/web # not a comment\"\n"
                               "access_log=off\r\n";
    static const char bad[] = "workers = 2\nworkers 3\n";
    struct conf c;
    char err[256];

    conf_init(&c);
    CHECK_INT(conf_parse(&c, text, sizeof(text) - 1, "a.conf", err, sizeof(err)), ==, 0);
    CHECK_STR(c.listen, "0.0.0.0:80");
    CHECK_STR(c.web_root, "/srv/web # not a comment");
    CHECK(!c.access_log);
    CHECK_INT(conf_parse(&c, bad, sizeof(bad) - 1, "b.conf", err, sizeof(err)), ==, -EINVAL);
    CHECK_STR(err, "b.conf:2: expected 'name = value'");
    CHECK_INT(c.workers, ==, 2);
    conf_release(&c);
}

TEST(json_parse_errors_give_line_and_column)
{
    char err[256];
    json_t *v = json_parse("{\n  \"a\": 1,\n  \"a\": 2\n}", 22, err, sizeof(err));

    CHECK(v == NULL);
    CHECK(strstr(err, "line 3") != NULL);
    v = json_parse("{\"a\":", 5, err, sizeof(err));
    CHECK(v == NULL);
    CHECK(strstr(err, "line 1, column") != NULL);
    v = json_parse("{\"a\":\"\\u00e8\"}", 14, err, sizeof(err));
    CHECK(v != NULL);
    json_decref(v);
}

TEST(json_error_body_has_code_message_and_optional_field)
{
    size_t len;
    char *s = json_error_body("too_long", "Say \"less\".", "name", &len);

    CHECK_STR(s, "{\"error\":{\"code\":\"too_long\",\"message\":\"Say \\\"less\\\".\","
                 "\"field\":\"name\"}}");
    free(s);
    s = json_error_body("not_found", "No.", NULL, &len);
    CHECK_STR(s, "{\"error\":{\"code\":\"not_found\",\"message\":\"No.\"}}");
    free(s);
}

TEST(tokens_are_random_base64url_and_hashes_compare_in_constant_time)
{
    char a[64];
    char b[64];
    uint8_t ha[SECRET_HASH_LEN];
    uint8_t hb[SECRET_HASH_LEN];
    char hex[2 * SECRET_HASH_LEN + 1];

    secret_token("araldo", a, sizeof(a));
    secret_token("araldo", b, sizeof(b));
    CHECK_INT(strlen(a), ==, 7 + 43);
    CHECK(strncmp(a, "araldo_", 7) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(strspn(a + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), ==,
              43);
    secret_sha256("abc", 3, ha);
    secret_hex(ha, sizeof(ha), hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    secret_sha256("abd", 3, hb);
    CHECK(!secret_equal(ha, hb, sizeof(ha)));
    CHECK(secret_equal(ha, ha, sizeof(ha)));
}

TEST(base64url_matches_rfc4648_vectors)
{
    char out[16];

    secret_b64url("f", 1, out, sizeof(out));
    CHECK_STR(out, "Zg");
    secret_b64url("foob", 4, out, sizeof(out));
    CHECK_STR(out, "Zm9vYg");
    secret_b64url("\xfb\xff", 2, out, sizeof(out));
    CHECK_STR(out, "-_8");
}

TEST(password_hash_verifies_only_the_right_password)
{
    char hash[PASSWORD_HASH_MAX];
    char pw[32];

    CHECK_INT(password_hash("short", hash, sizeof(hash)), ==, -EINVAL);
    CHECK_INT(password_hash("correct horse battery", hash, sizeof(hash)), ==, 0);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(password_verify("correct horse battery", hash));
    CHECK(!password_verify("correct horse battery!", hash));
    password_generate(pw, sizeof(pw));
    CHECK_INT(strlen(pw), ==, 20);
}

TEST(histogram_counts_into_cumulative_buckets)
{
    static struct histogram h;
    struct buf out;

    histogram_observe(&h, 50);
    histogram_observe(&h, 300);
    histogram_observe(&h, 5000000);
    buf_init(&out, 8192);
    CHECK_INT(histogram_write(&h, "x_seconds", "test", &out), ==, 0);
    CHECK(strstr(out.data, "x_seconds_bucket{le=\"0.0001\"} 1\n") != NULL);
    CHECK(strstr(out.data, "x_seconds_bucket{le=\"0.0005\"} 2\n") != NULL);
    CHECK(strstr(out.data, "x_seconds_bucket{le=\"1\"} 2\n") != NULL);
    CHECK(strstr(out.data, "x_seconds_bucket{le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(out.data, "x_seconds_count 3\n") != NULL);
    buf_release(&out);
}

TEST(clock_formats_rfc3339_and_http_dates)
{
    char s[40];

    clock_rfc3339(784111777123, s, sizeof(s));
    CHECK_STR(s, "1994-11-06T08:49:37.123Z");
    clock_http_date(784111777000, s, sizeof(s));
    CHECK_STR(s, "Sun, 06 Nov 1994 08:49:37 GMT");
}
