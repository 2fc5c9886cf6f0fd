"""Lint the notebooks for problems nbdev does not catch itself.

1. A non-exported cell that mixes imports with other code: the docs build (`nbdev.serve.proc_nbs`) re-runs every
   cell containing an import, out of context, so such a cell fails there (or silently runs a benchmark).
2. Notebooks whose committed outputs are too large for the docs site and the repository.

Exit code 1 and one line per problem if anything is found.
"""
import ast, json, re, sys
from pathlib import Path

MAX_NB_BYTES = 600_000
_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)(:?)\s*(.*)$')

def directives(src):
    d = {}
    for line in src.splitlines():
        if m := _dir.match(line): d[m[1] + m[2]] = m[3].strip()
        elif line.strip(): break
    return d

def problems(path):
    nb = json.loads(path.read_text(encoding='utf-8'))
    if path.stat().st_size > MAX_NB_BYTES:
        yield f"{path}: {path.stat().st_size:,} bytes (limit {MAX_NB_BYTES:,}): shrink the committed outputs"
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        d = directives(src)
        if 'nbdev_export' + '()' in src: continue   # nbdev never re-runs the export cell
        if d.keys() & {'export', 'exports', 'exporti', 'export:', 'exports:'} or d.get('eval:', '').lower() == 'false': continue
        code = '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in src.splitlines())
        try: tree = ast.parse(code)
        except SyntaxError as e:
            yield f"{path} cell {i}: does not parse ({e.msg})"; continue
        has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree))
        def import_only(n):   # an import, or `try: import ... except ImportError: name = None` for optional packages
            if isinstance(n, (ast.Import, ast.ImportFrom)): return True
            return isinstance(n, ast.Try) and all(isinstance(b, (ast.Import, ast.ImportFrom)) for b in n.body) and \
                   all(isinstance(b, (ast.Assign, ast.Pass)) for h in n.handlers for b in h.body)
        others = [n for n in tree.body if not import_only(n)]
        if has_import and others:
            yield f"{path} cell {i}: mixes imports with other code (put the imports in a cell of their own): {src.splitlines()[0][:60]!r}"

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent / 'nbs'
    found = [p for nb in sorted(root.glob('*.ipynb')) + sorted(root.glob('benchmarks/*.ipynb')) for p in problems(nb)]
    for p in found: print(p)
    sys.exit(1 if found else 0)
