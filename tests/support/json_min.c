#include "json_min.h"

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jn {
    int type;
    double num;
    char *str;
    int n, cap;
    jn **items;
    char **keys;
};

static void ws(const char **p) { while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t') (*p)++; }

static jn *node(int t) { jn *n = calloc(1, sizeof *n); n->type = t; return n; }

static void push(jn *a, jn *v, char *k) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->items = realloc(a->items, sizeof(jn *) * (size_t)a->cap);
        a->keys = realloc(a->keys, sizeof(char *) * (size_t)a->cap);
    }
    a->items[a->n] = v;
    a->keys[a->n++] = k;
}

static char *pstr(const char **p) {
    if (**p != '"') return NULL;
    (*p)++;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    while (**p && **p != '"') {
        char c = *(*p)++;
        if (c == '\\') {
            c = *(*p)++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        if (n + 2 > cap) s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    if (**p != '"') { free(s); return NULL; }
    (*p)++;
    s[n] = 0;
    return s;
}

static jn *pval(const char **p) {
    ws(p);
    if (**p == '{' || **p == '[') {
        int obj = **p == '{';
        jn *a = node(obj ? J_OBJ : J_ARR);
        (*p)++;
        ws(p);
        if (**p == (obj ? '}' : ']')) { (*p)++; return a; }
        for (;;) {
            char *k = NULL;
            if (obj) {
                ws(p);
                k = pstr(p);
                ws(p);
                if (!k || **p != ':') { free(k); json_free(a); return NULL; }
                (*p)++;
            }
            jn *v = pval(p);
            if (!v) { free(k); json_free(a); return NULL; }
            push(a, v, k);
            ws(p);
            if (**p == ',') { (*p)++; continue; }
            if (**p == (obj ? '}' : ']')) { (*p)++; return a; }
            json_free(a);
            return NULL;
        }
    }
    if (**p == '"') {
        char *s = pstr(p);
        if (!s) return NULL;
        jn *n = node(J_STR);
        n->str = s;
        return n;
    }
    if (!strncmp(*p, "true", 4)) { *p += 4; jn *n = node(J_BOOL); n->num = 1; return n; }
    if (!strncmp(*p, "false", 5)) { *p += 5; return node(J_BOOL); }
    if (!strncmp(*p, "null", 4)) { *p += 4; return node(J_NULL); }
    char *end;
    double d = strtod(*p, &end);
    if (end == *p) return NULL;
    *p = end;
    jn *n = node(J_NUM);
    n->num = d;
    return n;
}

jn *json_parse(const char *text) { const char *p = text; return pval(&p); }
jn *json_load(const char *path) {
    size_t n;
    char *t = tu_read_file(path, &n);
    if (!t) return NULL;
    t = realloc(t, n + 1);
    t[n] = 0;
    jn *j = json_parse(t);
    free(t);
    return j;
}
void json_free(jn *n) {
    if (!n) return;
    for (int i = 0; i < n->n; i++) { json_free(n->items[i]); free(n->keys[i]); }
    free(n->items); free(n->keys); free(n->str); free(n);
}
jn *json_get(const jn *o, const char *key) {
    if (!o || o->type != J_OBJ) return NULL;
    for (int i = 0; i < o->n; i++) if (!strcmp(o->keys[i], key)) return o->items[i];
    return NULL;
}
jn *json_at(const jn *a, int i) { return a && (a->type == J_ARR || a->type == J_OBJ) && i >= 0 && i < a->n ? a->items[i] : NULL; }
int json_len(const jn *n) { return n && (n->type == J_ARR || n->type == J_OBJ) ? n->n : 0; }
const char *json_key(const jn *o, int i) { return o && o->type == J_OBJ && i >= 0 && i < o->n ? o->keys[i] : NULL; }
const char *json_str(const jn *n) { return n && n->type == J_STR ? n->str : NULL; }
double json_num(const jn *n) { return n && (n->type == J_NUM || n->type == J_BOOL) ? n->num : 0; }
int json_is_obj(const jn *n) { return n && n->type == J_OBJ; }
