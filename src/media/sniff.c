/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Type sniffing by magic bytes. Each check reads only inside [p, p + len) and wants enough
 * bytes to be sure: a prefix that merely could be the start of a JPEG is not a JPEG.
 */
#include "media/sniff.h"

#include <stdint.h>
#include <string.h>

static int starts(const uint8_t *p, size_t len, size_t at, const char *magic, size_t n)
{
    return len >= at + n && !memcmp(p + at, magic, n);
}

/*
 * ISO BMFF (HEIC, M4A): a first box "ftyp" whose major brand or one of its compatible brands
 * names the format. The box size bounds the brand list (ISO/IEC 14496-12 §4.3).
 */
static enum media_type sniff_ftyp(const uint8_t *p, size_t len)
{
    static const char *const heic[] = { "heic", "heix", "heim", "heis", "mif1", "msf1" };
    static const char *const m4a[] = { "M4A ", "M4B " };
    uint32_t box;
    size_t end;

    if (!starts(p, len, 4, "ftyp", 4) || len < 16)
        return MEDIA_UNKNOWN;
    box = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (box < 16 || box > 4096)
        return MEDIA_UNKNOWN;
    end = box < len ? box : len;
    /* major brand at 8, minor version at 12, compatible brands from 16 */
    for (size_t at = 8; at + 4 <= end; at += at == 8 ? 8 : 4) {
        for (size_t i = 0; i < sizeof(heic) / sizeof(heic[0]); i++) {
            if (!memcmp(p + at, heic[i], 4))
                return MEDIA_HEIC;
        }
    }
    /*
     * M4A only by its own brands (major or compatible): a bare mp42/isom file may be a video,
     * which is not a voice note.
     */
    for (size_t at = 8; at + 4 <= end; at += at == 8 ? 8 : 4) {
        if (!memcmp(p + at, m4a[0], 4) || !memcmp(p + at, m4a[1], 4))
            return MEDIA_M4A;
    }
    return MEDIA_UNKNOWN;
}

enum media_type media_sniff(const void *data, size_t len)
{
    const uint8_t *p = data;

    if (!p || !len)
        return MEDIA_UNKNOWN;
    if (starts(p, len, 0, "\xFF\xD8\xFF", 3))
        return MEDIA_JPEG;
    if (starts(p, len, 0, "\x89PNG\r\n\x1A\n", 8))
        return MEDIA_PNG;
    if (starts(p, len, 0, "RIFF", 4) && starts(p, len, 8, "WEBPVP8", 7))
        return MEDIA_WEBP;
    /* Ogg page header, then the first packet of the first page is "OpusHead" (RFC 7845 §5.1).
     * 27 header bytes + the segment table, whose length is byte 26. */
    if (starts(p, len, 0, "OggS", 4) && len > 27 &&
        starts(p, len, 27 + (size_t)p[26], "OpusHead", 8))
        return MEDIA_OGG_OPUS;
    if (starts(p, len, 0, "%PDF-", 5))
        return MEDIA_PDF;
    return sniff_ftyp(p, len);
}

const char *media_type_mime(enum media_type t)
{
    switch (t) {
    case MEDIA_JPEG:
        return "image/jpeg";
    case MEDIA_PNG:
        return "image/png";
    case MEDIA_WEBP:
        return "image/webp";
    case MEDIA_HEIC:
        return "image/heic";
    case MEDIA_OGG_OPUS:
        return "audio/ogg";
    case MEDIA_M4A:
        return "audio/mp4";
    case MEDIA_PDF:
        return "application/pdf";
    default:
        return "application/octet-stream";
    }
}

const char *media_type_ext(enum media_type t)
{
    switch (t) {
    case MEDIA_JPEG:
        return "jpg";
    case MEDIA_PNG:
        return "png";
    case MEDIA_WEBP:
        return "webp";
    case MEDIA_HEIC:
        return "heic";
    case MEDIA_OGG_OPUS:
        return "ogg";
    case MEDIA_M4A:
        return "m4a";
    case MEDIA_PDF:
        return "pdf";
    default:
        return "bin";
    }
}

enum media_kind media_type_kind(enum media_type t)
{
    switch (t) {
    case MEDIA_JPEG:
    case MEDIA_PNG:
    case MEDIA_WEBP:
    case MEDIA_HEIC:
        return MEDIA_KIND_IMAGE;
    case MEDIA_OGG_OPUS:
    case MEDIA_M4A:
        return MEDIA_KIND_VOICE;
    case MEDIA_PDF:
        return MEDIA_KIND_DOCUMENT;
    default:
        return MEDIA_KIND_NONE;
    }
}

const char *media_kind_name(enum media_kind k)
{
    switch (k) {
    case MEDIA_KIND_IMAGE:
        return "image";
    case MEDIA_KIND_VOICE:
        return "voice";
    case MEDIA_KIND_DOCUMENT:
        return "document";
    default:
        return "";
    }
}
