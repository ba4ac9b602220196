#!/usr/bin/env python3
"""tests/hardening/list_api.py OUT_HEADER INCLUDE_DIR

Writes OUT_HEADER with one API_FUNCTION("name") line per function that a
public header (INCLUDE_DIR/*.h, every header, so a new one is picked up
without editing anything) declares with CONTRL_API. test_bad_input.c checks
that each has a row in its table: a new function without one fails it."""
import glob
import os
import re
import sys

out, include_dir = sys.argv[1], sys.argv[2]
names = set()
for path in sorted(glob.glob(os.path.join(include_dir, "*.h"))):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)    # preprocessor lines
    for m in re.finditer(r"\bCONTRL_API\b([^;{(]*)\(", text):
        name = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", m.group(1))[-1]
        names.add(name)
if len(names) < 50:
    sys.exit("list_api.py: found only %d functions in %s" % (len(names), include_dir))
body = "".join('API_FUNCTION("%s")\n' % n for n in sorted(names))
if not os.path.exists(out) or open(out).read() != body:
    with open(out, "w") as f:
        f.write(body)
