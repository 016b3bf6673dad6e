/* A minimal JSON reader for test manifests (objects, arrays, strings
 * without escapes beyond \" \\ \/ \n \t, numbers, true/false/null). */
#ifndef EFFCAM_JSON_MIN_H
#define EFFCAM_JSON_MIN_H
typedef struct jn jn;
jn *json_parse(const char *text); /* NULL on error */
jn *json_load(const char *path);  /* NULL if absent or invalid */
void json_free(jn *n);
jn *json_get(const jn *obj, const char *key); /* NULL if absent */
jn *json_at(const jn *arr, int i);
int json_len(const jn *n);                    /* array / object size */
const char *json_key(const jn *obj, int i);
const char *json_str(const jn *n);            /* NULL if not a string */
double json_num(const jn *n);                 /* 0 if not a number */
int json_is_obj(const jn *n);
#endif
