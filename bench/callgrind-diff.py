# Per-request instructions by part, from four callgrind files of bench/proxy-instructions.ts (BENCH_KEEP=1):
#   python3 bench/callgrind-diff.py base-0-0.callgrind base-0-N.callgrind current-0-0.callgrind current-0-N.callgrind N [rows]
# Each function's exclusive count of the N run minus the 0 run, divided by N, for base and current; JIT-compiled
# JavaScript has no symbols under valgrind and is one row. Then the same grouped into parts (JIT code, V8 builtins,
# GC, compiler/interpreter, Node/libuv/llhttp, libc, crypto): the parts show which differences are the code and which
# are compilation and GC falling differently in the window.
import subprocess, sys, re, collections
def funcs(f):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", f], capture_output=True, text=True).stdout
    d = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.+)$", line)
        if m and ":" in m.group(2):
            name = m.group(2).strip()
            if re.match(r"\?\?\?:0x", name): name = "[JIT-compiled JavaScript, no symbol]"
            d[name] += int(m.group(1).replace(",", ""))
    return d
b0, bn, c0, cn, n = sys.argv[1:6]
n = int(n)
B = funcs(bn); B.subtract(funcs(b0))
C = funcs(cn); C.subtract(funcs(c0))
keys = set(B) | set(C)
rows = sorted(keys, key=lambda k: -abs(C[k] - B[k]))
print(f"{'base/req':>10} {'cur/req':>10} {'diff/req':>10}  function")
print(f"{sum(B.values())/n:10.0f} {sum(C.values())/n:10.0f} {(sum(C.values())-sum(B.values()))/n:10.0f}  TOTAL")
for k in rows[:int(sys.argv[6]) if len(sys.argv) > 6 else 40]:
    print(f"{B[k]/n:10.0f} {C[k]/n:10.0f} {(C[k]-B[k])/n:10.0f}  {k[:150]}")

def cat(k):
    if k.startswith("[JIT"): return "JIT code"
    if "Builtins_" in k: return "V8 builtins"
    if re.search(r"Scaven|Mark|Heap|GC|Sweep|Evacuat|Compactor|Worklist|RecordWrite", k): return "GC"
    if re.search(r"compiler::|maglev|Turbofan|Compile|Parser|Scanner|Bytecode|interpreter", k): return "compiler/interp"
    if "v8::" in k: return "V8 other"
    if "node::" in k or "llhttp" in k or "uv_" in k: return "node/libuv/llhttp"
    if "libc" in k or "ld-linux" in k: return "libc"
    if "crypto" in k.lower() or "sha" in k.lower(): return "crypto"
    return "other"
for name, D in (("base", B), ("current", C)):
    pass
cats = collections.Counter(); catb = collections.Counter()
for k in keys:
    catb[cat(k)] += B[k]; cats[cat(k)] += C[k]
print()
for c in sorted(set(cats)|set(catb), key=lambda c: -abs(cats[c]-catb[c])):
    print(f"{catb[c]/n:10.0f} {cats[c]/n:10.0f} {(cats[c]-catb[c])/n:10.0f}  [{c}]")
