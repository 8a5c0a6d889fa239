/* embed.c - a C program that uses Sema as its rules language.
 *
 * The host (an order-processing program) exposes two functions to scripts,
 * host/log and host/now, loads a pricing script, then calls the script's
 * `price` function for each order in a C array and prints the results.
 *
 *   make embed-example        (builds build/embed and runs it)
 *   cc embed.c $(pkg-config --cflags --libs sema)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sema.h"

/* The script a user of the host would write (usually read from a file with
 * sema_eval_file).  `price` returns a map the host picks apart. */
static const char *const pricing_script =
    ";; pricing rules\n"
    "(define tax-rate 0.2)\n"
    "(define bulk-threshold 10)\n"
    "\n"
    "(define (price id qty unit-price)\n"
    "  (when (<= qty 0)\n"
    "    (error (string-append \"quantity must be positive: \" id)))\n"
    "  (let* ((base (* qty unit-price))\n"
    "         (discount (if (>= qty bulk-threshold) 0.1 0.0))\n"
    "         (total (* base (- 1 discount) (+ 1 tax-rate))))\n"
    "    (when (> total 100)\n"
    "      (host/log \"large order\" id (/ (round (* total 100)) 100)))\n"
    "    {:id id :total total :discounted (> discount 0) :priced-at (host/now)}))\n";

typedef struct {
  const char *id;
  int qty;
  double unit_price;
} Order;

static const Order orders[] = {
    {"A-100", 2, 4.50}, {"A-101", 12, 9.99}, {"B-200", 0, 3.00}, {"C-300", 1, 250.00}, {"C-301", 30, 1.25},
};

/* A real host would return the wall clock; this one advances a simulated
 * clock by one tick per call so the example's output is reproducible. */
static int host_now(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)argc, (void)argv;
  long *clock = ud;
  *result = sema_int(S, ++*clock);
  return SEMA_OK;
}

/* (host/log MESSAGE ARG ...): strings as they are, anything else printed */
static int host_log(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)result, (void)ud;
  if (sema_type(S, argv[0]) != SEMA_TSTRING) return sema_raise(S, "host/log: the message must be a string");
  printf("  [log] %s", sema_to_string(S, argv[0], NULL));
  for (int i = 1; i < argc; i++) {
    char *s = sema_repr(S, argv[i]);
    printf(" %s", s ? s : "?");
    free(s);
  }
  printf("\n");
  return SEMA_OK;
}

/* fetch a keyword's entry from a map returned by the script */
static sema_Value *field(sema_State *S, sema_Value *map, const char *name) {
  sema_Value *k = sema_keyword(S, name);
  sema_Value *v = sema_map_get(S, map, k);
  sema_release(S, k);
  return v;
}

static void print_quote(sema_State *S, sema_Value *quote) {
  sema_Value *id = field(S, quote, "id"), *total = field(S, quote, "total"), *disc = field(S, quote, "discounted"),
             *at = field(S, quote, "priced-at");
  printf("%-6s total %8.2f%s (tick %lld)\n", sema_to_string(S, id, NULL), sema_to_float(S, total, NULL),
         sema_to_bool(S, disc) ? " bulk" : "", (long long)sema_to_int(S, at, NULL));
  sema_release(S, id);
  sema_release(S, total);
  sema_release(S, disc);
  sema_release(S, at);
}

int main(void) {
  long clock = 1000;
  sema_State *S = sema_open();
  if (!S) return 1;
  sema_register(S, "host/log", host_log, 1, -1, NULL);
  sema_register(S, "host/now", host_now, 0, 0, &clock);

  if (sema_eval(S, pricing_script, strlen(pricing_script), "pricing.sema", NULL) != SEMA_OK) {
    fprintf(stderr, "pricing.sema:%d:%d: %s\n", sema_error_line(S), sema_error_col(S), sema_error_message(S));
    sema_close(S);
    return 1;
  }

  /* look the function up once; each call then costs no parsing */
  sema_Value *price = sema_get_global(S, "price");
  double grand_total = 0;
  int failed = 0;
  for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
    const Order *o = &orders[i];
    sema_Value *args[3] = {sema_string(S, o->id, strlen(o->id)), sema_int(S, o->qty), sema_float(S, o->unit_price)};
    sema_Value *quote = NULL;
    if (sema_call(S, price, 3, args, &quote) == SEMA_OK) {
      print_quote(S, quote);
      sema_Value *total = field(S, quote, "total");
      grand_total += sema_to_float(S, total, NULL);
      sema_release(S, total);
    } else {
      printf("%-6s rejected: %s (pricing.sema:%d)\n", o->id, sema_error_message(S), sema_error_line(S));
      failed++;
    }
    sema_release(S, quote);
    for (int k = 0; k < 3; k++) sema_release(S, args[k]);
  }
  printf("%d priced, %d rejected, grand total %.2f\n", (int)(sizeof orders / sizeof orders[0]) - failed, failed,
         grand_total);
  sema_release(S, price);
  sema_close(S); /* also frees any handle still held */
  return 0;
}
