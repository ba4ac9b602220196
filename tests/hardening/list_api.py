#!/usr/bin/env python3
"""tests/hardening/list_api.py OUT_HEADER INCLUDE_DIR [MACRO [MIN_COUNT]]

Writes OUT_HEADER with one API_FUNCTION("name") line per function that a
public header (INCLUDE_DIR/*.h, every header, so a new one is picked up
without editing anything) declares with MACRO (default CONTRL_API).
test_bad_input.c checks that each has a row in its table: a new function
without one fails it. The MuJoCo add-on's matrix
(subprojects/contrl-mujoco/tests/test_bad_input_mj.c) runs it on the
add-on's header with CONTRL_MJ_API. Finding fewer than MIN_COUNT functions
(default 50) is an error: a parse that silently finds nothing would make
the matrix pass vacuously."""
import glob
import os
import re
import sys

out, include_dir = sys.argv[1], sys.argv[2]
macro = sys.argv[3] if len(sys.argv) > 3 else "CONTRL_API"
min_count = int(sys.argv[4]) if len(sys.argv) > 4 else 50
names = set()
for path in sorted(glob.glob(os.path.join(include_dir, "*.h"))):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)    # preprocessor lines
    for m in re.finditer(r"\b" + re.escape(macro) + r"\b([^;{(]*)\(", text):
        name = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1))[-1]
        names.add(name)
if len(names) < min_count:
    sys.exit("list_api.py: found only %d functions declared with %s in %s"
             % (len(names), macro, include_dir))
body = "".join('API_FUNCTION("%s")\n' % n for n in sorted(names))
if not os.path.exists(out) or open(out).read() != body:
    with open(out, "w") as f:
        f.write(body)
