"""Docs check: what a reader of the rendered site would see as broken, found in nbdev's processed notebooks.

Quarto renders the notebooks *after* nbdev's processing step (front matter, show_doc cells re-run, backticked names
turned into links, hidden cells removed). This script runs that same step (nbdev's `FilterDefaults`, what
`proc_nbs` runs) into memory, or reads an existing `_proc` folder with `--proc`, and reports, with notebook and
cell, each of these problems:

  output       a committed cell shows an error, a traceback or a Python warning (stderr)
  signature    a parameter comment with a backticked name: nbdev links it, and the link shows as raw markdown
               inside the rendered signature
  boilerplate  a documented method whose description is Python's built-in text ("Call self as a function.",
               "Return repr(self).", ...): give it a docstring or keep it out of the docs
  private      a link to a private name (`_paint`): nbdev's backtick auto-linking found it in the index, the page
               has no entry for it
  mode-link    a backticked word followed by "mode" ("`train` mode") that nbdev linked to a function
  anchor       a link to a page or an anchor the site will not have (anchors computed as Pandoc does)
  image        an image referenced in markdown that is missing (or that docs processing does not copy)
  table        an empty cell in a markdown table under a column with a header (write the value, or "n/a")
  front-matter the title cell holds more than `# Title` and `> summary`: nbdev drops the whole cell
  source       a show_doc [source] link that points at line "None" (a member nbdev cannot find in the module)
  processing   nbdev's docs processing itself fails on the notebook (the site build would stop there)
  install      the front page's package list (after `<!-- requirements -->`) differs from settings.ini
  nested-link  a link inside a link's text (a backticked name in a link's text gets linked again by nbdev, and the
               outer link then renders as literal text)
  course-source  a course page (the sidebar's "Course" section) exports a public class or function whose source the
               page does not show (`#| export` shows a signature only: use `#| exports`)
  long-line    a course page shows a code line longer than 100 characters
  course-end   a course page does not end with the sections `## Summary` and `## Exercises`

Usage: python tools/check_docs.py [--proc DIR] [NOTEBOOK ...]   |   python tools/check_docs.py --self-test
Ends with a line `docs check: N problems`; exits 1 when N > 0.
"""
from __future__ import annotations
import argparse, configparser, json, os, re, sys, tempfile, time, types, warnings
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

class Problem(NamedTuple):
    nb: str      # notebook, relative to the notebooks folder
    cell: str    # source cell ("cell 12") or where a processed-only cell sits ("after cell 12")
    kind: str
    msg: str
    def __str__(self): return f"{self.nb} {self.cell}: [{self.kind}] {self.msg}"

# ---------------------------------------------------------------------------------------------------- processing
def settings(root:Path) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(); cp.read(root/'settings.ini', encoding='utf-8')
    return cp['DEFAULT']

def site_url(st) -> str:
    host, base = st.get('doc_host', '').rstrip('/'), st.get('doc_baseurl', '').strip('/')
    return f"{host}/{base}".rstrip('/') + '/'

def source_notebooks(nbs:Path) -> list[Path]:
    "Notebooks the docs build processes (nbdev's rules: skip files and folders starting with `_` or `.`)."
    return sorted(p for p in nbs.rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(nbs).parts))

FAILED = {}   # notebook -> why nbdev's processing failed on it (the docs build would fail there too)

def process(paths:list[Path], notes:bool=True) -> dict[Path, dict]:
    "Run nbdev's docs processing (what `proc_nbs` runs for each notebook) in this process; return the notebooks."
    from execnb.nbio import read_nb, nb2str
    from nbdev.processors import FilterDefaults
    out, before = {}, os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'                      # as nbdev.serve_drv.main does while processing
    try:
        for p in paths:
            with warnings.catch_warnings(record=True) as ws:
                warnings.simplefilter('always')
                try:
                    nb = read_nb(p); FilterDefaults()(nb)
                    out[p] = json.loads(nb2str(nb))     # plain dicts, as proc_nbs writes them to _proc
                except Exception as e:
                    cause = e.__cause__ or e
                    FAILED[p] = f"{str(e).splitlines()[0][:120]} ({type(cause).__name__}: {str(cause)[:120]})"
            for w in ws if notes else []: print(f"note: {p.name}: {str(w.message).splitlines()[0]}", file=sys.stderr)
    finally:
        if before is None: del os.environ['IN_TEST']
        else: os.environ['IN_TEST'] = before
    return out

# ---------------------------------------------------------------------------------------------------- markdown helpers
_fence = re.compile(r'^\s*(```|~~~)')

def split_fences(md:str) -> tuple[str, list[str]]:
    "Markdown outside code fences (fenced lines blanked, so line numbers hold) and the fenced blocks' texts."
    outside, blocks, cur = [], [], None
    for line in md.splitlines():
        if _fence.match(line):
            if cur is None: cur = []
            else: blocks.append('\n'.join(cur)); cur = None
            outside.append(''); continue
        if cur is not None: cur.append(line); outside.append('')
        else: outside.append(line)
    if cur is not None: blocks.append('\n'.join(cur))
    return '\n'.join(outside), blocks

_code_span = re.compile(r'(`+)(.+?)\1')
_math = re.compile(r'\$[^$\n]+\$')
_link = re.compile(r'(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
_html_attr = re.compile(r'<(a|img)\b[^>]*?\b(href|src)\s*=\s*["\']([^"\']+)["\']', re.I)

def links(md:str) -> list[tuple[str, str, int, int, bool]]:
    "(text, url, start, end, is_image) for markdown links/images and HTML <a href>/<img src> outside code fences."
    text, _ = split_fences(md)
    res = [(m[2], m[3], m.start(), m.end(), m[1] == '!') for m in _link.finditer(text)]
    res += [('', m[3], m.start(), m.end(), m[1].lower() == 'img') for m in _html_attr.finditer(text)]
    return res

def plain(md:str, emphasis:bool=True) -> str:
    "Heading text as Pandoc sees it: links become their text, code and emphasis markers go."
    s = re.sub(r'\{[^}]*\}\s*$', '', md)                        # trailing {#id .class}
    s = _link.sub(lambda m: m[2], s)
    s = re.sub(r'<[^>]+>', '', s)
    spans = []
    s = _code_span.sub(lambda m: spans.append(m[2]) or f'\0{len(spans)-1}\0', s)
    s = s.replace('*', '')
    # `_x_` / `__x__` is emphasis unless the underscores sit inside a word (Pandoc's intraword_underscores)
    if emphasis: s = re.sub(r'(?<![0-9A-Za-z_])(_{1,2})(?=\S)(.+?)(?<=\S)\1(?![0-9A-Za-z_])', r'\2', s)
    return re.sub(r'\0(\d+)\0', lambda m: spans[int(m[1])], s)

def pandoc_id(heading:str, emphasis:bool=True) -> str:
    "Pandoc's auto_identifiers for a heading's text (what Quarto uses for section anchors)."
    s = plain(heading, emphasis)
    s = ''.join(c for c in s if c.isalnum() or c in '_-. \n\t')
    s = re.sub(r'\s+', '-', s.strip()).lower()
    s = re.sub(r'^[^a-z]+', '', s) if not s[:1].isalpha() else s
    return s or 'section'

_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$')
_explicit_id = re.compile(r'\{[^}]*#([\w.:-]+)[^}]*\}|\bid\s*=\s*["\']([^"\']+)["\']')

def anchors_of(texts:list[str]) -> set[str]:
    "Every anchor a page will have: headings' identifiers (deduplicated as Pandoc does) and explicit ids."
    seen, res = {}, set()
    for t in texts:
        outside, _ = split_fences(t)
        for line in outside.splitlines():
            if (m := _heading.match(line)):
                # `Class.__add__` may read as emphasis (anchor `class.add`) or not: accept both spellings
                for base in {pandoc_id(m[2]), pandoc_id(m[2], emphasis=False)}:
                    n = seen.get(base, 0); seen[base] = n + 1
                    res.add(base if n == 0 else f"{base}-{n}")
        for m in _explicit_id.finditer(outside): res.add(m[1] or m[2])
    return res

def table_rows(md:str):
    "Markdown tables outside code fences: yields (header cells, body rows as cell lists)."
    outside, _ = split_fences(md)
    lines, i = outside.splitlines(), 0
    def cells(l):
        "Split a row on its pipes, not on those inside code spans or math (masked, same length, to find them)."
        l = l.strip()
        masked = _code_span.sub(lambda m: 'x' * len(m[0]), _math.sub(lambda m: 'm' * len(m[0]), l))
        cuts = [m.start() for m in re.finditer(r'(?<!\\)\|', masked)]
        if cuts and cuts[0] == 0: cuts = cuts[1:]; start = 1
        else: start = 0
        if cuts and cuts[-1] == len(l) - 1: cuts = cuts[:-1]; end = len(l) - 1
        else: end = len(l)
        bounds = [start] + [c + 1 for c in cuts]
        return [l[a:b].strip() for a, b in zip(bounds, cuts + [end])]
    while i < len(lines) - 1:
        if '|' in lines[i] and re.match(r'^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$', lines[i+1]):
            head, body, j = cells(lines[i]), [], i + 2
            while j < len(lines) and '|' in lines[j] and lines[j].strip(): body.append((lines[j], cells(lines[j]))); j += 1
            yield head, body; i = j
        else: i += 1

# ---------------------------------------------------------------------------------------------------- detectors
def _boilerplate() -> set[str]:
    "First lines of the docstrings Python gives methods that have none of their own."
    res = {"Call self as a function.", "Initialize self.  See help(type(self)) for accurate signature."}
    for t in (object, type, int, float, str, bytes, list, tuple, dict, set, BaseException, types.FunctionType,
              types.MethodType, types.SimpleNamespace):
        for a in dir(t):
            d = getattr(getattr(t, a, None), '__doc__', None)
            if isinstance(d, str) and d.strip() and a.startswith('__'): res.add(d.strip().splitlines()[0].strip())
    return res
BOILERPLATE = _boilerplate()

_warn_line = re.compile(r'^(?:\S.*?:\d+: )?(\w*(?:Warning|Error|Exception))\b:?(.*)$')

def output_problems(cell:dict) -> list[tuple[str, str]]:
    res = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'error':
            res.append(('output', f"error output {o.get('ename', '')}: {str(o.get('evalue', ''))[:100]}"))
        elif o.get('output_type') == 'stream' and o.get('name') == 'stderr':
            text = ''.join(o.get('text', ''))
            if 'Traceback (most recent call last)' in text: res.append(('output', 'a traceback on stderr')); continue
            for line in text.splitlines():
                if (m := _warn_line.match(line.strip())):
                    res.append(('output', f"stderr shows {m[1]}:{m[2][:100]}")); break
    return res

def is_show_doc(md:str) -> bool: return md.lstrip().startswith('---') and '```python' in md

def show_doc_problems(md:str) -> list[tuple[str, str]]:
    res, name = [], (re.search(r'^#+\s+(.+)$', md, re.M) or [None, '?'])[1]
    _, blocks = split_fences(md)
    for line in (blocks[0].splitlines() if blocks else []):
        if re.search(r'\]\((?:https?:|[\w./-]+\.html)', line):
            code = line.split('#')[0].strip()
            what = 'the return value' if code.startswith(')') else f"parameter {code.split(':')[0].split('=')[0].strip(' ,(')!r}"
            res.append(('signature', f"{name}: the comment of {what} renders as a raw markdown link "
                                     f"(no backticks in parameter comments): {line.strip()[:90]}"))
    if re.search(r'\[source\]\([^)]*#LNone\)', md):
        res.append(('source', f"{name}: its [source] link points at line None (nbdev finds no line for it: define it "
                              f"at top level, e.g. with @patch)"))
    after = md.split('```')[-1].strip()
    desc = after.split('\n\n')[0].strip().strip('*').strip()
    if desc in BOILERPLATE: res.append(('boilerplate', f"{name} is documented with Python's boilerplate {desc!r}"))
    return res

def table_problems(md:str) -> list[tuple[str, str]]:
    res = []
    for head, body in table_rows(md):
        for raw, cells in body:
            for k, c in enumerate(cells):
                if not c and k < len(head) and head[k]:
                    row = next((x for x in cells if x), '?')
                    res.append(('table', f"empty cell under {head[k]!r} in the row {row[:60]!r}"))
    return res

# ---------------------------------------------------------------------------------------------------- the check
class Page(NamedTuple):
    src: Path            # source notebook
    rel: str             # its path relative to the notebooks folder
    html: str            # the page it renders to, relative to the site root
    nb: dict             # processed notebook

def _texts(cell:dict) -> list[tuple[str, bool]]:
    "Markdown a cell shows: (text, is_show_doc_output)."
    res = [(''.join(cell['source']), False)] if cell['cell_type'] == 'markdown' else []
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md: md = ''.join(md); res.append((md, is_show_doc(md)))
    return res

def _fm(nb:dict) -> dict:
    import yaml
    for c in nb['cells'][:1]:
        if c['cell_type'] == 'raw':
            s = ''.join(c['source']).strip().strip('-')
            try: return yaml.safe_load(s) or {}
            except Exception: return {}
    return {}

def front_matter_problems(src:dict) -> list[tuple[int, str]]:
    "The first markdown cell with a `# Title`: anything beyond title, `> summary` and `- key: value` is dropped."
    for i, c in enumerate(src['cells']):
        if c['cell_type'] != 'markdown': continue
        lines = [l for l in ''.join(c['source']).splitlines() if l.strip()]
        if not lines or not lines[0].startswith('# '): return []
        extra = [l for l in lines[1:] if not re.match(r'^\s*(>|-\s+\w[\w-]*\s*:)', l)]
        return [(i, f"the title cell has {len(extra)} more line(s) that nbdev's front-matter step drops "
                    f"(first: {extra[0][:60]!r}): move them to the next cell")] if extra else []
    return []

def install_problems(src:dict, st) -> list[tuple[int, str]]:
    want = sorted(re.split(r'[<>=!~;\[ ]', r)[0].lower() for r in st.get('requirements', '').split())
    for i, c in enumerate(src['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and '<!-- requirements -->' in s:
            after = s.split('<!-- requirements -->', 1)[1].strip().splitlines()
            got = sorted(after[0].strip('` ').lower().split()) if after else []
            if got != want:
                return [(i, f"the package list {' '.join(got)!r} differs from settings.ini requirements "
                            f"(missing: {sorted(set(want) - set(got))}, extra: {sorted(set(got) - set(want))})")]
            return []
    return [(-1, "no `<!-- requirements -->` line before the package list on the front page")]

def _inserted_cell(c:dict, src:dict, last) -> str:
    "Where a cell that processing added sits: a show_doc output points to the exported cell defining its name."
    for md, sd in _texts(c):
        if sd and (m := re.search(r'^#+\s+(\S+)', md, re.M)):
            name = m[1].split('.')[-1]
            hits = [i for i, sc in enumerate(src['cells']) if sc['cell_type'] == 'code'
                    and re.search(rf'^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b', ''.join(sc['source']), re.M)]
            after = [i for i in hits if last is None or i > last]
            if hits: return f"cell {(after or hits)[0]} (show_doc of {m[1]})"
    return f"after cell {last}" if last is not None else 'page start'

COURSE_LINE = 100                                   # longest code line a course page may show

def course_pages(nbs:Path) -> set[str]:
    "Notebooks (relative to `nbs`) listed under the sidebar's section 'Course'."
    import yaml
    f = nbs/'sidebar.yml'
    if not f.exists(): return set()
    out = set()
    def walk(items, inside):
        for it in items or []:
            if isinstance(it, str):
                if inside: out.add(it)
            elif isinstance(it, dict):
                walk(it.get('contents'), inside or str(it.get('section', '')).strip().lower() == 'course')
    walk((yaml.safe_load(f.read_text()) or {}).get('website', {}).get('sidebar', {}).get('contents'), False)
    return out

_NESTED = re.compile(r'\[[^\]\n]*(?<!!)\[[^\]\n]*\]\([^)\s]*\)[^\]\n]*\]\(')   # an image inside a link is fine

def exported_names(src:dict) -> list[tuple[int, str]]:
    "(cell, name) of each public top-level class or function that a cell exports (`#| export` or `#| exports`)."
    import ast
    out = []
    for i, c in enumerate(src['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] != 'code' or not re.search(r'^#\|\s*exports?\b', s, re.M): continue
        code = '\n'.join(l for l in s.splitlines() if not l.lstrip().startswith(('%', '!')))
        try: tree = ast.parse(code)
        except SyntaxError: continue
        out += [(i, n.name) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and not n.name.startswith('_')]
    return out

def shown_code(nb:dict) -> list[str]:
    "Sources of the code cells the processed page shows (not `echo: false`)."
    return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code'
            and not re.search(r'^#\|\s*echo:\s*false', ''.join(c['source']), re.M)]

def course_problems(src:dict, nb:dict) -> list[tuple[str, str, str]]:
    "(where, kind, message) for a course page: hidden definitions and long lines."
    shown, probs = shown_code(nb), []
    for i, name in exported_names(src):
        pat = re.compile(rf'^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b', re.M)
        if not any(pat.search(s) for s in shown):
            probs.append((f"cell {i}", 'course-source', f"{name} is exported but its source is not shown "
                                                        "(use `#| exports`)"))
    heads = [l.strip() for c in src['cells'] if c['cell_type'] == 'markdown'
             for l in ''.join(c['source']).splitlines() if l.startswith('## ')]
    if heads[-2:] != ['## Summary', '## Exercises']:
        probs.append(('page', 'course-end', f"the page must end with '## Summary' and '## Exercises' "
                                            f"(its last sections: {heads[-2:]})"))
    for s in shown:
        for line in s.splitlines():
            if len(line) > COURSE_LINE and not line.startswith('#|'):
                probs.append(('page', 'long-line', f"a shown code line has {len(line)} characters "
                                                   f"(at most {COURSE_LINE}): {line.strip()[:60]!r}"))
    return probs

def check(nbs:Path, processed:dict[Path, dict], st, root:Path=ROOT, course:set|None=None) -> list[Problem]:
    site = site_url(st)
    course = course_pages(nbs) if course is None else course
    pages = {}
    for src, nb in processed.items():
        rel = src.relative_to(nbs).as_posix()
        out = _fm(nb).get('output-file') or Path(rel).with_suffix('.html').name
        html = (Path(rel).parent / out).as_posix()
        pages[html] = Page(src, rel, html, nb)
    anchors = {h: anchors_of([t for c in p.nb['cells'] for t, _ in _texts(c)]) for h, p in pages.items()}
    problems = []
    for html, p in sorted(pages.items(), key=lambda x: x[1].rel):
        src_nb = json.loads(p.src.read_text(encoding='utf-8'))
        ids = {c.get('id'): i for i, c in enumerate(src_nb['cells']) if c.get('id')}
        def add(where, kind, msg): problems.append(Problem(p.rel, where, kind, msg))
        for i, msg in front_matter_problems(src_nb): add(f"cell {i}", 'front-matter', msg)
        if p.rel in course:
            for where, kind, msg in course_problems(src_nb, p.nb): add(where, kind, msg)
        if p.rel == st.get('readme_nb', 'index.ipynb'):
            for i, msg in install_problems(src_nb, st): add(f"cell {i}" if i >= 0 else 'page', 'install', msg)
        last = None
        for c in p.nb['cells']:
            if c.get('id') in ids: last = ids[c['id']]; where = f"cell {last}"
            else: where = _inserted_cell(c, src_nb, last)
            for kind, msg in output_problems(c): add(where, kind, msg)
            for md, sd in _texts(c):
                if sd:
                    for kind, msg in show_doc_problems(md): add(where, kind, msg)
                else:
                    for kind, msg in table_problems(md): add(where, kind, msg)
                outside, _ = split_fences(md)
                for m in _NESTED.finditer(outside):
                    add(where, 'nested-link', f"a link inside a link's text renders as literal text: "
                                              f"{m[0][:70]!r} (drop the backticks in the link's text)")
                for text, url, s, e, img in links(md):
                    if img:
                        if re.match(r'^(\w+:|//)', url) or not url: continue
                        f = (p.src.parent / url.split('#')[0].split('?')[0])
                        rel_parts = f.resolve().relative_to(nbs.resolve()).parts if f.resolve().is_relative_to(nbs.resolve()) else ()
                        if not f.exists(): add(where, 'image', f"image {url} does not exist")
                        elif any(x.startswith(('_', '.')) for x in rel_parts):
                            add(where, 'image', f"image {url} is not copied by docs processing (name starts with _ or .)")
                        continue
                    if url.startswith(site): target = url[len(site):]
                    elif re.match(r'^(\w+:|//)', url): continue
                    else:
                        base = Path(html).parent
                        target = url if url.startswith('#') else os.path.normpath((base / url).as_posix())
                    page, _, anchor = target.partition('#')
                    page = page or html
                    label = text or url
                    sym = anchor.split('.')[-1]
                    if sym.startswith('_') and not (sym.startswith('__') and sym.endswith('__')) or re.fullmatch(r'`_[^_`][^`]*`', text or ''):
                        add(where, 'private', f"{label} links to the private name {anchor or text!r} ({url}): "
                                              f"drop the backticks or the underscore"); continue
                    if re.match(r'`[^`]+`$', text or '') and re.match(r'\s*-?\s*mode\b', outside[e:e+12]):
                        add(where, 'mode-link', f"\"{text} mode\" is auto-linked to {target}: the mode is meant; "
                                                f"write it without backticks"); continue
                    if page.endswith('.ipynb'):       # Quarto links a project notebook to the page it renders to
                        page = next((h for h, q in pages.items() if q.rel == page), page)
                        if page.endswith('.ipynb'): add(where, 'anchor', f"{label} links to {url}: no notebook {page}"); continue
                    if not page.endswith('.html'): continue
                    if page not in pages: add(where, 'anchor', f"{label} links to {url}: no page {page}"); continue
                    if anchor and anchor not in anchors[page]:
                        add(where, 'anchor', f"{label} links to {url}: {page} has no anchor #{anchor}")
    return problems

# ---------------------------------------------------------------------------------------------------- self-test
def _md(s): return {'cell_type': 'markdown', 'id': None, 'metadata': {}, 'source': s}
def _code(s, outputs=()): return {'cell_type': 'code', 'id': None, 'metadata': {}, 'source': s,
                                  'execution_count': None, 'outputs': list(outputs)}
def _nb(cells):
    for i, c in enumerate(cells): c['id'] = f"c{i:07d}"
    return {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python',
            'name': 'python3'}}, 'nbformat': 4, 'nbformat_minor': 5}

def self_test() -> int:
    "Each detector on small crafted notebooks run through nbdev's processing; a clean one must give nothing."
    st = configparser.ConfigParser(); st.read_string(
        "[DEFAULT]\ndoc_host = https://example.github.io\ndoc_baseurl = /demo\nreadme_nb = index.ipynb\n"
        "requirements = numpy>=1 scipy\n"); st = st['DEFAULT']
    site = site_url(st)
    fm = lambda t: _md(f"# {t}\n\n> One line about {t}.")
    bad = _nb([
        _code("#| default_exp demo"),
        _md("# Demo\n\n> A summary.\n\nAn introduction that nbdev drops."),                     # front-matter
        _md(f"## Things\n\nSee [`Thing`]({site}demo.html#thing), [`_scribble`]({site}demo.html#_scribble),\n"
            f"[`Thing.split`]({site}demo.html#thing.split), [nothing]({site}nowhere.html), [gone](gone.ipynb) and\n"
            f"(in [`teach`]({site}demo.html#things) mode).\n\n![arch](images/missing.png)\n\n"
            "| metric | value |\n|---|---|\n| MAE | 0.04 |\n| E-measure | |\n\n"
            f"The [`U2Net`]({site}demo.html#thing) class again.\n"),
        _code("#| export\nclass Thing:\n    \"A thing.\"\n    def __init__(self,\n"
              "                 x:int=0): # like `U2Net`\n        self.x = x\n"
              "    def __repr__(self): return 'Thing()'"),
        _code("show_doc(Thing.__repr__)"),
        _code("x = 1  # " + "a comment that makes this shown line far longer than a course page allows, " * 2),
        # what show_doc gives for a classmethod defined inside a class of the library (seen in real output)
        _code("Markdown(doc)", [{'output_type': 'execute_result', 'execution_count': None, 'metadata': {}, 'data': {
              'text/markdown': [f"---\n\n[source](https://github.com/x/demo/blob/main/demo/demo.py#LNone)"
                                "{target=\"_blank\"}\n\n### Other.make\n\n```python\ndef make():\n```\n\n*Make one.*"],
              'text/plain': ["<Markdown>"]}}]),
        _code("import warnings", [{'output_type': 'stream', 'name': 'stderr',
              'text': ["/x/u2net.py:23: UserWarning: `upsample` is deprecated.\n", "  src = F.upsample(src)\n"]}]),
        _code("1/0", [{'output_type': 'error', 'ename': 'ZeroDivisionError', 'evalue': 'division by zero',
                       'traceback': []}]),
    ])
    clean = _nb([
        _code("#| default_exp demo2"), fm("Clean"),
        _md("An introduction with a figure.\n\n![arch](images/present.png)\n\n## Section one\n\n"
            f"A link to [a section]({site}clean.html#section-one), [the other page](demo.html), [its notebook](demo.ipynb#things),\n"
            "a mode in train mode.\n\n"
            "| | a | b |\n|---|---|---|\n| row | 1 | 2 |\n| `x|y` | $|v|$ | 3 |\n\n```\n| not | a table |\n|---|---|\n| x | |\n```\n"),
        _code("#| exports\ndef add_one(x:int): # the number\n    \"Add one to `x`.\"\n    return x + 1"),
        _code("#| echo: false\ny = 2  # " + "hidden from the page, so its length does not matter at all here " * 2),
        _md("## Summary\n\n- One idea.\n\n## Exercises\n\n1. Try it."),
        _code("print('fine')", [{'output_type': 'stream', 'name': 'stdout', 'text': ["fine\n"]},
                                {'output_type': 'stream', 'name': 'stderr', 'text': ["100%|####| 3/3\n"]}]),
    ])
    index = _nb([fm("demo"), _md("## Install\n\n<!-- requirements -->\n`numpy scipy`\n")])
    expect = {'front-matter': 1, 'private': 1, 'anchor': 3, 'mode-link': 1, 'image': 1, 'table': 1,
              'signature': 1, 'boilerplate': 1, 'output': 2, 'source': 1, 'nested-link': 1, 'course-source': 1,
              'long-line': 1, 'course-end': 1}
    with tempfile.TemporaryDirectory() as d:
        nbs = Path(d)
        (nbs/'images').mkdir(); (nbs/'images'/'present.png').write_bytes(b'\x89PNG\r\n\x1a\n')
        broken = _nb([fm("Broken"), _code("#| export\nraise RuntimeError('boom at import')")])
        for name, nb in [('demo.ipynb', bad), ('clean.ipynb', clean), ('index.ipynb', index), ('broken.ipynb', broken)]:
            (nbs/name).write_text(json.dumps(nb, indent=1))
        processed = process(source_notebooks(nbs), notes=False)
        probs = check(nbs, processed, st, root=nbs, course={'demo.ipynb', 'clean.ipynb'})
        ok = list(FAILED) == [nbs/'broken.ipynb'] and 'boom at import' in FAILED[nbs/'broken.ipynb']
        if not ok: print(f"self-test: expected only broken.ipynb to fail processing, got {FAILED}")
        got = {}
        for p in probs: got[p.kind] = got.get(p.kind, 0) + (p.nb == 'demo.ipynb')
        for p in probs: print('  ', p)
        for kind, n in expect.items():
            if got.get(kind, 0) != n: print(f"self-test: expected {n} {kind} problem(s) in demo.ipynb, got {got.get(kind, 0)}"); ok = False
        others = [p for p in probs if p.nb != 'demo.ipynb']
        if others: print(f"self-test: false positives in clean notebooks: {[str(p) for p in others]}"); ok = False
        # the install detector: a package missing from the list is found
        index['cells'][1]['source'] = "## Install\n\n<!-- requirements -->\n`numpy`\n"
        (nbs/'index.ipynb').write_text(json.dumps(index, indent=1))
        miss = [p for p in check(nbs, process([nbs/'index.ipynb'], notes=False), st, root=nbs, course=set())
                if p.kind == 'install']
        if len(miss) != 1 or 'scipy' not in miss[0].msg: print(f"self-test: install detector: {miss}"); ok = False
    print('self-test:', 'passed' if ok else 'FAILED')
    return 0 if ok else 1

# ---------------------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to check (default: all the docs build processes)')
    ap.add_argument('--proc', help="read already processed notebooks from this folder (e.g. _proc) instead")
    ap.add_argument('--self-test', action='store_true', help='check each detector on crafted notebooks')
    a = ap.parse_args(argv)
    if a.self_test: return self_test()
    t0, st = time.time(), settings(ROOT)
    nbs = ROOT / st.get('nbs_path', 'nbs')
    paths = [Path(p).resolve() for p in a.notebooks] or source_notebooks(nbs)
    if a.proc:
        proc = Path(a.proc)
        processed = {p: json.loads((proc / p.relative_to(nbs)).read_text(encoding='utf-8')) for p in paths
                     if (proc / p.relative_to(nbs)).exists()}
        if not processed: print(f"docs check: no processed notebooks in {proc}"); return 2
    else: processed = process(paths)
    if a.notebooks:   # links into other pages still need those pages' anchors
        others = [p for p in source_notebooks(nbs) if p not in processed]
        processed.update(process(others) if not a.proc else {})
    probs = check(nbs, processed, st)
    probs += [Problem(p.relative_to(nbs).as_posix(), 'page', 'processing', f"nbdev's docs processing failed: {why}")
              for p, why in FAILED.items()]
    if a.notebooks: probs = [p for p in probs if (nbs / p.nb).resolve() in set(paths)]
    for p in probs: print(p)
    print(f"docs check: {len(probs)} problems ({len(processed)} notebooks, {time.time() - t0:.0f} s)")
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main())
