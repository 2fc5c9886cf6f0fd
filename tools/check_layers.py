"""The library's modules form layers: each imports only modules of lower layers, at the top of the module.

    python tools/check_layers.py          # check, print the import table, import each module in a fresh interpreter

Also reads the docs sidebar (nbs/sidebar.yml): reading order is import order, so no notebook may import a module that a
notebook later in the sidebar exports (the front page, index.ipynb, excepted).

Fails (exit 1) on an import of a higher or equal layer (that is how circles start), on an import of a library
module inside a function (unless DEFERRED names it, with its reason; it must still be of a lower layer), on a module
missing from the table below, when a module does not import on its own in a fresh interpreter (in layer order, lowest
first), and when a module of TORCH_FREE imports PyTorch.
"""
import ast, json, re, subprocess, sys
from pathlib import Path

LAYERS = [                       # lowest first; a module may import only modules of the layers above it in this list
    ['core'],
    ['photos', 'download', 'samples', 'layers'],
    ['runtime', 'rsu'],
    ['model'],
    ['weights'],
    ['data', 'synthetic', 'losses', 'metrics'],
    ['metrics_fast', 'fast', 'official', 'cache'],
    ['training'],
    ['distributed'],
    ['evaluate'],
    ['train'],
    ['predict', 'export'],
    ['proofs', 'cli'],           # multi-process proof workers; u2net_predict's module: nothing imports them
]
DEFERRED = {                     # module -> {lower-layer module imported inside a function: why}
    'cli': {'predict': "u2net_predict starts without PyTorch; predict (and PyTorch) only when a run needs them"},
}
TORCH_FREE = ['core', 'photos', 'runtime', 'cli']   # importing these must not import PyTorch (the command line's fast start)
LEVEL = {m: i for i, layer in enumerate(LAYERS) for m in layer}

def library_imports(path:Path):
    "[(module imported, line, inside a function?)] for the library modules `path` imports."
    tree, found = ast.parse(path.read_text()), []
    def visit(node, in_func):
        for child in ast.iter_child_nodes(node):
            f = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                mod = child.module or ''
                if child.level == 1 and mod: found.append((mod.split('.')[0], child.lineno, f))
                elif child.level == 1: found.extend((a.name, child.lineno, f) for a in child.names)
                elif mod.startswith('u2net_nb.'): found.append((mod.split('.')[1], child.lineno, f))
            elif isinstance(child, ast.Import):
                found.extend((a.name.split('.')[1], child.lineno, f) for a in child.names if a.name.startswith('u2net_nb.'))
            visit(child, f)
    visit(tree, False)
    return found

_IMPORT = re.compile(r'^\s*(?:from\s+u2net_nb\.(\w+)\s+import|from\s+u2net_nb\s+import\s+([\w, ]+)|import\s+u2net_nb\.(\w+))', re.M)

def sidebar_order(nbs:Path) -> list[str]:
    "Notebooks in the order the docs sidebar lists them (sections flattened)."
    import yaml
    out = []
    def walk(items):
        for it in items or []:
            if isinstance(it, str): out.append(it)
            elif isinstance(it, dict): walk(it.get('contents'))
    walk((yaml.safe_load((nbs/'sidebar.yml').read_text()) or {}).get('website', {}).get('sidebar', {}).get('contents'))
    return out

def notebook_modules(path:Path) -> tuple[set, set]:
    "(modules the notebook exports, library modules its code cells import)."
    nb = json.loads(path.read_text())
    exports, imports = set(), set()
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        s = ''.join(c['source'])
        if m := re.search(r'^#\|\s*default_exp\s+(\w+)', s, re.M): exports.add(m[1])
        exports.update(re.findall(r'^#\|\s*exports?\s+(\w+)\s*$', s, re.M))
        for a, b, d in _IMPORT.findall(s):
            imports.update([a] if a else [d] if d else [x.strip() for x in b.split(',') if x.strip()])
    return exports, imports

def sidebar_problems(nbs:Path) -> list[str]:
    "Each import of a module exported by a notebook later in the sidebar (the front page excepted)."
    order = sidebar_order(nbs)
    info = {n: notebook_modules(nbs/n) for n in order if (nbs/n).exists()}
    owner = {m: n for n in order if n in info for m in info[n][0]}
    pos = {n: i for i, n in enumerate(order)}
    problems = [f"nbs/{n}: in the sidebar but missing" for n in order if not (nbs/n).exists()]
    listed = set(order)
    problems += [f"nbs/{p.relative_to(nbs).as_posix()}: not in the sidebar (nbs/sidebar.yml)"
                 for p in sorted(nbs.rglob('*.ipynb'))
                 if not any(x.startswith(('_', '.')) for x in p.relative_to(nbs).parts) and p.relative_to(nbs).as_posix() not in listed]
    for n in order:
        if n == 'index.ipynb' or n not in info: continue
        for m in sorted(info[n][1]):
            if m in owner and pos[owner[m]] > pos[n]:
                problems.append(f"nbs/{n} imports u2net_nb.{m}, which nbs/{owner[m]} exports later in the sidebar")
    return problems

def main() -> int:
    lib = Path(__file__).resolve().parent.parent/'u2net_nb'
    mods = sorted(p.stem for p in lib.glob('*.py') if not p.stem.startswith('_'))
    problems, table = [], []
    for m in mods:
        if m not in LEVEL: problems.append(f"u2net_nb/{m}.py: not in the layer table of tools/check_layers.py"); continue
        deps = library_imports(lib/f'{m}.py')
        for d, line, in_func in deps:
            if d not in LEVEL: problems.append(f"u2net_nb/{m}.py:{line}: imports {d}, which is not in the layer table")
            elif LEVEL[d] >= LEVEL[m]: problems.append(f"u2net_nb/{m}.py:{line}: imports {d} (layer {LEVEL[d]}), not below {m} (layer {LEVEL[m]})")
            if in_func and d not in DEFERRED.get(m, {}): problems.append(f"u2net_nb/{m}.py:{line}: imports {d} inside a function")
        table.append((LEVEL[m], m, sorted({d for d, _, _ in deps})))
    print(f"{'layer':>5}  {'module':13} imports")
    for lvl, m, deps in sorted(table): print(f"{lvl:>5}  {m:13} {', '.join(deps) or '-'}")
    for lvl, m, _ in sorted(table):       # each module on its own, lowest layer first
        r = subprocess.run([sys.executable, '-c', f'import u2net_nb.{m}'], capture_output=True, text=True)
        if r.returncode: problems.append(f"u2net_nb.{m} does not import in a fresh interpreter: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    for m in TORCH_FREE:
        r = subprocess.run([sys.executable, '-c', f'import sys, u2net_nb.{m}; print("torch" in sys.modules)'], capture_output=True, text=True)
        if r.stdout.strip() != 'False': problems.append(f"u2net_nb.{m} imports PyTorch (it must not: {', '.join(TORCH_FREE)} run without it)")
    side = sidebar_problems(lib.parent/'nbs')
    problems += side
    for p in problems: print(p)
    print(f"layers: {len(table)} modules, {len(problems)} problems ({len(side)} of reading order in the sidebar)")
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main())
