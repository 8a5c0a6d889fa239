/* The JSON endpoint in C on libmicrohttpd, configured as httpd.c is (epoll,
 * a pool of 2 threads); with argv[1] = "suspend" every request is suspended
 * and resumed by a second thread, the hand-off http/serve makes. */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static const char BODY[] = "{\"hello\":\"world\",\"method\":\"get\",\"n\":1,\"path\":\"/json\"}";
static int suspend_mode;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct MHD_Connection *q[4096];
static int qn;
static void *resumer(void *a) {
  (void)a;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (!qn) pthread_cond_wait(&cv, &mu);
    struct MHD_Connection *c = q[--qn];
    pthread_mutex_unlock(&mu);
    MHD_resume_connection(c);
  }
  return NULL;
}
static enum MHD_Result h(void *cls, struct MHD_Connection *c, const char *url, const char *m, const char *v,
                         const char *up, size_t *ups, void **cc) {
  if (*cc == NULL) { *cc = (void *)1; return MHD_YES; }
  if (suspend_mode && *cc == (void *)1) {
    *cc = (void *)2;
    MHD_suspend_connection(c);
    pthread_mutex_lock(&mu);
    q[qn++] = c;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "content-type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}
int main(int argc, char **argv) {
  suspend_mode = argc > 1 && !strcmp(argv[1], "suspend");
  pthread_t t;
  pthread_create(&t, NULL, resumer, NULL);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 18401, NULL, NULL, h,
                                          NULL, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_END);
  if (!d) return 1;
  pause();
}
