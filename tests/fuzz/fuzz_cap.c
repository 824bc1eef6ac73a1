/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * CAP documents from anyone who may import one (and, later, from polled feeds): the parser
 * must never crash, leak or load anything. A document that parses is encoded again, and what
 * that writes must parse too, with the same identity (identifier, sender, sent) and as many
 * <info> blocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/cap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cap_msg m, back;
    char why[300], where[128];
    size_t len;
    char *x;

    if (cap_parse((const char *)data, size, &m, why, sizeof(why), where, sizeof(where)))
        return 0;
    x = cap_encode(&m, &len);
    if (!x)
        abort();
    if (cap_parse(x, len, &back, why, sizeof(why), where, sizeof(where)) ||
        strcmp(m.identifier, back.identifier) != 0 || strcmp(m.sender, back.sender) != 0 ||
        strcmp(m.sent, back.sent) != 0 || m.n_info != back.n_info)
        abort(); /* what we write from what we read must read back the same */
    cap_msg_release(&back);
    free(x);
    cap_msg_release(&m);
    return 0;
}
