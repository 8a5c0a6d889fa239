#!/usr/bin/env bash
# The whole test suite: C unit tests, language tests (release, sanitizers,
# GC stress) and the conformance corpus.  Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
REL=build/sema
DBG=build/debug/sema
pass=0
fail=0
failed_names=()

ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  failed_names+=("$1")
  echo "FAIL: $1"
}

# ---- C unit tests (built with sanitizers) ----
for t in build/debug/unit/*; do
  [ -x "$t" ] || continue
  if "$t" >/tmp/sema-unit.log 2>&1; then ok; else bad "unit $(basename "$t")"; cat /tmp/sema-unit.log | tail -20; fi
done

# ---- language tests: tests/lang/NAME.sema with NAME.expect (stdout+stderr, then "exit N") ----
run_lang() { # bin label env...
  local bin=$1 label=$2
  shift 2
  for src in tests/lang/*.sema; do
    local exp="${src%.sema}.expect"
    [ -f "$exp" ] || continue
    local out
    out=$(cd tests/lang && env "$@" "../../$bin" "$(basename "$src")" 2>&1; echo "exit $?")
    if [ "$out" == "$(cat "$exp")" ]; then ok; else
      bad "$label $(basename "$src")"
      diff <(echo "$out") "$exp" | head -20
    fi
  done
}
run_lang "$REL" lang SEMA_TEST=1
run_lang "$DBG" asan SEMA_TEST=1
run_lang "$DBG" gc-stress SEMA_GC_STRESS=1
# minor collections (off by default, gc.c GENERATIONS): with the invariant checked before each one
# (collections every 64 KB, so that young objects meet old ones), and at their own pace
run_lang "$REL" gc-verify SEMA_TEST=1 SEMA_GC_VERIFY=1
run_lang "$REL" gc-minor SEMA_TEST=1 SEMA_GC_GENERATIONAL=1
run_lang "$DBG" asan-gc-verify SEMA_TEST=1 SEMA_GC_VERIFY=1

# ---- reliability (issue 14): counted C-side memory, no leak on error, the memory-failure sweep ----
if bash tests/reliability/run.sh "$REL" release >/tmp/sema-rel.log 2>&1; then ok; else bad "reliability release"; cat /tmp/sema-rel.log | tail -20; fi
if bash tests/reliability/run.sh "$DBG" asan >/tmp/sema-rel.log 2>&1; then ok; else bad "reliability asan"; cat /tmp/sema-rel.log | tail -20; fi
# short sweep: every 7th failure point under ASan (make check-oom: all of them)
if bash tests/reliability/oom_sweep.sh "$DBG" 7 >/tmp/sema-oom.log 2>&1; then ok; else bad "oom sweep"; tail -20 /tmp/sema-oom.log; fi
grep "covered" /tmp/sema-oom.log

# ---- example programs: examples/**/NAME.sema with NAME.expect (stdout) ----
while IFS= read -r exp; do
  src="${exp%.expect}.sema"
  if [ "$("$REL" "$src" 2>&1)" == "$(cat "$exp")" ]; then ok; else bad "example $src"; fi
done < <(find examples -name '*.expect' -not -path 'examples/llm/*' | sort) # examples/llm need a provider: tests/llm/examples_test.py

# ---- differential: the VM against the reference evaluator (sema --interp) ----
if bash tests/diff/run.sh "$REL" 10000 "$DBG" 500 >/tmp/sema-diff.log 2>&1; then ok; else bad "differential"; tail -30 /tmp/sema-diff.log; fi
grep "^diff:" /tmp/sema-diff.log

# ---- the command line: REPL through a pseudo-terminal, sema eval --json ----
if python3 tests/cli/repl_test.py "$REL"; then ok; else bad "repl"; fi
if bash tests/cli/eval_json_test.sh "$REL"; then ok; else bad "eval --json"; fi
if bash tests/cli/errors_test.sh "$REL"; then ok; else bad "error positions"; fi
if bash tests/cli/owned_shapes_test.sh "$REL"; then ok; else bad "owned update shapes"; fi
if bash tests/cli/stdin_test.sh "$REL"; then ok; else bad "stdin and --check"; fi
if python3 tests/cli/readme_test.py "$REL"; then ok; else bad "README tour"; fi
# ---- documentation: sema doc, and docs/reference.md current with every start-up name documented ----
if bash tests/cli/doc_test.sh "$REL"; then ok; else bad "sema doc"; fi
if tools/gen-reference.sh --check "$REL"; then ok; else bad "reference (run tools/gen-reference.sh)"; fi

# ---- sema fmt: the reference layout cases (../shared/fmt/cases.jsonl; deliberate differences in tests/fmt/xfail.txt) ----
if [ -f ../shared/fmt/cases.jsonl ]; then
  if python3 tests/fmt/run_cases.py "$REL" ../shared/fmt/cases.jsonl --xfail tests/fmt/xfail.txt >/tmp/sema-fmt.log 2>&1; then ok; else bad "fmt cases"; tail -30 /tmp/sema-fmt.log; fi
  tail -1 /tmp/sema-fmt.log
fi
if bash tests/fmt/cli_test.sh "$REL" >/tmp/sema-fmt.log 2>&1; then ok; else bad "fmt command line"; tail -30 /tmp/sema-fmt.log; fi
tail -1 /tmp/sema-fmt.log
if bash tests/fmt/repo_test.sh "$REL" >/tmp/sema-fmt.log 2>&1; then ok; else bad "fmt repository files"; tail -30 /tmp/sema-fmt.log; fi
tail -1 /tmp/sema-fmt.log

# ---- the embedding API example (built against libsema.a) ----
if make -s embed-example >/tmp/sema-embed.log 2>&1; then ok; else bad "embed example"; tail -20 /tmp/sema-embed.log; fi
if bash tests/cli/embedding_test.sh build/debug/libsema.a; then ok; else bad "docs/embedding.md example (ASan)"; fi

# ---- fuzzing: replay the regression inputs, then a short run of each libFuzzer target ----
if [ -z "${SEMA_SKIP_FUZZ:-}" ] && command -v clang >/dev/null; then
  if FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-30} bash tools/fuzz.sh smoke; then ok; else bad "fuzz smoke"; fi
else
  echo "fuzz: clang not installed, skipped"
fi

# ---- soak: memory stays flat while a loop allocates and drops (make soak runs it for 3 minutes) ----
if tests/soak/run.sh "$REL" "${SOAK_SECONDS:-20}"; then ok; else bad "soak"; fi

# ---- architecture: layers call only downward, every external symbol has its module's prefix ----
if python3 tools/layers.py --check --max-scc 12 >/tmp/sema-layers.log 2>&1; then ok; else bad "layers"; cat /tmp/sema-layers.log; fi
head -1 /tmp/sema-layers.log
if python3 tools/prefixes.py build/libsema.a >/tmp/sema-prefixes.log 2>&1; then ok; else bad "prefixes"; cat /tmp/sema-prefixes.log; fi
tail -1 /tmp/sema-prefixes.log

# ---- instruction-count regression guard ----
if tests/perf/guard.sh; then ok; else bad "perf guard"; fi

# ---- HTTP: real servers and clients on 127.0.0.1 (tests/http; net.md §8) ----
for t in server_test client_test bad_input_test concurrency_test; do
  if (cd tests/http && timeout 600 python3 $t.py "../../$REL") >/tmp/sema-http.log 2>&1; then ok; else bad "http $t"; tail -30 /tmp/sema-http.log; fi
  tail -1 /tmp/sema-http.log
done
# the same under ASan + UBSan (the server's threads and callbacks included)
for t in server_test client_test concurrency_test; do
  if (cd tests/http && timeout 900 python3 $t.py "../../$DBG") >/tmp/sema-http.log 2>&1; then ok; else bad "http $t (asan)"; tail -30 /tmp/sema-http.log; fi
done
if (cd tests/http && timeout 120 python3 load_test.py "../../$REL" "${HTTP_LOAD_SECONDS:-3}") >/tmp/sema-http.log 2>&1; then ok; else bad "http load"; cat /tmp/sema-http.log; fi
grep "^sema:" /tmp/sema-http.log
if python3 tests/http/examples_test.py "$REL" >/tmp/sema-http.log 2>&1; then ok; else bad "http examples"; tail -30 /tmp/sema-http.log; fi

# ---- LLM providers: scripted servers speaking each wire protocol on 127.0.0.1 (tests/llm; llm-scenarios.md) ----
for b in "$REL" "$DBG"; do
  for t in scenarios_test malformed_test examples_test tools_routes_test autoconfig_test names_test; do
    [ -f tests/llm/$t.py ] || continue
    if timeout 600 python3 tests/llm/$t.py "$b" >/tmp/sema-llm.log 2>&1; then ok; else bad "llm $t ($b)"; tail -30 /tmp/sema-llm.log; fi
    tail -1 /tmp/sema-llm.log
  done
done

# ---- conformance corpus and the spec's tier-A and tier-B names (outside the project; skipped when absent) ----
CONF=../shared/tools/conformance
if [ -f ../shared/spec/stdlib.md ]; then
  if python3 tests/spec/names.py "$REL" ../shared/spec/stdlib.md A tests/spec/tier-a-missing.txt; then ok; else bad "tier-A names"; fi
  if python3 tests/spec/names.py "$REL" ../shared/spec/stdlib.md B; then ok; else bad "tier-B names"; fi
fi
if [ -x "$CONF" ] && [ -d ../shared/conformance ]; then
  out=$(python3 "$CONF" --bin "$REL" --expect-failures tests/conformance-xfail.txt ../shared/conformance 2>&1)
  rc=$?
  echo "$out" | tail -15
  if [ $rc -eq 0 ]; then ok; else bad "conformance"; fi
  # the same corpus under ASan + UBSan, and on the reference evaluator
  out=$(python3 "$CONF" --bin "$DBG" --expect-failures tests/conformance-xfail.txt ../shared/conformance 2>&1)
  if [ $? -eq 0 ]; then ok; else bad "conformance (asan)"; echo "$out" | tail -15; fi
  echo "conformance (asan): $(echo "$out" | tail -1)"
  # the llm area (left out by default): llm_test.jsonl and the corpus's llm cases, release and ASan
  for b in "$REL" "$DBG"; do
    out=$(python3 "$CONF" --bin "$b" --exclude-area '' --area llm --expect-failures tests/conformance-xfail.txt ../shared/conformance 2>&1)
    if [ $? -eq 0 ]; then ok; else bad "conformance llm ($b)"; echo "$out" | tail -15; fi
    echo "conformance llm ($b): $(echo "$out" | tail -1)"
  done
  # the async area (left out by default): async_test.jsonl (async.md), release and ASan
  for b in "$REL" "$DBG"; do
    out=$(python3 "$CONF" --bin "$b" --exclude-area '' --area async ../shared/conformance 2>&1)
    if [ $? -eq 0 ]; then ok; else bad "conformance async ($b)"; echo "$out" | tail -15; fi
    echo "conformance async ($b): $(echo "$out" | tail -1)"
  done
  # the http area (left out by default): net_test.jsonl and the corpus's http cases, release and ASan
  for b in "$REL" "$DBG"; do
    out=$(python3 "$CONF" --bin "$b" --exclude-area '' --area http ../shared/conformance 2>&1)
    if [ $? -eq 0 ]; then ok; else bad "conformance http ($b)"; echo "$out" | tail -15; fi
    echo "conformance http ($b): $(echo "$out" | tail -1)"
  done
  out=$(SEMA_INTERP_BIN="$PWD/$REL" python3 "$CONF" --bin tests/diff/interp.sh --expect-failures tests/conformance-xfail.txt ../shared/conformance 2>&1)
  if [ $? -eq 0 ]; then ok; else bad "conformance (--interp)"; echo "$out" | tail -15; fi
  echo "conformance (--interp): $(echo "$out" | tail -1)"
else
  echo "conformance: ../shared not present, skipped"
fi

# ---- kv and db: their conformance areas (left out by default) under release and ASan, the crash test ----
if [ -x "$CONF" ] && [ -d ../shared/conformance ]; then
  for bin in "$REL" "$DBG"; do
    out=$(python3 "$CONF" --bin "$bin" --exclude-area '' --area kv,db --expect-failures tests/conformance-xfail.txt ../shared/conformance 2>&1)
    if [ $? -eq 0 ]; then ok; else bad "conformance kv,db ($bin)"; echo "$out" | tail -15; fi
    echo "conformance kv,db ($bin): $(echo "$out" | tail -1)"
  done
fi
# a child writing kv keys / db rows is SIGKILLed 5 times (make check-all: 10,000 and 20)
if python3 tests/store/crash.py "$REL" --count 1000 --kills 5; then ok; else bad "store crash test"; fi

echo
if [ $fail -gt 0 ]; then
  printf 'failed: %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
