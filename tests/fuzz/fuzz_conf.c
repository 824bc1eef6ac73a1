/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Config file text: any bytes must give 0 or a clean error, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    char err[512];

    conf_init(&c);
    if (conf_parse(&c, (const char *)data, size, "fuzz", err, sizeof(err)) < 0) {
        /* a refused input is an expected outcome: the target looks for crashes */
    }
    conf_release(&c);
    return 0;
}
