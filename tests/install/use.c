#include <effcam.h>
#include <stdio.h>
int main(int c, char **v){ effcam_plan p; effcam_error e; effcam_status s = effcam_plan_file(v[1], NULL, 0, &p, &e); printf("%s %zu\n", effcam_strerror(s), p.total_bytes); return s; }
