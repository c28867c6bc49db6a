/* Topology file reader: arbitrary topologies as a line-based text file.
 *
 *   # comment: from '#' to the end of the line; blank lines are ignored
 *   switch NAME ports N [tier T]
 *   server NAME [gpus G] [nics M] [nic_rate RATE] [gpu_nic I,I,...]
 *   defaults [rate RATE] [delay TIME | length LENGTH]
 *   link A B [rate RATE] [delay TIME | length LENGTH] [count N]
 *
 * Fields are separated by spaces or tabs; options are "key value" pairs in any order, each at
 * most once. Names are 1-31 characters from A-Z a-z 0-9 _ - . : / and share one namespace.
 * `server NAME` adds the server's NICs as hosts named NAMEn0, NAMEn1, ... (the builders' naming,
 * "s3n1"); link endpoints are switch or NIC names. Each `link` takes the first free port on
 * each side, so port numbers follow the order of link lines; `count N` adds N parallel links.
 * All servers are alike (same gpus, nics, gpu_nic); gpus/nics/gpu_nic/nic_rate default to the
 * ifb_server_spec passed in (gpu_nic then to GPU g -> NIC g*nics/gpus).
 * Link defaults: a link touching a NIC runs at that server's nic_rate with the spec's host
 * delay; a switch-to-switch link takes rate and delay from the latest `defaults` line and is an
 * error without one. `length` is cable length converted at 5 ns per metre (light in fibre).
 * Switch tier, when not given, is inferred: hop distance to the nearest host minus one (leaf 0,
 * spine 1, core 2). Units: rates bps Kbps Mbps Gbps Tbps (also b/s forms, bare K M G T, byte
 * rates Bps KB/s..), times ps ns us ms s, lengths mm cm m km; a unit is required, except that a
 * bare 0 is accepted for times and lengths.
 * Every error is "FILE:LINE: KEY: expected ..., found ...". Full description with an example:
 * docs/topology-file.md. Left out: explicit port numbers, per-server NVLink settings,
 * heterogeneous servers, include files. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/alloc.h"
#include "topo/topo.h"

#define MAX_TOKENS 64
#define MAX_PORTS 65535
#define MAX_NICS 64
#define MAX_GPUS 1024
#define MAX_COUNT 4096
#define MAX_HOSTS (1 << 22)
#define PS_PER_MM 5 /* 5 ns per metre */

/* ---- units ------------------------------------------------------------------------------ */

typedef struct unit {
    const char *name;
    int pow10; /* value = number * 10^pow10 * mul in the base unit */
    uint64_t mul;
} unit;

static const unit rate_units[] = {
    {"bps", 0, 1},   {"b/s", 0, 1},   {"Kbps", 3, 1},  {"kbps", 3, 1},  {"Kb/s", 3, 1},
    {"kb/s", 3, 1},  {"Mbps", 6, 1},  {"Mb/s", 6, 1},  {"Gbps", 9, 1},  {"Gb/s", 9, 1},
    {"Tbps", 12, 1}, {"Tb/s", 12, 1}, {"K", 3, 1},     {"k", 3, 1},     {"M", 6, 1},
    {"G", 9, 1},     {"T", 12, 1},    {"Bps", 0, 8},   {"B/s", 0, 8},   {"KBps", 3, 8},
    {"kBps", 3, 8},  {"KB/s", 3, 8},  {"kB/s", 3, 8},  {"MBps", 6, 8},  {"MB/s", 6, 8},
    {"GBps", 9, 8},  {"GB/s", 9, 8},  {"TBps", 12, 8}, {"TB/s", 12, 8}, {NULL, 0, 0},
};
static const unit time_units[] = {
    {"ps", 0, 1},        {"ns", 3, 1}, {"us", 6, 1}, {"\xc2\xb5s", 6, 1},
    {"\xce\xbcs", 6, 1}, {"ms", 9, 1}, {"s", 12, 1}, {NULL, 0, 0},
};
static const unit length_units[] = {
    {"mm", 0, 1}, {"cm", 1, 1}, {"m", 3, 1}, {"km", 6, 1}, {NULL, 0, 0},
};

static int mul_ovf(uint64_t a, uint64_t b, uint64_t *r)
{
    if (a != 0 && b > UINT64_MAX / a)
        return -1;
    *r = a * b;
    return 0;
}

/* Exact decimal with unit: digits[.digits][e[+-]digits] then a unit from the table. The result
 * must be a whole number of the base unit and fit in 64 bits. bare_zero accepts "0". */
static int parse_unit(const char *s, const unit *units, int bare_zero, uint64_t *out)
{
    uint64_t m = 0;
    int exp10 = 0, digits = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (m > (UINT64_MAX - 9) / 10)
            return -1;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (m > (UINT64_MAX - 9) / 10)
                return -1;
            m = m * 10 + (uint64_t)(*p - '0');
            exp10--;
        }
    }
    if (digits == 0)
        return -1;
    if ((*p == 'e' || *p == 'E') && (p[1] == '-' || p[1] == '+' || (p[1] >= '0' && p[1] <= '9'))) {
        const char *q = p + 1;
        int neg = *q == '-';
        if (*q == '-' || *q == '+')
            q++;
        if (*q >= '0' && *q <= '9') {
            int x = 0;
            for (; *q >= '0' && *q <= '9'; q++)
                if (x < 1000)
                    x = x * 10 + (*q - '0');
            exp10 += neg ? -x : x;
            p = q;
        }
    }
    if (*p == '\0') {
        if (bare_zero && m == 0) {
            *out = 0;
            return 0;
        }
        return -1;
    }
    const unit *u = units;
    while (u->name && strcmp(u->name, p) != 0)
        u++;
    if (!u->name)
        return -1;
    int x = exp10 + u->pow10;
    uint64_t v = m;
    if (mul_ovf(v, u->mul, &v))
        return -1;
    for (; x > 0; x--)
        if (mul_ovf(v, 10, &v))
            return -1;
    for (; x < 0; x++) {
        if (v % 10 != 0)
            return -1;
        v /= 10;
    }
    *out = v;
    return 0;
}

/* ---- loader state ----------------------------------------------------------------------- */

typedef struct srv_info {
    char name[32];
    int line;
    uint64_t nic_bps;
    int first_node;
} srv_info;

typedef struct name_slot {
    uint64_t h;
    int v; /* INT_MIN: empty */
} name_slot;

typedef struct loader {
    const char *path;
    int line;
    ifb_topo *t;
    const ifb_server_spec *s;
    ifb_err *e;
    /* name -> value: node id >= 0, or -(server + 2) */
    name_slot *slot;
    size_t cap, used;
    int *node_line;   /* per node: defining line */
    char *tier_given; /* per node */
    int nodes_cap;
    srv_info *srv;
    int nsrv, srv_cap;
    int gpus, nics, layout_line;
    int *gpu_nic;
    int have_rate, have_delay;
    uint64_t def_rate;
    ifb_time def_delay;
} loader;

static const char *value_name(const loader *L, int v)
{
    return v >= 0 ? L->t->nodes[v].name : L->srv[-v - 2].name;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    /* FNV's low bits (the table index) only see the low bits of each character: names like
     * s1234n0 then fall into long probe runs (a million of them took 1.5 s of lookups);
     * the murmur finalizer spreads the high bits down */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Value for name, or INT_MIN if unknown. A slot keeps its name's hash beside the value, so a
 * probe compares names (a cache miss into the node table each) only when the hashes agree,
 * and growing the table rehashes no name. */
static int map_find(const loader *L, const char *name)
{
    if (!L->cap)
        return INT_MIN;
    uint64_t h = hash_str(name);
    for (size_t i = h & (L->cap - 1); L->slot[i].v != INT_MIN; i = (i + 1) & (L->cap - 1))
        if (L->slot[i].h == h && strcmp(value_name(L, L->slot[i].v), name) == 0)
            return L->slot[i].v;
    return INT_MIN;
}

static void slot_put(name_slot *slot, size_t cap, name_slot x)
{
    size_t i = x.h & (cap - 1);
    while (slot[i].v != INT_MIN)
        i = (i + 1) & (cap - 1);
    slot[i] = x;
}

static void map_put(loader *L, const char *name, int v)
{
    if ((L->used + 1) * 2 > L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        name_slot *slot = ifb_xcalloc(cap, sizeof *slot, "the topology's name table");
        for (size_t i = 0; i < cap; i++)
            slot[i].v = INT_MIN;
        for (size_t j = 0; j < L->cap; j++)
            if (L->slot[j].v != INT_MIN)
                slot_put(slot, cap, L->slot[j]);
        free(L->slot);
        L->slot = slot;
        L->cap = cap;
    }
    slot_put(L->slot, L->cap, (name_slot){hash_str(name), v});
    L->used++;
}

static int fail(loader *L, const char *key, const char *expected, const char *found_fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(loader *L, const char *key, const char *expected, const char *found_fmt, ...)
{
    char found[512];
    va_list ap;
    va_start(ap, found_fmt);
    vsnprintf(found, sizeof found, found_fmt, ap);
    va_end(ap);
    return ifb_err_set(L->e, L->path, L->line, key, expected, "%s", found);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':' || c == '/'))
            return 0;
    }
    return 1;
}

/* Checks that `name` is a valid, unused name for a `dir` line. */
static int check_new_name(loader *L, const char *dir, const char *name)
{
    if (!valid_name(name))
        return fail(L, dir, "a name of 1 to 31 characters from A-Z a-z 0-9 _ - . : /", "'%s'",
                    name);
    int v = map_find(L, name);
    if (v != INT_MIN)
        return fail(L, dir, "a new name", "'%s' (already defined at line %d)", name,
                    v >= 0 ? L->node_line[v] : L->srv[-v - 2].line);
    return 0;
}

/* Adds a node, recording where it was defined. */
static int add_node(loader *L, ifb_node_kind kind, const char *name, int nports, int tier,
                    int tier_given)
{
    ifb_topo *t = L->t;
    if (t->nnodes == L->nodes_cap) {
        int cap = L->nodes_cap ? L->nodes_cap * 2 : 64;
        L->node_line = ifb_xrealloc(L->node_line, (size_t)cap, sizeof *L->node_line,
                                    "the topology's node lines");
        L->tier_given = ifb_xrealloc(L->tier_given, (size_t)cap, 1, "the topology's node tiers");
        L->nodes_cap = cap;
    }
    /* the name is checked and the ports are at most MAX_PORTS: only the total can be refused */
    int id = ifb_topo_add_node(t, kind, name, nports, tier);
    if (id < 0)
        return fail(L, NULL, "at most 2147483647 ports in all", "%d more for '%s'", nports, name);
    L->node_line[id] = L->line;
    L->tier_given[id] = (char)tier_given;
    map_put(L, name, id);
    return id;
}

/* ---- options ------------------------------------------------------------------------------ */

/* Parses "key value" pairs tok[start..n) into vals[] (NULL when absent) for the given keys. */
static int parse_opts(loader *L, const char *dir, char **tok, int n, int start,
                      const char *const *keys, const char **vals, const char *key_list)
{
    int nkeys = 0;
    while (keys[nkeys])
        vals[nkeys++] = NULL;
    for (int i = start; i < n; i += 2) {
        int k = 0;
        while (k < nkeys && strcmp(keys[k], tok[i]) != 0)
            k++;
        if (k == nkeys)
            return fail(L, dir, key_list, "'%s'", tok[i]);
        if (vals[k])
            return fail(L, dir, "each option at most once", "'%s' twice", tok[i]);
        if (i + 1 >= n)
            return fail(L, dir, "a value after the option name", "'%s' with nothing after it",
                        tok[i]);
        vals[k] = tok[i + 1];
    }
    return 0;
}

static int opt_int(loader *L, const char *key, const char *v, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || x < min || x > max) {
        char exp[80];
        snprintf(exp, sizeof exp, "a whole number from %ld to %ld", min, max);
        return fail(L, key, exp, "'%s'", v);
    }
    *out = (int)x;
    return 0;
}

static int opt_rate(loader *L, const char *key, const char *v, uint64_t *out)
{
    if (parse_unit(v, rate_units, 0, out) || *out == 0)
        return fail(L, key, "a rate above 0 with a unit, like 400Gbps", "'%s'", v);
    return 0;
}

/* delay or length (mutually exclusive); *given = 0 when neither is present. */
static int opt_delay(loader *L, const char *dir, const char *delay, const char *length,
                     ifb_time *out, int *given)
{
    char key[40];
    *given = 0;
    if (delay && length)
        return fail(L, dir, "either 'delay' or 'length'", "both");
    if (delay) {
        snprintf(key, sizeof key, "%s delay", dir);
        if (parse_unit(delay, time_units, 1, out))
            return fail(L, key, "a time with a unit, like 500ns", "'%s'", delay);
        if (*out > IFB_TIME_CFG_MAX) /* times are bounded so that their sums cannot overflow */
            return fail(L, key, "a time of at most 3600s", "'%s'", delay);
        *given = 1;
    } else if (length) {
        snprintf(key, sizeof key, "%s length", dir);
        uint64_t mm;
        if (parse_unit(length, length_units, 1, &mm) || mm > UINT64_MAX / PS_PER_MM)
            return fail(L, key, "a length with a unit, like 5m", "'%s'", length);
        if (mm > IFB_TIME_CFG_MAX / PS_PER_MM)
            return fail(L, key, "a length of at most 720000000km (1 h of delay)", "'%s'", length);
        *out = mm * PS_PER_MM;
        *given = 1;
    }
    return 0;
}

/* ---- directives --------------------------------------------------------------------------- */

static int do_switch(loader *L, char **tok, int n)
{
    if (n < 2)
        return fail(L, "switch", "a switch name", "nothing");
    if (check_new_name(L, "switch", tok[1]))
        return -1;
    static const char *const keys[] = {"ports", "tier", NULL};
    const char *v[2];
    if (parse_opts(L, "switch", tok, n, 2, keys, v, "one of the options ports, tier"))
        return -1;
    if (!v[0])
        return fail(L, "switch", "'ports N'", "nothing");
    int ports = 0, tier = 0;
    if (opt_int(L, "switch ports", v[0], 1, MAX_PORTS, &ports))
        return -1;
    if (v[1] && opt_int(L, "switch tier", v[1], 0, 15, &tier))
        return -1;
    return add_node(L, IFB_NODE_SWITCH, tok[1], ports, tier, v[1] != NULL) < 0 ? -1 : 0;
}

static int parse_gpu_nic(loader *L, const char *list, int gpus, int nics, int *out)
{
    const char *p = list;
    int g = 0;
    char exp[128];
    snprintf(exp, sizeof exp, "%d comma-separated NIC numbers from 0 to %d (one per GPU)", gpus,
             nics - 1);
    for (;;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || *p == '-' || *p == '+' || x < 0 || x >= nics || g >= gpus ||
            (*end != ',' && *end != '\0'))
            return fail(L, "server gpu_nic", exp, "'%s'", list);
        out[g++] = (int)x;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    if (g != gpus)
        return fail(L, "server gpu_nic", exp, "'%s' (%d numbers)", list, g);
    return 0;
}

static int do_server(loader *L, char **tok, int n)
{
    if (n < 2)
        return fail(L, "server", "a server name", "nothing");
    const char *name = tok[1];
    if (check_new_name(L, "server", name))
        return -1;
    static const char *const keys[] = {"gpus", "nics", "nic_rate", "gpu_nic", NULL};
    const char *v[4];
    if (parse_opts(L, "server", tok, n, 2, keys, v,
                   "one of the options gpus, nics, nic_rate, gpu_nic"))
        return -1;
    const ifb_server_spec *s = L->s;
    int gpus = s ? s->gpus_per_server : 0, nics = s ? s->nics_per_server : 0;
    if (v[0] && opt_int(L, "server gpus", v[0], 1, MAX_GPUS, &gpus))
        return -1;
    if (v[1] && opt_int(L, "server nics", v[1], 1, MAX_NICS, &nics))
        return -1;
    if (gpus < 1 || gpus > MAX_GPUS)
        return fail(L, "server", "'gpus G' (no default number of GPUs per server)", "nothing");
    if (nics < 1 || nics > MAX_NICS)
        return fail(L, "server", "'nics M' (no default number of NICs per server)", "nothing");
    uint64_t bps = s ? s->nic_bps : 0;
    if (v[2] && opt_rate(L, "server nic_rate", v[2], &bps))
        return -1;
    int map[MAX_GPUS];
    if (v[3] && parse_gpu_nic(L, v[3], gpus, nics, map))
        return -1;
    if (L->nsrv == 0) {
        L->gpus = gpus;
        L->nics = nics;
        L->layout_line = L->line;
        L->gpu_nic = ifb_xcalloc((size_t)gpus, sizeof *L->gpu_nic, "the GPU-NIC map");
        int spec_map = s && s->gpu_nic && s->gpus_per_server == gpus && s->nics_per_server == nics;
        for (int g = 0; g < gpus; g++)
            L->gpu_nic[g] = v[3] ? map[g] : spec_map ? s->gpu_nic[g] : (int)((long)g * nics / gpus);
    } else {
        char exp[128];
        if (gpus != L->gpus) {
            snprintf(exp, sizeof exp, "%d GPUs like the first server (line %d): servers are alike",
                     L->gpus, L->layout_line);
            return fail(L, "server gpus", exp, "%d", gpus);
        }
        if (nics != L->nics) {
            snprintf(exp, sizeof exp, "%d NICs like the first server (line %d): servers are alike",
                     L->nics, L->layout_line);
            return fail(L, "server nics", exp, "%d", nics);
        }
        if (v[3] && memcmp(map, L->gpu_nic, (size_t)gpus * sizeof *map) != 0) {
            snprintf(exp, sizeof exp,
                     "the GPU->NIC mapping of the first server (line %d): servers are alike",
                     L->layout_line);
            return fail(L, "server gpu_nic", exp, "'%s'", v[3]);
        }
    }
    if ((long)(L->nsrv + 1) * nics > MAX_HOSTS)
        return fail(L, "server", "at most 4194304 NICs in all", "more");
    if (L->nsrv == L->srv_cap) {
        int cap = L->srv_cap ? L->srv_cap * 2 : 64;
        L->srv = ifb_xrealloc(L->srv, (size_t)cap, sizeof *L->srv, "the topology's servers");
        L->srv_cap = cap;
    }
    /* Check every NIC name before adding anything, so a clash names the NIC. */
    for (int i = 0; i < nics; i++) {
        char nic[48];
        snprintf(nic, sizeof nic, "%sn%d", name, i);
        if (strlen(nic) > 31)
            return fail(L, "server",
                        "a name short enough for its NIC names (at most 31 "
                        "characters)",
                        "'%s' (NIC %d would be '%s')", name, i, nic);
        int c = map_find(L, nic);
        if (c != INT_MIN)
            return fail(L, "server", "NIC names not used by another node",
                        "'%s' (NIC %d is '%s', already defined at line %d)", name, i, nic,
                        c >= 0 ? L->node_line[c] : L->srv[-c - 2].line);
    }
    int si = L->nsrv++;
    srv_info *sv = &L->srv[si];
    snprintf(sv->name, sizeof sv->name, "%s", name);
    sv->line = L->line;
    sv->nic_bps = bps;
    sv->first_node = L->t->nnodes;
    map_put(L, name, -(si + 2));
    for (int i = 0; i < nics; i++) {
        char nic[48];
        snprintf(nic, sizeof nic, "%sn%d", name, i);
        int id = add_node(L, IFB_NODE_HOST, nic, 1, -1, 0);
        if (id < 0)
            return -1;
        L->t->nodes[id].server = si;
    }
    return 0;
}

static int do_defaults(loader *L, char **tok, int n)
{
    static const char *const keys[] = {"rate", "delay", "length", NULL};
    const char *v[3];
    if (parse_opts(L, "defaults", tok, n, 1, keys, v, "one of the options rate, delay, length"))
        return -1;
    if (v[0]) {
        if (opt_rate(L, "defaults rate", v[0], &L->def_rate))
            return -1;
        L->have_rate = 1;
    }
    int given;
    ifb_time d;
    if (opt_delay(L, "defaults", v[1], v[2], &d, &given))
        return -1;
    if (given) {
        L->def_delay = d;
        L->have_delay = 1;
    }
    return 0;
}

/* Node id for a link endpoint name. */
static int endpoint(loader *L, const char *name)
{
    int v = map_find(L, name);
    if (v == INT_MIN)
        return fail(L, "link", "a node name", "'%s' (no such node)", name);
    if (v < 0)
        return fail(L, "link", "a node name", "'%s' (a server: name one of its NICs, %sn0..%sn%d)",
                    name, name, name, L->nics - 1);
    return v;
}

static int do_link(loader *L, char **tok, int n)
{
    if (n < 3)
        return n < 2 ? fail(L, "link", "two node names", "nothing")
                     : fail(L, "link", "two node names", "only '%s'", tok[1]);
    int a = endpoint(L, tok[1]);
    if (a < 0)
        return -1;
    int b = endpoint(L, tok[2]);
    if (b < 0)
        return -1;
    if (a == b)
        return fail(L, "link", "two different nodes", "'%s' twice", tok[1]);
    static const char *const keys[] = {"rate", "delay", "length", "count", NULL};
    const char *v[4];
    if (parse_opts(L, "link", tok, n, 3, keys, v, "one of the options rate, delay, length, count"))
        return -1;
    const ifb_topo_node *na = &L->t->nodes[a], *nb = &L->t->nodes[b];
    int nic_a = na->kind == IFB_NODE_HOST, nic_b = nb->kind == IFB_NODE_HOST;
    uint64_t rate = 0;
    if (v[0]) {
        if (opt_rate(L, "link rate", v[0], &rate))
            return -1;
    } else if (nic_a || nic_b) {
        uint64_t ra = nic_a ? L->srv[na->server].nic_bps : UINT64_MAX;
        uint64_t rb = nic_b ? L->srv[nb->server].nic_bps : UINT64_MAX;
        rate = ra < rb ? ra : rb;
        if (rate == 0)
            return fail(L, "link", "'rate RATE' (or nic_rate on the server line)", "nothing");
    } else if (L->have_rate) {
        rate = L->def_rate;
    } else {
        return fail(L, "link",
                    "'rate RATE' (or an earlier 'defaults rate RATE') for a "
                    "switch-to-switch link",
                    "nothing");
    }
    ifb_time delay = 0;
    int given;
    if (opt_delay(L, "link", v[1], v[2], &delay, &given))
        return -1;
    if (!given) {
        if (nic_a || nic_b)
            delay = L->s ? L->s->host_delay : 0;
        else if (L->have_delay)
            delay = L->def_delay;
        else
            return fail(L, "link",
                        "'delay TIME' or 'length LENGTH' (or an earlier 'defaults delay TIME') "
                        "for a switch-to-switch link",
                        "nothing");
    }
    int count = 1;
    if (v[3] && opt_int(L, "link count", v[3], 1, MAX_COUNT, &count))
        return -1;
    for (int i = 0; i < count; i++) {
        ifb_err sub;
        if (ifb_topo_connect(L->t, a, b, rate, delay, &sub) < 0)
            return fail(L, "link", "a free port on both nodes", "%s", sub.msg);
    }
    return 0;
}

/* Splits a line into blank-separated fields, dropping a '#' comment. Returns the field count, or
 * -1 if there are more than max. */
static int split(char *s, char **tok, int max)
{
    char *hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
            s++;
        if (!*s)
            return n;
        if (n == max)
            return -1;
        tok[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\v' &&
               *s != '\f')
            s++;
        if (*s)
            *s++ = '\0';
    }
}

/* Switch tiers not given in the file: hops to the nearest host minus one (hosts do not
 * forward); switches no host reaches get 0 (routing reports them). */
static int infer_tiers(loader *L)
{
    ifb_topo *t = L->t;
    int *dist = ifb_xcalloc((size_t)t->nnodes + 1, sizeof *dist, "tier inference");
    int *q = ifb_xcalloc((size_t)t->nnodes + 1, sizeof *q, "tier inference");
    int qh = 0, qt = 0;
    for (int i = 0; i < t->nnodes; i++) {
        dist[i] = t->nodes[i].kind == IFB_NODE_HOST ? 0 : -1;
        if (dist[i] == 0)
            q[qt++] = i;
    }
    while (qh < qt) {
        int u = q[qh++];
        const ifb_topo_node *n = &t->nodes[u];
        for (int i = 0; i < n->nports; i++) {
            int v = t->ports[n->first_port + i].peer_node;
            if (v >= 0 && dist[v] < 0) {
                dist[v] = dist[u] + 1;
                q[qt++] = v;
            }
        }
    }
    for (int i = 0; i < t->nnodes; i++)
        if (t->nodes[i].kind == IFB_NODE_SWITCH && !L->tier_given[i])
            t->nodes[i].tier = dist[i] > 0 ? dist[i] - 1 : 0;
    free(dist);
    free(q);
    return 0;
}

static int finish(loader *L)
{
    ifb_topo *t = L->t;
    L->line = 0;
    if (L->nsrv == 0)
        return fail(L, NULL, "at least one 'server' line", "none");
    for (int i = 0; i < t->nhosts; i++) {
        int id = t->host_node[i];
        if (t->ports[t->nodes[id].first_port].link < 0) {
            L->line = L->node_line[id];
            return fail(L, "server", "a link for every NIC", "none for NIC '%s'",
                        t->nodes[id].name);
        }
    }
    t->nservers = L->nsrv;
    t->gpus_per_server = L->gpus;
    t->nics_per_server = L->nics;
    t->server_host = ifb_xcalloc((size_t)t->nhosts, sizeof *t->server_host, "the servers' NICs");
    for (int si = 0; si < L->nsrv; si++)
        for (int i = 0; i < L->nics; i++)
            t->server_host[si * L->nics + i] = t->nodes[L->srv[si].first_node + i].host;
    t->gpu_nic = L->gpu_nic;
    L->gpu_nic = NULL;
    t->nvlink_bps = L->s ? L->s->nvlink_bps : 0;
    t->nvlink_latency = L->s ? L->s->nvlink_latency : 0;
    return infer_tiers(L);
}

static int load_lines(loader *L, FILE *f)
{
    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t len;
    int rc = 0;
    long size = -1;
    if (L->t->progress && fseek(f, 0, SEEK_END) == 0) {
        size = ftell(f);
        rewind(f);
    }
    uint64_t bytes = 0;
    char what[300];
    snprintf(what, sizeof what, "reading %s", L->path);
    while (rc == 0 && (len = getline(&buf, &bufcap, f)) >= 0) {
        L->line++;
        bytes += (uint64_t)len;
        if (L->t->progress && !(L->line & 0xffff))
            L->t->progress(L->t->progress_ctx, what, bytes, size > 0 ? (uint64_t)size : 0);
        if ((size_t)len != strlen(buf)) {
            rc = fail(L, NULL, "text", "a NUL byte");
            break;
        }
        char *tok[MAX_TOKENS];
        int n = split(buf, tok, MAX_TOKENS);
        if (n < 0)
            rc = fail(L, NULL, "at most 64 fields on a line", "more");
        else if (n == 0)
            continue;
        else if (strcmp(tok[0], "switch") == 0)
            rc = do_switch(L, tok, n);
        else if (strcmp(tok[0], "server") == 0)
            rc = do_server(L, tok, n);
        else if (strcmp(tok[0], "link") == 0)
            rc = do_link(L, tok, n);
        else if (strcmp(tok[0], "defaults") == 0)
            rc = do_defaults(L, tok, n);
        else
            rc = fail(L, NULL, "a line starting with switch, server, link or defaults", "'%s'",
                      tok[0]);
    }
    if (rc == 0 && ferror(f))
        rc = fail(L, NULL, "a readable file", "%s", strerror(errno));
    else if (rc == 0 && !feof(f)) /* getline could not grow its buffer (ENOMEM) */
        ifb_oom(bufcap, 2, "a topology file line");
    free(buf);
    return rc;
}

int ifb_topo_load(ifb_topo *t, const char *path, const ifb_server_spec *s, ifb_err *e)
{
    if (t->nnodes != 0)
        return ifb_err_set(e, path, 0, NULL, "an empty topology to load into", "%d nodes",
                           t->nnodes);
    FILE *f = fopen(path, "r");
    if (!f)
        return ifb_err_set(e, path, 0, NULL, "a readable topology file", "%s", strerror(errno));
    loader L = {.path = path, .t = t, .s = s, .e = e};
    int rc = load_lines(&L, f);
    fclose(f);
    if (rc == 0)
        rc = finish(&L);
    free(L.slot);
    free(L.node_line);
    free(L.tier_given);
    free(L.srv);
    free(L.gpu_nic);
    return rc;
}
