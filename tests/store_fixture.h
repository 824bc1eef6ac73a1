/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A store with one Comune, an operator and one listed channel ("notizie"), in a fresh
 * directory: the starting point of the posts, polls and reactions unit tests.
 */
#ifndef TESTS_STORE_FIXTURE_H
#define TESTS_STORE_FIXTURE_H

#include <stdint.h>

#include "core/secret.h"
#include "store/store.h"

/* An argon2id-shaped hash: the store only keeps it, tests never sign in. */
#define FIXTURE_PW "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"

struct fixture {
    char dir[512];
    struct store *s;
    struct store_reader *r;
    int64_t user, org, channel;
};

/* Open a store under harness_tmpdir()/name with the org, operator and channel. 0 or -1. */
int fixture_setup(struct fixture *fx, const char *name);
/* Close it and reset the test clock. */
void fixture_teardown(struct fixture *fx);
/* A post in the channel by the operator, published at `publish_at_ms` (0: now). Id or 0. */
int64_t fixture_post(struct fixture *fx, const char *text, int64_t publish_at_ms);
/* Follower number `i` (token "follower_<i>", its hash in `h`) following the channel. 0 or -1. */
int fixture_follower(struct fixture *fx, int i, uint8_t h[SECRET_HASH_LEN]);

#endif
