"""The library's modules form layers: each imports only modules of lower layers, at the top of the module.

    python tools/check_layers.py          # check, print the import table, import each module in a fresh interpreter

Fails (exit 1) on an import of a higher or equal layer (that is how circles start), on an import of a library
module inside a function (unless DEFERRED names it, with its reason; it must still be of a lower layer), on a module
missing from the table below, when a module does not import on its own in a fresh interpreter (in layer order, lowest
first), and when a module of TORCH_FREE imports PyTorch.
"""
import ast, subprocess, sys
from pathlib import Path

LAYERS = [                       # lowest first; a module may import only modules of the layers above it in this list
    ['core'],
    ['download', 'samples', 'layers', 'runtime'],
    ['rsu'],
    ['model'],
    ['weights'],
    ['data', 'synthetic', 'losses', 'metrics'],
    ['metrics_fast', 'fast', 'official'],
    ['distributed'],
    ['evaluate'],
    ['train'],
    ['predict', 'export'],
    ['proofs', 'cli'],           # multi-process proof workers; u2net_predict's module: nothing imports them
]
DEFERRED = {                     # module -> {lower-layer module imported inside a function: why}
    'cli': {'predict': "u2net_predict starts without PyTorch; predict (and PyTorch) only when a run needs them"},
}
TORCH_FREE = ['core', 'runtime', 'cli']   # importing these must not import PyTorch (the command line's fast start)
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
    for p in problems: print(p)
    print(f"layers: {len(table)} modules, {len(problems)} problems")
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main())
