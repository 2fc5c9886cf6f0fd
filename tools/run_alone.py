"""Run each notebook alone, the way Colab's "Run all" from its badge does: `python tools/run_alone.py [NB ...]`.

For every notebook (default: nbs/*.ipynb and nbs/benchmarks/*.ipynb):
1. static check: the first code cell that runs anything must be the Colab install cell (a `#| eval: false` cell with
   a `!pip install` line). Colab runs the cells top to bottom, so an import of u2net_nb above it stops "Run all".
2. the notebook is copied ALONE into an empty temporary folder and executed there with the installed package
   (not the checkout: the folder is not on sys.path, PYTHONPATH and U2NET_SHARED are unset), skipping cells exactly
   as nbdev_test does (the test flags of settings.ini, `#| eval: false`, the nbdev_export cell), in a fresh
   process per notebook with OMP_NUM_THREADS=1 and a time limit.
So a notebook that reads a file beside it (`images/...`, `files/...`), the shared data folder, or an uninstalled
package fails here. One line per notebook, then `N passed, N failed`; exit 1 if any failed.

Options: --workers 2 (notebooks at once), --timeout 600 (seconds per notebook), --flags "slow" (also run cells with
these flags), --without py_sod_metrics,rembg (make these modules unimportable, as on a runtime that lacks them),
--alt-numerics (run the notebooks with the math libraries on other code paths, the settings of tools/alt_numerics.py,
so that a test comparing floating-point results exactly fails on any machine), --default-paths REGEX (with
--alt-numerics: the notebooks whose file name matches stay on the default paths: those that compare no floats),
--order-only (only the static check of step 1), --keep (keep the temporary folders), --verbose (tracebacks).
"""
import argparse, configparser, json, os, re, shutil, signal, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+:?)\s*(.*)$')
_pip = re.compile(r'[!%]\s*pip\s+install\b')

def _directives(src):
    "Leading `#| name value` lines of a cell -> {name: value}, as nbdev reads them."
    d = {}
    for line in src.splitlines():
        if m := _dir.match(line): d[m[1]] = m[2].strip()
        elif line.strip(): break
    return d

def _runs_code(src):
    "Whether a cell has anything but blank lines, comments and directives (`#| default_exp x` runs nothing)."
    return any(l.strip() and not l.lstrip().startswith('#') for l in src.splitlines())

def _first_code_line(src):
    return next((l.strip() for l in src.splitlines() if l.strip() and not l.lstrip().startswith('#')), src.strip()[:60])

def order_problem(nb_path):
    "None, or why Colab's Run all reaches other code before the install cell."
    cells = json.loads(Path(nb_path).read_text(encoding='utf-8'))['cells']
    code = [(i, ''.join(c['source'])) for i, c in enumerate(cells) if c['cell_type'] == 'code']
    inst = [(i, s) for i, s in code if _directives(s).get('eval:', '').lower() == 'false'
            and any(_pip.search(l) and not l.lstrip().startswith('#') for l in s.splitlines())]
    if not inst: return "no Colab install cell (an `#| eval: false` cell with `!pip install`)"
    first, why = next((i, s) for i, s in code if _runs_code(s)), []
    if first[0] != inst[0][0]:
        why.append(f"cell {first[0]} ({_first_code_line(first[1])[:50]!r}) runs before the Colab install cell (cell {inst[0][0]})")
    if err := _ipython_error(inst[0][1]): why.append(f"the Colab install cell (cell {inst[0][0]}) does not run in IPython: {err}")
    return '; '.join(why) or None

def _ipython_error(src):
    "None, or why IPython cannot run `src` (a shell escape `!` works only at the start of a line)."
    from IPython.core.inputtransformer2 import TransformerManager
    try: compile(TransformerManager().transform_cell(src), '<cell>', 'exec')
    except SyntaxError as e: return f"{e.msg} at line {e.lineno}: {(e.text or '').strip()[:60]!r}"

def _error_line(e):
    "The exception as one line: its type and the first line of its message (two when the first ends with ':')."
    lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
    msg = ' '.join(lines[:2]) if lines and lines[0].endswith(':') and len(lines) > 1 else (lines[0] if lines else '')
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__

def worker(nb, result, skip_flags, force_flags, without):
    "Execute notebook `nb` like nbdev.test.test_nb (nbdev 2.4.14) and write a JSON result."
    for m in without: sys.modules[m] = None          # `import m` raises ModuleNotFoundError, find_spec(m) is None
    from fastcore.xtras import working_directory
    from fastcore.imports import IN_NOTEBOOK
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor, nb_lang
    from nbdev.frontmatter import FrontmatterProc
    nb = Path(nb)
    raw = json.loads(nb.read_text(encoding='utf-8'))['cells']
    code_idx = [i for i, c in enumerate(raw) if c['cell_type'] == 'code']   # processing keeps every code cell, in order
    if not IN_NOTEBOOK: os.environ['IN_TEST'] = '1'
    flags = set(skip_flags) - set(force_flags)
    pnb = NBProcessor(nb, procs=FrontmatterProc, process=True).nb
    fm = getattr(pnb, 'frontmatter_', {})
    out = dict(ok=True, ran=0, skipped=0, cell=None, error=None, source=None)
    if str(fm.get('skip_exec', False)).lower() in ('1', 'true', 'yes') or nb_lang(pnb) != 'python':
        out['skipped_nb'] = True; Path(result).write_text(json.dumps(out)); return
    pos = {id(c): k for k, c in enumerate(c for c in pnb.cells if c.cell_type == 'code')}
    cur = {}
    def _no_eval(cell):                                # nbdev.test.test_nb's rule, unchanged
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: skip = True
        else:
            direc = getattr(cell, 'directives_', {}) or {}
            skip = direc.get('eval:', [''])[0].lower() == 'false' or bool(flags & direc.keys())
        out['skipped' if skip else 'ran'] += 1
        if not skip: cur['cell'] = cell
        return skip
    k = CaptureShell(nb)
    try:
        with working_directory(nb.parent): k.run_all(pnb, exc_stop=True, preproc=_no_eval)
    except BaseException as e:
        c = cur.get('cell')
        out.update(ok=False, error=_error_line(k.exc or e), traceback=k.prettytb(fname=nb.name) if k.exc else repr(e),
                   cell=code_idx[pos[id(c)]] if c is not None else None, source=_first_code_line(c.source)[:70] if c is not None else None)
    Path(result).write_text(json.dumps(out))

def _alt_env() -> dict:
    "The settings of tools/alt_numerics.py for this machine."
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from alt_numerics import alt_env
    return alt_env()

def run_one(nb, args, skip_flags):
    "Copy `nb` alone into an empty folder, execute it in a fresh process; (ok, line, details)."
    rel = nb.relative_to(ROOT/'nbs').as_posix() if nb.is_relative_to(ROOT/'nbs') else str(nb)
    tmp = Path(tempfile.mkdtemp(prefix='u2net_alone_'))
    try:
        dest = tmp/nb.name; shutil.copyfile(nb, dest)
        res = tmp/'.result.json'
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'U2NET_SHARED')}
        env['OMP_NUM_THREADS'] = '1'
        alt = args.alt_numerics and not (args.default_paths and re.search(args.default_paths, nb.name))
        if alt: env.update(_alt_env())
        cmd = [sys.executable, '-I', str(Path(__file__).resolve()), '--worker', str(dest), str(res),
               '--skip', ' '.join(skip_flags), '--flags', args.flags, '--without', args.without]
        t0 = time.time()
        p = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try: log, _ = p.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL); p.communicate()
            return False, f"FAILED  {rel}: timed out after {args.timeout} s", ''
        secs = time.time() - t0
        if not res.exists():
            last = (log or '').strip().splitlines()[-1:] or [f'exit code {p.returncode}']
            return False, f"FAILED  {rel}: the runner crashed (exit code {p.returncode}): {last[0][:200]}", log
        r = json.loads(res.read_text())
        order = order_problem(nb)
        if r['ok'] and not order:
            what = 'not executed (skip_exec)' if r.get('skipped_nb') else f"{r['ran']} cells run, {r['skipped']} skipped"
            return True, f"passed  {rel} ({what}{', other math paths' if alt else ''}, {secs:.0f} s)", ''
        why = []
        if order: why.append(f"order: {order}")
        if not r['ok']: why.append(f"cell {r['cell']} ({r['source']!r}): {r['error'][:300]}")
        return False, f"FAILED  {rel}{' (other math paths)' if alt else ''}: " + '; '.join(why), r.get('traceback') or ''
    finally:
        if args.keep: print(f"        kept {tmp}")
        else: shutil.rmtree(tmp, ignore_errors=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: all of nbs/ and nbs/benchmarks/)')
    ap.add_argument('--workers', type=int, default=1); ap.add_argument('--timeout', type=int, default=600)
    ap.add_argument('--flags', default='', help='space-separated test flags to run anyway (like nbdev_test --flags)')
    ap.add_argument('--without', default='', help='comma-separated modules to make unimportable')
    ap.add_argument('--alt-numerics', action='store_true', help='math libraries on other code paths (tools/alt_numerics.py)')
    ap.add_argument('--default-paths', default='', help='with --alt-numerics: notebooks (file name regex) kept on the default paths')
    ap.add_argument('--keep', action='store_true'); ap.add_argument('--verbose', action='store_true', help='print tracebacks')
    ap.add_argument('--order-only', action='store_true', help='only the static install-cell check (seconds, no execution)')
    ap.add_argument('--worker', nargs=2, help=argparse.SUPPRESS); ap.add_argument('--skip', default='', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(*args.worker, args.skip.split(), args.flags.split(), [m for m in args.without.split(',') if m])
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
    skip_flags = cfg['DEFAULT'].get('tst_flags', '').split()
    nbs = [Path(n).resolve() for n in args.notebooks] or \
          [p for p in sorted((ROOT/'nbs').glob('*.ipynb')) + sorted((ROOT/'nbs'/'benchmarks').glob('*.ipynb'))
           if not p.name.startswith(('_', '.')) and not (p.parent/'.notest').exists()]
    missing = [str(n) for n in nbs if not n.is_file()]
    if missing: print(f"run_alone: error: notebook not found: {', '.join(missing)}", file=sys.stderr); return 2
    if args.order_only:
        bad = [(n, o) for n in nbs if (o := order_problem(n))]
        for n, o in bad: print(f"FAILED  {n.name}: order: {o}")
        print(f"{len(nbs) - len(bad)} passed, {len(bad)} failed"); return 1 if bad else 0
    print(f"running {len(nbs)} notebooks alone (skipped flags: {' '.join(sorted(set(skip_flags) - set(args.flags.split()))) or 'none'}"
          f"{'; without ' + args.without if args.without else ''}; {args.workers} at a time"
          f"{'; other math paths: ' + ' '.join(f'{k}={v}' for k, v in _alt_env().items()) if args.alt_numerics else ''})", flush=True)
    results = {}
    with ThreadPoolExecutor(max(1, args.workers)) as ex:
        futs = {ex.submit(run_one, nb, args, skip_flags): nb for nb in nbs}
        for f in as_completed(futs):
            ok, line, details = f.result(); results[futs[f]] = ok
            print(line, flush=True)
            if details and args.verbose and not ok: print(details, flush=True)
    failed = sum(not ok for ok in results.values())
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
