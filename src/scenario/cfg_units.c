/* Configuration values with units (see cfg.h): rates, times, sizes and distances parsed with
 * exact integer arithmetic (128-bit products, no floating point), so 2.5us is exactly 2500000
 * ps on every machine. Left out: binary prefixes on rates, locale-specific number forms. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"
#include "scenario/cfg.h"
#include "scenario/cfg_int.h"

/* ---- Units ---------------------------------------------------------------------------------- */

typedef struct unitdef {
    const char *name;
    uint64_t factor; /* base units per unit; all below 2^46 so M * factor fits in 128 bits */
} unitdef;

static const unitdef time_units[] = {
    {"ps", 1},
    {"ns", 1000},
    {"us", 1000000},
    {"\xc2\xb5s", 1000000},
    {"\xce\xbcs", 1000000},
    {"ms", 1000000000},
    {"s", 1000000000000ull},
    {NULL, 0},
};
static const unitdef dist_units[] = {
    {"mm", 1}, {"cm", 10}, {"m", 1000}, {"km", 1000000}, {NULL, 0},
};
static const unitdef byte_units[] = {
    {"B", 1},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000000},
    {"GB", 1000000000},
    {"TB", 1000000000000ull},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
    {NULL, 0},
};

static bool find_unit(const unitdef *t, const char *u, uint64_t *f)
{
    for (; t->name; t++)
        if (!strcmp(t->name, u)) {
            *f = t->factor;
            return true;
        }
    return false;
}

/* Rates: decimal prefix + bits (bps, b/s, or the bare prefix) or bytes (Bps, B/s, x8);
 * binary prefixes only for byte rates (GiB/s). */
static bool rate_unit(const char *u, uint64_t *f)
{
    static const unitdef pre[] = {
        {"", 1},        {"k", 1000},       {"K", 1000},
        {"M", 1000000}, {"G", 1000000000}, {"T", 1000000000000ull},
        {NULL, 0},
    };
    static const unitdef bpre[] = {
        {"Ki", 1ull << 10}, {"Mi", 1ull << 20}, {"Gi", 1ull << 30}, {"Ti", 1ull << 40}, {NULL, 0},
    };
    for (const unitdef *p = pre; p->name; p++) {
        size_t pl = strlen(p->name);
        if (strncmp(u, p->name, pl))
            continue;
        const char *r = u + pl;
        if (!strcmp(r, "bps") || !strcmp(r, "b/s") || (pl && !*r)) {
            *f = p->factor;
            return true;
        }
        if (!strcmp(r, "Bps") || !strcmp(r, "B/s")) {
            *f = p->factor * 8;
            return true;
        }
    }
    for (const unitdef *p = bpre; p->name; p++)
        if (!strncmp(u, p->name, 2) && (!strcmp(u + 2, "Bps") || !strcmp(u + 2, "B/s"))) {
            *f = p->factor * 8;
            return true;
        }
    return false;
}

/* "<decimal>[e<exp>] <unit>" -> whole base units, computed exactly in integers. */
pres ifb_cfgi_parse_unit(const char *s, ukind kind, uint64_t *out, char *unit, size_t unitcap)
{
    unit[0] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return P_EMPTY;
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    unsigned __int128 m = 0; /* significant digits */
    int sig = 0, exp10 = 0, ndig = 0;
    bool dot = false;
    for (;; s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!isdigit((unsigned char)*s))
            break;
        ndig++;
        int d = *s - '0';
        if (sig < 20) {
            m = m * 10 + (unsigned)d;
            if (m)
                sig++;
            if (dot)
                exp10--;
        } else if (d != 0) {
            return P_DIGITS;
        } else if (!dot) {
            exp10++; /* trailing integer zero beyond 20 digits */
        }
    }
    if (!ndig)
        return P_NOTNUM;
    if ((*s == 'e' || *s == 'E') &&
        (isdigit((unsigned char)s[1]) ||
         ((s[1] == '-' || s[1] == '+') && isdigit((unsigned char)s[2])))) {
        s++;
        int es = 1;
        if (*s == '-' || *s == '+')
            es = *s++ == '-' ? -1 : 1;
        long ev = 0;
        while (isdigit((unsigned char)*s)) {
            if (ev < 100000)
                ev = ev * 10 + (*s - '0');
            s++;
        }
        exp10 += (int)(es * ev);
    }
    while (isspace((unsigned char)*s))
        s++;
    size_t ul = strlen(s);
    while (ul && isspace((unsigned char)s[ul - 1]))
        ul--;
    snprintf(unit, unitcap, "%.*s", (int)ul, s);
    if (!ul)
        return P_NOUNIT;
    uint64_t f = 0;
    bool ok = kind == U_RATE    ? rate_unit(unit, &f)
              : kind == U_TIME  ? find_unit(time_units, unit, &f)
              : kind == U_BYTES ? find_unit(byte_units, unit, &f)
                                : find_unit(dist_units, unit, &f);
    if (!ok)
        return P_BADUNIT;
    unsigned __int128 x = m * f;
    if (x == 0) {
        if (kind == U_RATE)
            return P_ZERO;
        *out = 0;
        return P_OK;
    }
    if (neg)
        return P_NEG;
    if (exp10 >= 0) {
        for (int i = 0; i < exp10; i++) {
            x *= 10;
            if (x > UINT64_MAX)
                return P_RANGE;
        }
    } else {
        if (exp10 < -38)
            return P_FRAC;
        unsigned __int128 d = 1;
        for (int i = 0; i < -exp10; i++)
            d *= 10;
        if (x % d)
            return P_FRAC;
        x /= d;
    }
    if (x > UINT64_MAX)
        return P_RANGE;
    *out = (uint64_t)x;
    return P_OK;
}

int ifb_parse_rate(const char *s, uint64_t *bps)
{
    char u[64];
    return ifb_cfgi_parse_unit(s, U_RATE, bps, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_time(const char *s, ifb_time *ps)
{
    char u[64];
    return ifb_cfgi_parse_unit(s, U_TIME, ps, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_bytes(const char *s, uint64_t *bytes)
{
    char u[64];
    return ifb_cfgi_parse_unit(s, U_BYTES, bytes, u, sizeof u) == P_OK ? 0 : -1;
}

int ifb_parse_distance(const char *s, uint64_t *mm)
{
    char u[64];
    return ifb_cfgi_parse_unit(s, U_DIST, mm, u, sizeof u) == P_OK ? 0 : -1;
}
