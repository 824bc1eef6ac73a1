/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Settings. One table (conf.c: name, type, default as text, min, max, doc) drives the config
 * file parser (`key = value` lines), `--set key=value`, `--help-config`, docs/CONFIG.md and a
 * test that every default is valid. A struct conf is read-only once the server starts; modules
 * receive plain values from main.c, never the struct.
 */
#ifndef CORE_CONF_H
#define CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/compiler.h"

struct conf {
    char *listen;
    char *data_dir;
    char *database_url; /* "" for SQLite in data_dir */
    char *web_root;
    char *public_url; /* "" when not set */
    char *log_level;
    char *frame_ancestors;
    char *trusted_proxies;  /* "auto", "none" or address ranges */
    char *forwarded_header; /* "x-forwarded-for" or "forwarded" */
    long workers;
    bool access_log;
    long max_header_bytes;
    long max_body_bytes;
    long header_timeout_ms;
    long body_timeout_ms;
    long idle_timeout_ms;
    long send_timeout_ms;
    long max_connections;
    long max_connections_per_ip;
    long shutdown_timeout_ms;
    long static_max_age_s;
    long store_batch_max;
    long store_queue_max;
    long stream_queue_bytes;
    long stream_heartbeat_s;
    long stream_max_channels;
    long stream_replay_max;
    long ws_max_message_bytes;
    long follower_signups_per_ip;
    long reactions_per_minute;
    long reactions_per_ip_per_minute;
    long reports_per_follower_per_hour;
    long reports_per_ip_per_hour;
    long media_image_max_bytes;
    long media_voice_max_bytes;
    long media_document_max_bytes;
    long media_max_pixels;
    long media_workers;
    bool media_keep_originals;
    char *media_dir; /* "" : data_dir/media */
    long cluster_lease_s;
    long alert_source_stale_hours;
    long alert_source_timeout_s;
    long alert_source_max_bytes;
    bool alert_source_schedule;
    char *push_contact;
    char *push_allow_hosts;
    char *push_ca_file;
    long push_subscriptions_per_follower;
    long push_ttl_s;
    long push_alert_ttl_s;
    long push_timeout_ms;
    long push_origin_concurrency;
    long push_inflight_max;
    long push_max_tries;
    long push_retry_base_ms;
    long push_lease_s;
    char *smtp_url;
    char *smtp_user;
    char *smtp_password;
    char *mail_from;
    long smtp_timeout_s;
    char *map_tile_url; /* "" : no map */
    char *map_attribution;
    long map_max_zoom;
    long map_tile_cache_mb;
    long map_tile_min_fresh_s;
    long map_tile_misses_per_ip_per_minute;
    long map_tile_fetchers;
    long map_tile_timeout_s;
    long map_tile_max_kb;
};

enum conf_type { CONF_STR, CONF_LONG, CONF_BOOL, CONF_ENUM };

struct conf_def {
    const char *name;
    enum conf_type type;
    size_t offset;       /* of the field in struct conf */
    const char *defval;  /* default, as it would be written in a config file */
    long min, max;       /* CONF_LONG only */
    const char *choices; /* CONF_ENUM only: "a|b|c" */
    const char *doc;     /* one sentence for --help-config and docs/CONFIG.md */
};

/* Fill `c` with the defaults. Cannot fail (a unit test checks every default is valid). */
void conf_init(struct conf *c);
void conf_release(struct conf *c);
/*
 * Set one setting from text. Returns 0, -ENOENT for an unknown name or -EINVAL for a bad
 * value; on error `c` is unchanged and `err` holds one line naming the setting.
 */
MUST_CHECK int conf_set(struct conf *c, const char *name, const char *value, char *err,
                        size_t errlen);
/* Apply "name=value" (the --set form). Same returns as conf_set. */
MUST_CHECK int conf_set_pair(struct conf *c, const char *pair, char *err, size_t errlen);
/*
 * Apply a config file's text: `key = value` lines, `#` comments, blank lines. Stops at the first
 * bad line and names it ("FILE:LINE: ...") in `err`. `origin` names the text in messages.
 */
MUST_CHECK int conf_parse(struct conf *c, const char *text, size_t len, const char *origin,
                          char *err, size_t errlen);
/* Read and apply a config file. Returns 0 or a negative errno, with `err` filled. */
MUST_CHECK int conf_load_file(struct conf *c, const char *path, char *err, size_t errlen);

size_t conf_def_count(void);
const struct conf_def *conf_def_at(size_t i);
/* Print every setting with its default, range and doc, for --help-config. */
void conf_print_help(FILE *f);
/* Print docs/CONFIG.md's table of settings. */
void conf_print_markdown(FILE *f);

#endif
