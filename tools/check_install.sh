#!/usr/bin/env bash
# A plain install, as a new user gets it: `pip install` of this checkout WITHOUT extras into a fresh virtual environment
# (PyTorch first, the CPU build: `pip install torch==2.13.0`), resolved with no pip cache, so the newest versions the
# requirement bounds allow are the ones tested. Then every module imports, each command answers --help, a tiny
# u2net_train runs to its end, u2net_predict cuts out a shipped photo with it, u2net_eval scores it, and u2net_export
# (which needs the [export] extra) stops with one line naming that extra.
#   bash tools/check_install.sh            # newest versions the bounds allow
#   bash tools/check_install.sh --lowest   # the lower bound of every requirement instead
# PyTorch comes from `pip install $TORCH_INSTALL` (default `torch==2.13.0`; on a host without a local CPU build, e.g.
# TORCH_INSTALL="torch --index-url https://download.pytorch.org/whl/cpu").
# Prints what it checks and ends with "install check: passed" (exit 0) or the failing step (exit 1).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
lowest=0; [ "${1:-}" = "--lowest" ] && lowest=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "install check: FAILED: $*" >&2; exit 1; }

python3 -m venv "$tmp/venv" || fail "could not create a virtual environment"
py="$tmp/venv/bin/python"; bin="$tmp/venv/bin"
pipq() { "$py" -m pip "$@" > "$tmp/pip.log" 2>&1 || { tail -n 20 "$tmp/pip.log" >&2; return 1; }; }   # quiet unless it fails
# shellcheck disable=SC2086
pipq install ${TORCH_INSTALL:-torch==2.13.0} || fail "could not install PyTorch (pip install ${TORCH_INSTALL:-torch==2.13.0})"
if [ "$lowest" = 1 ]; then   # pin every runtime requirement to its lower bound
  "$py" - "$root/settings.ini" > "$tmp/lowest.txt" <<'EOF' || fail "could not read the lower bounds"
import configparser, re, sys
cp = configparser.ConfigParser(delimiters=['=']); cp.read(sys.argv[1])
for r in cp['DEFAULT']['requirements'].split():
    name, lo = re.match(r'([\w.-]+)>=([\w.]+)', r).groups(); print(f"{name}=={lo}")
EOF
  echo "== lower bounds: $(tr '\n' ' ' < "$tmp/lowest.txt")"
  pipq install --no-cache-dir -r "$tmp/lowest.txt" || fail "the lower bounds do not install together"
  pipq install --no-cache-dir "$root" -c "$tmp/lowest.txt" || fail "pip install of the package failed"
else
  echo "== pip install --no-cache-dir $root (no extras)"
  pipq install --no-cache-dir "$root" || fail "pip install of the package failed"
fi
"$py" -m pip list --format=freeze 2>/dev/null | grep -iE '^(fastcore|numpy|matplotlib|ipywidgets|torchinfo|pillow|tqdm|torch|onnx|onnxruntime|openvino|numba|scipy)==' | tr '\n' ' '; echo
cd "$tmp" || exit 2   # away from the checkout: only the installed package is importable

echo "== every module imports"
"$py" -c "
import importlib, pkgutil, u2net_nb
names = [m.name for m in pkgutil.walk_packages(u2net_nb.__path__, 'u2net_nb.')]
for n in names: importlib.import_module(n)
print(f'{len(names)} modules')" || fail "a module does not import in a plain install"

for c in u2net_train u2net_eval u2net_predict u2net_export; do
  "$bin/$c" --help > "$tmp/help.txt" 2>&1 || { cat "$tmp/help.txt"; fail "$c --help"; }
  echo "$c --help: $(grep -c -- '--' "$tmp/help.txt") lines with flags"
done
grep -q -- '--batch_size' <("$bin/u2net_eval" --help) || fail "u2net_eval's flags changed spelling (--batch_size)"

echo "== a tiny u2net_train"
"$bin/u2net_train" --out "$tmp/run" --size 40 --crop 32 --n_train 8 --n_val 4 --batch_size 2 --epochs 1 --quiet \
  || fail "u2net_train did not finish"
for f in best.pt curves.png predictions.png metrics.jsonl; do [ -s "$tmp/run/$f" ] || fail "u2net_train wrote no $f"; done

echo "== u2net_predict on a shipped photo"
photo=$("$py" -c "from u2net_nb.samples import sample_path; print(sample_path('sample_cat'))")
U2NET_ONNX_CACHE="$tmp/cache" "$bin/u2net_predict" "$tmp/run/best.pt" "$photo" --out "$tmp/cut" --mode cutout 2> "$tmp/predict.err" \
  || { cat "$tmp/predict.err"; fail "u2net_predict"; }
cat "$tmp/predict.err"
ls "$tmp/cut"/* >/dev/null 2>&1 || fail "u2net_predict wrote nothing"
[ "$(grep -c 'not installed' "$tmp/predict.err")" -le 1 ] || fail "the missing-extra note was printed more than once"

echo "== u2net_eval"
"$bin/u2net_eval" "$tmp/run/best.pt" --n_synthetic 4 --quiet 2>&1 | tail -n 2 || fail "u2net_eval"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "u2net_eval"

echo "== u2net_export without the [export] extra: one line, exit 2"
"$bin/u2net_export" "$tmp/run/best.pt" "$tmp/m.onnx" 2> "$tmp/export.err"; rc=$?
cat "$tmp/export.err"
if "$py" -c "import onnx" 2>/dev/null; then [ "$rc" -eq 0 ] || fail "u2net_export (onnx is installed)"
else
  [ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/export.err")" -eq 1 ] && grep -q 'u2net_nb\[fast\]' "$tmp/export.err" \
    || fail "u2net_export without onnx: expected one line naming the extra and exit 2, got exit $rc"
fi
echo "install check: passed"
