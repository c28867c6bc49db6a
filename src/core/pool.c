/* Chunked free-list pool (see pool.h). */
#include "core/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ifb_pool_init(ifb_pool *p, size_t obj_size, size_t per_chunk)
{
    memset(p, 0, sizeof *p);
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    p->obj_size = (obj_size + 15) & ~(size_t)15;
    p->zero_size = p->obj_size;
    p->per_chunk = per_chunk ? per_chunk : 1024;
}

void ifb_pool_destroy(ifb_pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    memset(p, 0, sizeof *p);
}

static void grow(ifb_pool *p)
{
    if (p->nchunks == p->chunks_cap) {
        size_t cap = p->chunks_cap ? p->chunks_cap * 2 : 8;
        void **c = realloc(p->chunks, cap * sizeof *c);
        if (!c) {
            fputs("infabric: out of memory growing a pool\n", stderr);
            abort();
        }
        p->chunks = c;
        p->chunks_cap = cap;
    }
    char *mem = malloc(p->obj_size * p->per_chunk);
    if (!mem) {
        fputs("infabric: out of memory growing a pool\n", stderr);
        abort();
    }
    p->chunks[p->nchunks++] = mem;
    for (size_t i = p->per_chunk; i-- > 0;) {
        void *o = mem + i * p->obj_size;
        *(void **)o = p->free_list;
        p->free_list = o;
    }
}

void *ifb_pool_get(ifb_pool *p)
{
    if (!p->free_list)
        grow(p);
    void *o = p->free_list;
    p->free_list = *(void **)o;
    memset(o, 0, p->zero_size);
    if (++p->live > p->high_water)
        p->high_water = p->live;
    return o;
}

void ifb_pool_put(ifb_pool *p, void *obj)
{
    *(void **)obj = p->free_list;
    p->free_list = obj;
    p->live--;
}

size_t ifb_pool_bytes(const ifb_pool *p)
{
    return p->nchunks * p->per_chunk * p->obj_size;
}

void *ifb_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : first;
    while (c <= n)
        c *= 2;
    void *a = realloc(arr, c * elem);
    if (!a) {
        fputs("infabric: out of memory growing an array\n", stderr);
        abort();
    }
    *cap = c;
    return a;
}
