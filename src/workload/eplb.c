/* Expert placement with redundant slots and routing files (see eplb.h). */
#include "workload/eplb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int ifb_eplb_rank_slots(int slots, int ep, int r)
{
    return slots / ep + (r < slots % ep ? 1 : 0);
}

void ifb_eplb_free(ifb_eplb *p)
{
    if (!p)
        return;
    free(p->slot_expert);
    free(p->slot_rank);
    free(p->rep_off);
    free(p->rep);
    free(p->rank_load);
    memset(p, 0, sizeof *p);
}

int ifb_eplb_place(ifb_eplb *p, int experts, int redundant, int ep, ifb_placement kind,
                   const double *load, ifb_err *e)
{
    memset(p, 0, sizeof *p);
    int E = experts, S = experts + redundant;
    if (E < 1 || redundant < 0 || ep < 1 || S < ep)
        return ifb_err_set(e, NULL, 0, "ep", "at most the routed experts plus redundant slots",
                           "ep %d for %d experts + %d redundant", ep, E, redundant);
    p->experts = E;
    p->slots = S;
    p->ep = ep;
    p->slot_expert = ifb_xcalloc((size_t)S, sizeof(int), "the expert of each slot");
    p->slot_rank = ifb_xcalloc((size_t)S, sizeof(int), "the rank of each slot");
    p->rep_off = ifb_xcalloc((size_t)E + 1, sizeof(int), "expert replica offsets");
    p->rep = ifb_xcalloc((size_t)S, sizeof(int), "expert replicas");
    p->rank_load = ifb_xcalloc((size_t)ep, sizeof(double), "rank loads");
    double *w = ifb_xcalloc((size_t)E, sizeof(double), "expert weights");
    double tot = 0;
    for (int x = 0; x < E; x++) {
        w[x] = load ? (load[x] > 0 ? load[x] : 0) : 1;
        tot += w[x];
    }
    for (int x = 0; x < E; x++)
        w[x] = tot > 0 ? w[x] / tot : 1.0 / E;
    int *nrep = ifb_xcalloc((size_t)E, sizeof(int), "replica counts");
    int *first = ifb_xcalloc((size_t)ep + 1, sizeof(int),
                             "each rank's first slot"); /* first slot of each rank */
    for (int r = 0; r < ep; r++)
        first[r + 1] = first[r] + ifb_eplb_rank_slots(S, ep, r);
    if (kind != IFB_PLACE_LOAD) {
        for (int s = 0; s < S; s++) {
            p->slot_expert[s] = s % E;
            if (kind == IFB_PLACE_ROUND_ROBIN) {
                p->slot_rank[s] = s % ep;
            } else {
                int r = 0;
                while (s >= first[r + 1])
                    r++;
                p->slot_rank[s] = r;
            }
            nrep[s % E]++;
        }
    } else {
        for (int x = 0; x < E; x++)
            nrep[x] = 1;
        for (int k = 0; k < redundant; k++) { /* the highest load per replica gets one more */
            int best = 0;
            for (int x = 1; x < E; x++)
                if (w[x] / nrep[x] > w[best] / nrep[best])
                    best = x;
            nrep[best]++;
        }
        /* replicas, heaviest first (ties: lower expert) */
        int *item = ifb_xcalloc((size_t)S, sizeof(int), "the placement order");
        int ni = 0;
        for (int x = 0; x < E; x++)
            for (int k = 0; k < nrep[x]; k++)
                item[ni++] = x;
        for (int i = 1; i < ni; i++) { /* insertion sort: stable, S is small */
            int v = item[i], j = i;
            while (j > 0 && w[item[j - 1]] / nrep[item[j - 1]] < w[v] / nrep[v])
                item[j] = item[j - 1], j--;
            item[j] = v;
        }
        int *used = ifb_xcalloc((size_t)ep, sizeof(int), "slots used per rank");
        double *rl = ifb_xcalloc((size_t)ep, sizeof(double), "placement rank loads");
        unsigned char *has = ifb_xcalloc((size_t)ep * (size_t)E, 1, "experts held per rank");
        for (int i = 0; i < ni; i++) {
            int x = item[i], best = -1;
            for (int pass = 0; pass < 2 && best < 0; pass++)
                for (int r = 0; r < ep; r++) {
                    if (used[r] == first[r + 1] - first[r] || (!pass && has[(size_t)r * E + x]))
                        continue;
                    if (best < 0 || rl[r] < rl[best])
                        best = r;
                }
            int s = first[best] + used[best]++;
            p->slot_expert[s] = x;
            p->slot_rank[s] = best;
            has[(size_t)best * E + x] = 1;
            rl[best] += w[x] / nrep[x];
        }
        free(item);
        free(used);
        free(rl);
        free(has);
    }
    for (int x = 0; x < E; x++)
        p->rep_off[x + 1] = p->rep_off[x] + nrep[x];
    int *fill = ifb_xcalloc((size_t)E, sizeof(int), "replicas placed per expert");
    for (int s = 0; s < S; s++) {
        int x = p->slot_expert[s];
        p->rep[p->rep_off[x] + fill[x]++] = s;
        p->rank_load[p->slot_rank[s]] += w[x] / nrep[x];
        if (nrep[x] > p->max_replicas)
            p->max_replicas = nrep[x];
    }
    int *cnt = ifb_xcalloc((size_t)ep, sizeof(int), "slots per rank");
    for (int s = 0; s < S; s++)
        if (++cnt[p->slot_rank[s]] > p->max_slots)
            p->max_slots = cnt[p->slot_rank[s]];
    free(cnt);
    free(fill);
    free(first);
    free(nrep);
    free(w);
    return 0;
}

void ifb_routing_file_free(ifb_routing_file *r)
{
    if (!r)
        return;
    free(r->load);
    r->load = NULL;
    r->layers = 0;
}

int ifb_routing_file_load(ifb_routing_file *r, const char *path, int experts, int layers_min,
                          int layers_max, ifb_err *e)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ifb_err_msg(e, "cannot open routing file %s: %s", path, strerror(errno));
    r->experts = experts;
    r->load = ifb_xcalloc((size_t)layers_max * (size_t)experts, sizeof(double),
                          "the routing file's loads");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = -1;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            s++;
        if (!*s)
            continue;
        char *end;
        errno = 0;
        long l = strtol(s, &end, 10);
        if (end == s || *end != ':' || errno) {
            ifb_err_set(e, path, lineno, "layer", "'L: c0 c1 ...' (L the 0-based MoE layer)",
                        "'%.40s'", s);
            goto out;
        }
        if (l != r->layers) {
            ifb_err_set(e, path, lineno, "layer", "the next MoE layer in order",
                        "layer %ld after %d rows", l, r->layers);
            goto out;
        }
        if (r->layers == layers_max) {
            ifb_err_set(e, path, lineno, "layer", "at most the model's MoE layers",
                        "layer %ld (the model has %d)", l, layers_max);
            goto out;
        }
        s = end + 1;
        int n = 0;
        for (;;) {
            while (*s == ' ' || *s == '\t' || *s == ',')
                s++;
            if (!*s || *s == '\r' || *s == '\n')
                break;
            errno = 0;
            double v = strtod(s, &end);
            if (end == s || errno || !(v >= 0) || v > 1e300) {
                ifb_err_set(e, path, lineno, "load", "a non-negative number per expert", "'%.20s'",
                            s);
                goto out;
            }
            if (n < experts)
                r->load[(size_t)r->layers * experts + n] = v;
            n++;
            s = end;
        }
        if (n != experts) {
            ifb_err_set(e, path, lineno, "experts", "one load per routed expert",
                        "%d loads for %d experts", n, experts);
            goto out;
        }
        r->layers++;
    }
    if (!feof(f) && !ferror(f)) /* getline could not grow its buffer (ENOMEM) */
        ifb_oom(cap, 2, "a routing file line");
    if (r->layers < layers_min) {
        ifb_err_set(e, path, lineno, "layers", "a row for every MoE layer of the model",
                    "%d rows for %d MoE layers", r->layers, layers_min);
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    if (rc)
        ifb_routing_file_free(r);
    return rc;
}

int ifb_routing_file_write(const ifb_routing_file *r, FILE *f, ifb_err *e)
{
    fprintf(f, "# infabric routing file: token copies per routed expert, one MoE layer a line\n");
    for (int l = 0; l < r->layers; l++) {
        fprintf(f, "%d:", l);
        for (int x = 0; x < r->experts; x++)
            fprintf(f, " %.17g", r->load[(size_t)l * r->experts + x]);
        fputc('\n', f);
    }
    if (ferror(f) || fflush(f))
        return ifb_err_msg(e, "routing file %s: write error", r->name);
    return 0;
}
