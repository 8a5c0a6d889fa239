/* The JSON endpoint in C on CivetWeb (worker-thread model, 64 threads so
 * that wrk's 64 keep-alive connections each have one). */
#include <civetweb.h>
#include <string.h>
#include <unistd.h>
static const char BODY[] = "{\"hello\":\"world\",\"method\":\"get\",\"n\":1,\"path\":\"/json\"}";
static int h(struct mg_connection *c, void *cb) {
  mg_printf(c, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s", (int)sizeof BODY - 1, BODY);
  return 200;
}
int main(void) {
  const char *opts[] = {"listening_ports", "127.0.0.1:18402", "num_threads", "64", "enable_keep_alive", "yes", NULL};
  mg_init_library(0);
  struct mg_callbacks cb;
  memset(&cb, 0, sizeof cb);
  struct mg_context *ctx = mg_start(&cb, NULL, opts);
  if (!ctx) return 1;
  mg_set_request_handler(ctx, "/", h, NULL);
  pause();
}
