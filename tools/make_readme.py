"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

Markdown cells are copied, code cells become ```python blocks (directive lines removed; `#| hide` cells and
`#| eval: false` *setup* cells keep nbdev's meaning: hidden cells are left out), text outputs become plain blocks.
Links to `images/...` are rewritten to `nbs/images/...` so they resolve from the repository root.
`python tools/make_readme.py --check` exits 1 if README.md is not up to date.
"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)')

def render(nb_path=root / 'nbs' / 'index.ipynb') -> str:
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            src = re.sub(r'(\]\(|src=")images/', r'\1nbs/images/', src)
            parts.append(re.sub(r'\]\(((?:[\w-]+/)*[\w-]+\.html)', rf'](https://u2net-nb.github.io/u2net_nb/\1', src))
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            dirs = {m[1] for l in lines if (m := _dir.match(l))}
            if 'hide' in dirs: continue
            code = '\n'.join(l for l in lines if not _dir.match(l)).strip('\n')
            if code: parts.append(f"```python\n{code}\n```")
            for o in c.get('outputs', []):
                text = ''.join(o.get('text', '')) or ''.join(o.get('data', {}).get('text/plain', ''))
                if text.strip(): parts.append(f"```\n{text.rstrip()}\n```")
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n" + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), root / 'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text(encoding='utf-8') == text
        print('README.md is in sync with nbs/index.ipynb' if ok else 'README.md differs from nbs/index.ipynb: run python tools/make_readme.py')
        sys.exit(0 if ok else 1)
    readme.write_text(text, encoding='utf-8'); print('wrote', readme)
