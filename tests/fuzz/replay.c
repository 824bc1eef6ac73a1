/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Replays corpus files through a fuzz target without libFuzzer, so `make check` (gcc, and the
 * sanitizer build) runs every committed input: each file named in argv is read whole and handed
 * to LLVMFuzzerTestOneInput. A crash or sanitizer report fails the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t *data = NULL;
        size_t len = 0;
        size_t cap = 0;
        size_t n;

        if (!f) {
            perror(argv[i]);
            return 1;
        }
        do {
            if (len == cap) {
                cap = cap ? cap * 2 : 4096;
                data = realloc(data, cap);
                if (!data)
                    abort();
            }
            n = fread(data + len, 1, cap - len, f);
            len += n;
        } while (n > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
    }
    return 0;
}
