/* Test helpers for the report renderers: a minimal XML well-formedness checker (balanced and
 * properly nested tags, quoted and unique attributes, known entities only, no raw '<' or '&'
 * in text, valid UTF-8 without control characters, exactly one root element), substring
 * counting and reading a file into memory. Header-only (static inline) so several test files
 * can share it without a library. Left out: DTDs, CDATA, namespaces, processing instructions
 * other than a leading <?xml ...?>. */
#ifndef IFB_TEST_XML_CHECK_H
#define IFB_TEST_XML_CHECK_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XMLC_MAX_DEPTH 64
#define XMLC_MAX_ATTRS 64

static inline bool xmlc_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static inline bool xmlc_name_char(char c)
{
    return xmlc_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static inline bool xmlc_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Checks an entity reference at s ('&'); returns its length or 0 when invalid. */
static inline size_t xmlc_entity(const char *s)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(s, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    if (s[1] == '#') {
        size_t i = 2;
        bool hex = s[2] == 'x';
        if (hex)
            i++;
        size_t start = i;
        while ((s[i] >= '0' && s[i] <= '9') ||
               (hex && ((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F'))))
            i++;
        if (i > start && s[i] == ';')
            return i + 1;
    }
    return 0;
}

/* Valid UTF-8 (no overlongs, surrogates or values above U+10FFFF) and no control characters
 * other than tab, LF, CR. Returns the offset of the first bad byte or -1. */
static inline long xmlc_bad_utf8(const char *doc)
{
    const unsigned char *s = (const unsigned char *)doc;
    size_t i = 0;
    while (s[i]) {
        unsigned char c = s[i];
        size_t n;
        unsigned v, min;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return (long)i;
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2, v = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, v = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, v = c & 0x07, min = 0x10000;
        } else {
            return (long)i;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
            v = (v << 6) | (s[i + k] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return (long)i;
        i += n;
    }
    return -1;
}

/* Returns NULL when doc is well-formed, else a message (static buffer in *msg). An HTML
 * "<!DOCTYPE html>" prologue is accepted. */
static inline const char *xml_check(const char *doc, char msg[256])
{
#define XMLC_FAIL(...)                                                                             \
    do {                                                                                           \
        snprintf(msg, 256, __VA_ARGS__);                                                           \
        return msg;                                                                                \
    } while (0)
    long bad = xmlc_bad_utf8(doc);
    if (bad >= 0)
        XMLC_FAIL("invalid UTF-8 or control character at offset %ld", bad);
    const char *p = doc;
    const char *stack[XMLC_MAX_DEPTH];
    size_t lens[XMLC_MAX_DEPTH];
    int depth = 0, roots = 0;
    if (strncmp(p, "<?xml", 5) == 0) {
        const char *e = strstr(p, "?>");
        if (!e)
            XMLC_FAIL("unterminated XML declaration");
        p = e + 2;
    }
    while (xmlc_space(*p))
        p++;
    if (strncmp(p, "<!DOCTYPE", 9) == 0) {
        const char *e = strchr(p, '>');
        if (!e)
            XMLC_FAIL("unterminated DOCTYPE");
        p = e + 1;
    }
    while (*p) {
        long off = (long)(p - doc);
        if (*p == '&') {
            size_t n = xmlc_entity(p);
            if (!n)
                XMLC_FAIL("bad entity at offset %ld: %.12s", off, p);
            if (depth == 0)
                XMLC_FAIL("text outside the root at offset %ld", off);
            p += n;
            continue;
        }
        if (*p == '>')
            XMLC_FAIL("raw '>' in text at offset %ld", off); /* legal XML, but we escape it */
        if (*p != '<') {
            if (depth == 0 && !xmlc_space(*p))
                XMLC_FAIL("text outside the root at offset %ld", off);
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e)
                XMLC_FAIL("unterminated comment at offset %ld", off);
            p = e + 3;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + (closing ? 2 : 1);
        if (!xmlc_name_start(*name))
            XMLC_FAIL("bad tag name at offset %ld: %.12s", off, p);
        const char *q = name;
        while (xmlc_name_char(*q))
            q++;
        size_t nlen = (size_t)(q - name);
        if (closing) {
            while (xmlc_space(*q))
                q++;
            if (*q != '>')
                XMLC_FAIL("bad end tag at offset %ld", off);
            if (depth == 0 || lens[depth - 1] != nlen || strncmp(stack[depth - 1], name, nlen))
                XMLC_FAIL("end tag </%.*s> at offset %ld does not match <%.*s>", (int)nlen, name,
                          off, depth ? (int)lens[depth - 1] : 0, depth ? stack[depth - 1] : "");
            depth--;
            p = q + 1;
            continue;
        }
        const char *anames[XMLC_MAX_ATTRS];
        size_t alens[XMLC_MAX_ATTRS];
        int nattr = 0;
        for (;;) {
            bool sp = xmlc_space(*q);
            while (xmlc_space(*q))
                q++;
            if (*q == '>' || (q[0] == '/' && q[1] == '>'))
                break;
            if (!sp || !xmlc_name_start(*q))
                XMLC_FAIL("bad attribute in <%.*s> at offset %ld", (int)nlen, name,
                          (long)(q - doc));
            const char *an = q;
            while (xmlc_name_char(*q))
                q++;
            size_t alen = (size_t)(q - an);
            for (int i = 0; i < nattr; i++)
                if (alens[i] == alen && strncmp(anames[i], an, alen) == 0)
                    XMLC_FAIL("duplicate attribute %.*s at offset %ld", (int)alen, an, off);
            if (nattr < XMLC_MAX_ATTRS) {
                anames[nattr] = an;
                alens[nattr++] = alen;
            }
            if (*q != '=' || (q[1] != '"' && q[1] != '\''))
                XMLC_FAIL("attribute %.*s without a quoted value at offset %ld", (int)alen, an,
                          off);
            char quote = q[1];
            q += 2;
            while (*q && *q != quote) {
                if (*q == '<')
                    XMLC_FAIL("'<' in attribute value at offset %ld", (long)(q - doc));
                if (*q == '&') {
                    size_t n = xmlc_entity(q);
                    if (!n)
                        XMLC_FAIL("bad entity in attribute at offset %ld", (long)(q - doc));
                    q += n;
                    continue;
                }
                q++;
            }
            if (!*q)
                XMLC_FAIL("unterminated attribute value at offset %ld", off);
            q++;
        }
        bool self_close = *q == '/';
        p = q + (self_close ? 2 : 1);
        if (depth == 0) {
            if (roots++)
                XMLC_FAIL("second root element <%.*s> at offset %ld", (int)nlen, name, off);
        }
        if (!self_close) {
            if (depth == XMLC_MAX_DEPTH)
                XMLC_FAIL("nesting too deep at offset %ld", off);
            stack[depth] = name;
            lens[depth++] = nlen;
        }
    }
    if (depth)
        XMLC_FAIL("<%.*s> is never closed", (int)lens[depth - 1], stack[depth - 1]);
    if (roots != 1)
        XMLC_FAIL("%d root elements", roots);
    return NULL;
#undef XMLC_FAIL
}

/* Non-overlapping occurrences of needle in hay. */
static inline size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* Case-insensitive variant, for "nan"/"inf" hunting. */
static inline size_t count_istr(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < len && p[i] && (p[i] | 0x20) == (needle[i] | 0x20)) /* ASCII letters only */
            i++;
        if (i == len)
            n++;
    }
    return n;
}

/* Reads a whole file into a NUL-terminated malloc'ed buffer (NULL on failure). */
static inline char *read_all(FILE *f, size_t *len_out)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return NULL;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        return NULL;
    char *buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    size_t got = fread(buf, 1, (size_t)len, f);
    buf[got] = '\0';
    if (len_out)
        *len_out = got;
    return buf;
}

#endif
