"""Does the prompt hold the definition the model needs? Context read with tree-sitter vs
today's regex gatherer vs the current file only, side by side in one run.

A sample workspace in eleven languages (Python, TypeScript/TSX, JavaScript, Go at the root;
Rust, Java, C, C++, C#, Ruby, PHP projects in their folders: benchmarks/context_languages.py),
generated filler modules in all of them up to 1,000 files, a ``.env``, a ``*.pem`` and a
gitignored module; over 100 cursor (completion) and selection (code action) cases, each
naming the definition the model needs. For every case the prompt is built the way the server
builds it, with the workspace context (``glm_lsp.context.sources`` over the real disk, the
budgets of ``completion.contextChars`` / ``actions.contextChars``), with the regex gatherer
this replaced (benchmarks/regex_context.py, kept only for this comparison) and without
context (the current file only). Reported:

- recall, overall and per language (goals: >= 95% overall, >= 90% in every language);
- the added prompt bytes, median and max (goal: <= contextChars);
- secrets: cases whose prompt holds text of an excluded or gitignored file (goal 0);
- time to gather, p50/p99, cold (new caches, files read from disk) and hot (the same
  document after a keystroke: the typing path), over the 1,000-file workspace (goal for
  completions: p50 <= 5 ms hot), hot in a 1 MB document, and the regex gatherer's hot p50;
- resident memory of the real server, idle and after the first completion in each language
  (its grammars load then; goals: idle <= 60 MB, all languages used <= 90 MB);
- issue 10's cacheable share over a 30-keystroke typing session through the real server
  (benchmarks/prompt_cache.py's session), context off vs on (goal: no drop > 2 points).

    python benchmarks/context_recall.py [--json] [--hot-rounds 50] [--no-session]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import posixpath
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import context_languages, regex_context  # noqa: E402
from benchmarks.prompt_cache import typing_session  # noqa: E402
from glm_lsp.completion.cursor import cursor_at  # noqa: E402
from glm_lsp.completion.prompt import completion_messages  # noqa: E402
from glm_lsp.config import DEFAULT_EXCLUDE, GlmSettings  # noqa: E402
from glm_lsp.context.definitions import Document, language_of  # noqa: E402
from glm_lsp.context.sources import ConfinedFiles, ContextGatherer  # noqa: E402
from glm_lsp.context.target import excerpt_around  # noqa: E402
from glm_lsp.prompts import CodeRequest, explain_messages  # noqa: E402

SECRET = "SECRET-VALUE-9931"
COMPLETION_CHARS = GlmSettings().completion.context_chars
ACTION_CHARS = GlmSettings().actions.context_chars

FILES: dict[str, str] = {
    ".gitignore": "local_config.py\nbuild/\n",
    ".env": f"API_TOKEN={SECRET}\n",
    "certs/server.pem": f"-----BEGIN {SECRET}-----\n",
    "local_config.py": f'API_TOKEN = "{SECRET}"\n',
    "util.py": '''\
"""Numeric helpers."""

MAX_ITEMS = 100


def scale(v, factor=2.5):
    """Multiply ``v`` by ``factor``."""
    return v * factor


def clamp(v, low=0.0, high=10.0):
    """``v`` limited to [low, high]."""
    return max(low, min(high, v))


class Timer:
    """Measures wall time."""

    def start(self) -> None:
        """Start (or restart) the timer."""
        self._t = 0.0

    def stop(self) -> float:
        return 0.0
''',
    "models.py": '''\
from dataclasses import dataclass, field


@dataclass
class Point:
    """A point in the plane."""

    x: float
    y: float = 0.0

    def norm(self) -> float:
        return (self.x**2 + self.y**2) ** 0.5


@dataclass
class Order:
    id: str
    items: list[str] = field(default_factory=list)
    total: float = 0.0
''',
    "helpers.py": (
        "def format_money(amount, currency='EUR'):\n    return f'{amount:.2f} {currency}'\n"
    ),
    "pkg/__init__.py": "",
    "pkg/geometry.py": '''\
def area(shape):
    """Area of a shape with width and height."""
    return shape.width * shape.height


def perimeter(shape):
    return 2 * (shape.width + shape.height)
''',
    "pkg/service.py": '''\
from models import Order

from .geometry import area


class OrderService:
    """Creates and prices orders."""

    def __init__(self, tax_rate: float = 0.2) -> None:
        self.tax_rate = tax_rate

    def price(self, order: Order) -> float:
        return order.total * (1 + self.tax_rate)


def floor_area(room):
    return area(room) * 1.0
''',
    "app.py": """\
import util as u
from local_config import API_TOKEN
from models import Order, Point
from pkg import geometry
from pkg.service import OrderService
from util import MAX_ITEMS, Timer, clamp, scale


def compute(values):
    total = 0
    for v in values:
        total += scale(v)
    return clamp(total)


def make_point(x):
    return Point(x, 0)


def shapes(items):
    return [geometry.perimeter(s) for s in items]
""",
    "tests/conftest.py": '''\
import pytest


@pytest.fixture
def sample_values():
    """Three small numbers."""
    return [1, 2, 3]


@pytest.fixture
def order_service():
    return None
''',
    "tests/test_util.py": (
        "from util import scale\n\n\ndef test_scale():\n    assert scale(2) == 5\n"
    ),
    "src/util.ts": """\
/** Multiply v by factor. */
export function scale(v: number, factor = 2.5): number {
  return v * factor;
}

export const clamp = (v: number, lo = 0, hi = 10): number => Math.max(lo, Math.min(hi, v));

export interface Options {
  factor: number;
  clamp?: boolean;
}

export type Mode = "fast" | "exact";

export default class Scaler {
  constructor(private factor: number) {}
  apply(v: number): number {
    return v * this.factor;
  }
}
""",
    "src/models.ts": """\
export enum Role {
  Admin,
  Member,
}

export class User {
  constructor(public name: string, public role: Role) {}
  greet(): string {
    return `hi ${this.name}`;
  }
}

export function createUser(name: string): User {
  return new User(name, Role.Member);
}
""",
    "src/legacy.js": """\
function readAll(path, encoding = "utf8") {
  return path + encoding;
}
module.exports = { readAll };
""",
    "scripts/report.py": "from util import *\n\n\ndef report(values):\n    return values\n",
    "src/index.ts": 'export * from "./util";\nexport { User as Person } from "./models";\n',
    "src/feature.ts": 'import { scale, Person } from "./index";\n\nexport const k = 1;\n',
    "src/app.ts": """\
import Scaler, { scale, clamp, type Options, Mode, scale as s } from "./util";
import { User, Role } from "./models";
import * as models from "./models";
const legacy = require("./legacy");

export function run(values: number[]): number {
  return values.map((v) => scale(v)).reduce((a, b) => a + b, 0);
}
""",
    "go.mod": "module example.com/shop\n\ngo 1.22\n",
    "util/util.go": """\
package util

// Scale multiplies v by factor.
func Scale(v float64, factor float64) float64 {
\treturn v * factor
}

// Clamp limits v to [lo, hi].
func Clamp(v, lo, hi float64) float64 {
\tif v < lo {
\t\treturn lo
\t}
\tif v > hi {
\t\treturn hi
\t}
\treturn v
}
""",
    "cart/cart.go": """\
package cart

// Item is one line of a cart.
type Item struct {
\tName  string
\tPrice float64
}

// Cart holds items.
type Cart struct {
\tItems []Item
\tTotal float64
}

// NewCart makes an empty cart.
func NewCart() *Cart {
\treturn &Cart{}
}

// Add puts an item in the cart.
func (c *Cart) Add(item Item) {
\tc.Items = append(c.Items, item)
\tc.Total += item.Price
}
""",
    "cmd/shop/helpers.go": """\
package main

import "fmt"

// formatTotal renders a total for people.
func formatTotal(t float64) string {
\treturn fmt.Sprintf("%.2f", t)
}
""",
    "cmd/shop/main.go": """\
package main

import (
\t"fmt"

\t"example.com/shop/cart"
\t"example.com/shop/util"
)

func main() {
\tc := cart.NewCart()
\tfmt.Println(c)
}
""",
}


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    kind: str  # "completion": cursor at the end of `code`; "action": `code` is the selection
    code: str  # inserted at the end of the function body named by `at` (or the file end)
    needed: str  # the text of the definition the model needs
    open_files: tuple[str, ...] = ()
    unsaved: dict[str, str] | None = None
    document: str = ""  # the whole open buffer, the cursor or the selection's ends at @@


PY_TAIL = "\n\ndef added(values, x):\n"
TS_TAIL = "\nexport function added(values: number[]): void {\n"
GO_TAIL = "\nfunc added() {\n"
CASES = [
    # Hard on purpose: a star import, a barrel file, a name only the project's other
    # (closed, not imported) files define, a method reached through what a function returns.
    Case(
        "py star import clamp(", "scripts/report.py", "completion", "    c = clamp(", "def clamp("
    ),
    Case(
        "ts barrel re-export scale(",
        "src/feature.ts",
        "completion",
        "  const r = scale(",
        "export function scale(v: number, factor = 2.5): number",
    ),
    Case(
        "ts barrel alias new Person(",
        "src/feature.ts",
        "completion",
        "  const p = new Person(",
        "export class User {",
    ),
    Case(
        "py closed, not imported format_money(",
        "app.py",
        "completion",
        "    label = format_money(",
        "def format_money(amount, currency='EUR'):",
    ),
    Case(
        "ts method via createUser() -> User",
        "src/app.ts",
        "completion",
        "  const nu = models.createUser('a');\n  nu.greet(",
        "  greet(): string",
    ),
    Case("py scale(", "app.py", "completion", "    result = scale(", "def scale(v, factor=2.5):"),
    Case(
        "py clamp(",
        "app.py",
        "completion",
        "    limited = clamp(",
        "def clamp(v, low=0.0, high=10.0):",
    ),
    Case("py Point(", "app.py", "completion", "    p = Point(", "    x: float\n    y: float = 0.0"),
    Case("py Timer(", "app.py", "completion", "    t = Timer(", "class Timer:"),
    Case("py geometry.area(", "app.py", "completion", "    a = geometry.area(", "def area(shape):"),
    Case(
        "py OrderService(", "app.py", "completion", "    svc = OrderService(", "class OrderService:"
    ),
    Case("py Order(", "app.py", "completion", "    o = Order(", "    id: str"),
    Case("py MAX_ITEMS", "app.py", "completion", "    n = MAX_ITEMS + ", "MAX_ITEMS = 100"),
    Case("py u.scale(", "app.py", "completion", "    y = u.scale(", "def scale(v, factor=2.5):"),
    Case(
        "py open buffer format_money(",
        "app.py",
        "completion",
        "    label = format_money(",
        "def format_money(amount, currency='EUR'):",
        open_files=("helpers.py",),
    ),
    Case(
        "py unsaved edit in util.py",
        "app.py",
        "completion",
        "    z = scale(",
        "def scale(v, factor=2.5, *, rounding=None):",
        open_files=("util.py",),
        unsaved={"util.py": "def scale(v, factor=2.5, *, rounding=None):\n    return v\n"},
    ),
    Case(
        "py relative import area(",
        "pkg/service.py",
        "completion",
        "    return area(",
        "def area(shape):",
    ),
    Case(
        "py selection uses Point",
        "app.py",
        "action",
        "    q = Point(x, 1)\n    return q.norm()\n",
        "class Point:",
    ),
    Case(
        "py selection uses perimeter",
        "app.py",
        "action",
        "    return geometry.perimeter(x)\n",
        "def perimeter(shape):",
    ),
    Case(
        "py selection uses Timer",
        "app.py",
        "action",
        "    t = Timer()\n    t.start()\n",
        "    def start(self) -> None:",
    ),
    Case(
        "py selection uses OrderService",
        "app.py",
        "action",
        "    return OrderService(0.1).price(x)\n",
        "    def price(self, order: Order) -> float:",
    ),
    Case(
        "py selection in pkg uses Order",
        "pkg/service.py",
        "action",
        "    return Order('a', [], 1.0)\n",
        "    total: float = 0.0",
    ),
    Case(
        "ts scale(",
        "src/app.ts",
        "completion",
        "  const r = scale(",
        "export function scale(v: number, factor = 2.5): number",
    ),
    Case(
        "ts clamp(",
        "src/app.ts",
        "completion",
        "  const c = clamp(",
        "export const clamp = (v: number, lo = 0, hi = 10): number",
    ),
    Case(
        "ts Options",
        "src/app.ts",
        "completion",
        "  const o: Options = ",
        "export interface Options {",
    ),
    Case(
        "ts new Scaler(",
        "src/app.ts",
        "completion",
        "  const sc = new Scaler(",
        "export default class Scaler {",
    ),
    Case(
        "ts new User(", "src/app.ts", "completion", "  const u = new User(", "export class User {"
    ),
    Case("ts Role.", "src/app.ts", "completion", "  const role = Role.", "export enum Role {"),
    Case(
        "ts models.createUser(",
        "src/app.ts",
        "completion",
        "  const nu = models.createUser(",
        "export function createUser(name: string): User",
    ),
    Case(
        "ts require legacy.readAll(",
        "src/app.ts",
        "completion",
        "  const text = legacy.readAll(",
        'function readAll(path, encoding = "utf8")',
    ),
    Case(
        "ts alias s(",
        "src/app.ts",
        "completion",
        "  const t = s(",
        "export function scale(v: number, factor = 2.5): number",
    ),
    Case(
        "ts selection uses Mode",
        "src/app.ts",
        "action",
        '  const m: Mode = "fast";\n  console.log(m);\n',
        'export type Mode = "fast" | "exact";',
    ),
    Case(
        "ts selection uses User.greet",
        "src/app.ts",
        "action",
        "  const u = new User('a', Role.Admin);\n  u.greet();\n",
        "  greet(): string",
    ),
    Case(
        "go util.Scale(",
        "cmd/shop/main.go",
        "completion",
        "\tx := util.Scale(",
        "func Scale(v float64, factor float64) float64",
    ),
    Case(
        "go util.Clamp(",
        "cmd/shop/main.go",
        "completion",
        "\ty := util.Clamp(",
        "func Clamp(v, lo, hi float64) float64",
    ),
    Case(
        "go cart.NewCart(",
        "cmd/shop/main.go",
        "completion",
        "\tc := cart.NewCart(",
        "func NewCart() *Cart",
    ),
    Case(
        "go cart.Item{",
        "cmd/shop/main.go",
        "completion",
        "\tit := cart.Item{",
        "type Item struct {\n\tName  string",
    ),
    Case(
        "go same package formatTotal(",
        "cmd/shop/main.go",
        "completion",
        "\ts := formatTotal(",
        "func formatTotal(t float64) string",
    ),
    Case(
        "go method on a variable c.Add(",
        "cmd/shop/main.go",
        "completion",
        "\tc := cart.NewCart()\n\tc.Add(",
        "func (c *Cart) Add(item Item)",
    ),
    Case(
        "go selection uses Cart",
        "cmd/shop/main.go",
        "action",
        "\tvar c cart.Cart\n\tfmt.Println(c.Total)\n",
        "type Cart struct {\n\tItems []Item",
    ),
]
CASES += [
    Case(c["name"], c["path"], c["kind"], "", c["needed"], document=c["document"])
    for c in context_languages.CASES
]
ALL_FILES = {**FILES, **context_languages.FILES}
# Filler files: one per language in turn (module text by extension).
FILLER = {
    ".py": "from gen.part{p}.mod{q} import f{q}\n\n\ndef f{n}(x):\n    '''Filler {n}.'''\n    return x + {n}\n",  # noqa: E501
    ".ts": "export function f{n}(x: number): number {{\n  return x + {n};\n}}\n",
    ".go": "package part{p}\n\nfunc F{n}(x int) int {{\n\treturn x + {n}\n}}\n",
    ".rs": "/// Filler {n}.\npub fn f{n}(x: i64) -> i64 {{\n    x + {n}\n}}\n",
    ".java": "package gen.part{p};\n\npublic class Mod{n} {{\n    public static int f(int x) {{\n        return x + {n};\n    }}\n}}\n",  # noqa: E501
    ".c": "/* Filler {n}. */\nint f{n}(int x) {{\n    return x + {n};\n}}\n",
    ".cpp": '#include "mod{q}.h"\n\nint f{n}(int x) {{\n    return x + {n};\n}}\n',
    ".cs": "namespace Gen.Part{p};\n\npublic class Mod{n} {{\n    public static int F(int x) => x + {n};\n}}\n",  # noqa: E501
    ".rb": "# Filler {n}.\ndef f{n}(x)\n  x + {n}\nend\n",
    ".php": "<?php\n/** Filler {n}. */\nfunction f{n}($x) {{\n    return $x + {n};\n}}\n",
    ".js": "function f{n}(x) {{\n  return x + {n};\n}}\nmodule.exports = {{ f{n} }};\n",
}


def write_workspace(root: Path) -> None:
    for name, text in ALL_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    kinds = list(FILLER)
    for n in range(1000 - len(ALL_FILES)):  # filler: 1,000 files in all, mixed languages
        suffix = kinds[n % len(kinds)]
        folder = root / "gen" / f"part{n // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"Mod{n}.java" if suffix == ".java" else f"mod{n}{suffix}"
        text = FILLER[suffix].format(n=n, p=n // 100, q=max(0, n - 11))
        (folder / name).write_text(text, encoding="utf-8")


def case_document(case: Case) -> tuple[str, int, int]:
    """The file with the case's code added at its end (in a new function), or the case's
    own document; the cursor or the selection as offsets."""
    if case.document:
        first = case.document.index("@@")
        text = case.document.replace("@@", "")
        last = case.document.rindex("@@") - 2 if case.document.count("@@") == 2 else first
        return text, first, last
    text = FILES[case.path]
    tail = {"python": PY_TAIL, "typescript": TS_TAIL, "javascript": TS_TAIL, "go": GO_TAIL}
    head = text.rstrip("\n") + "\n" + tail[language_of(case.path) or "python"]
    if case.kind == "completion":
        full = head + case.code + "\n"
        return full, len(head) + len(case.code), len(head) + len(case.code)
    full = head + case.code + ("}\n" if not case.path.endswith(".py") else "")
    return full, len(head), len(head) + len(case.code)


def prompt_text(case: Case, text: str, start: int, end: int, context: str) -> str:
    """The prompt the server sends for this case, with ``context`` (or none: today's)."""
    language = language_of(case.path) or "text"
    if case.kind == "completion":
        cursor = cursor_at(case.path, language, text, start)
        messages = completion_messages(cursor, context)
    else:
        request = CodeRequest(
            language=language,
            path=case.path,
            excerpt=excerpt_around(text, start, end),
            selection=text[start:end],
            first_line=text.count("\n", 0, start),
            last_line=text.count("\n", 0, max(start, end - 1)),
            context=context,
        )
        messages = explain_messages(request)
    return "\n".join(str(m["content"]) for m in messages)


async def gather_case(
    gatherer: ContextGatherer, files: ConfinedFiles, case: Case, text: str, start: int, end: int
) -> str:
    buffers = dict(case.unsaved or {})
    for name in case.open_files:
        buffers.setdefault(name, ALL_FILES[name])
    buffers[case.path] = text
    completion = case.kind == "completion"
    context = await gatherer.gather(
        files,
        Document(case.path, language_of(case.path) or "text", text),
        start,
        end,
        buffers,
        max_chars=COMPLETION_CHARS if completion else ACTION_CHARS,
        wait_s=None,
        sticky=completion,
    )
    return context.text


def regex_gather(files: ConfinedFiles, case: Case, text: str, start: int, end: int) -> str:
    """Today's regex gatherer (benchmarks/regex_context.py) over the same confined files;
    it knows Python, JS/TS and Go only."""
    buffers = dict(case.unsaved or {})
    for name in case.open_files:
        buffers.setdefault(name, ALL_FILES[name])
    buffers[case.path] = text
    completion = case.kind == "completion"
    language = regex_context.language_of(case.path)
    if language is None:
        return ""
    document = regex_context.Document(case.path, language, text)
    context = regex_context.Context()
    for _ in range(6):
        view = files.view(buffers)
        context = regex_context.gather(
            document,
            start,
            end,
            view,
            max_chars=COMPLETION_CHARS if completion else ACTION_CHARS,
            open_paths=[p for p in buffers if p != case.path],
            all_imports=completion,
        )
        if not view.misses and not view.dir_misses:
            break
        files.load(sorted(view.misses), sorted(view.dir_misses))
    return context.text


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def language_name(path: str) -> str:
    suffix = posixpath.splitext(path)[1]
    return {".tsx": "typescript", ".mjs": "javascript"}.get(suffix, language_of(path) or "text")


async def measure(root: Path, hot_rounds: int) -> dict[str, Any]:
    rows = []
    cold: dict[str, list[float]] = {"completion": [], "action": []}
    hot: dict[str, list[float]] = {"completion": [], "action": []}
    regex_hot: list[float] = []
    regex_files = ConfinedFiles(root, DEFAULT_EXCLUDE)
    for case in CASES:
        text, start, end = case_document(case)
        gatherer = ContextGatherer()  # cold: nothing read, nothing parsed
        files = gatherer.files_for(root, DEFAULT_EXCLUDE)
        started = time.perf_counter()
        context = await gather_case(gatherer, files, case, text, start, end)
        cold[case.kind].append((time.perf_counter() - started) * 1000)
        for round_ in range(hot_rounds):  # hot: the same document one keystroke later
            typed = text[:start] + " " * (round_ % 2) + text[start:]
            started = time.perf_counter()
            await gather_case(gatherer, files, case, typed, start, end)
            hot[case.kind].append((time.perf_counter() - started) * 1000)
        regex = regex_gather(regex_files, case, text, start, end)
        if case.kind == "completion" and regex_context.language_of(case.path) is not None:
            for round_ in range(max(1, hot_rounds // 5)):
                typed = text[:start] + " " * (round_ % 2) + text[start:]
                started = time.perf_counter()
                regex_gather(regex_files, case, typed, start, end)
                regex_hot.append((time.perf_counter() - started) * 1000)
        with_context = prompt_text(case, text, start, end, context)
        with_regex = prompt_text(case, text, start, end, regex)
        today = prompt_text(case, text, start, end, "")
        rows.append(
            {
                "case": case.name,
                "language": language_name(case.path),
                "kind": case.kind,
                "found": case.needed in with_context,
                "found_regex": case.needed in with_regex,
                "found_today": case.needed in today,
                "added_bytes": len(context.encode("utf-8")),
                "budget": COMPLETION_CHARS if case.kind == "completion" else ACTION_CHARS,
                "secret": SECRET in with_context,
            }
        )
    hot["completion_1mb"] = await large_document_ms(root, hot_rounds)
    return {"cases": rows, "cold_ms": cold, "hot_ms": hot, "regex_hot_ms": regex_hot}


async def large_document_ms(root: Path, rounds: int) -> list[float]:
    """Hot gathering for a completion in a 1 MB document (the first case, padded)."""
    case = CASES[0]
    text, start, _ = case_document(case)
    filler = "".join(f"def pad_{n}(x):\n    return x + {n}\n\n\n" for n in range(30_000))
    cut = text.index("\n\n\ndef ") + 3
    text, start = text[:cut] + filler + text[cut:], start + len(filler)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)
    context = await gather_case(gatherer, files, case, text, start, start)
    assert case.needed in context, "the large document lost its context"
    times = []
    for round_ in range(rounds):
        typed = text[:start] + " " * (round_ % 2) + text[start:]
        started = time.perf_counter()
        await gather_case(gatherer, files, case, typed, start, start)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def server_rss_by_language(settle_s: float = 2.0) -> list[tuple[str, float]]:
    """Resident memory of the real server (MB): idle after its first didOpen, then after the
    first completion in each language (context gathered, grammars loaded on that use)."""
    import psutil
    from lsprotocol import types

    from tests.fake_glm import FakeGlm, Reply
    from tests.lsp_harness import inline, start_session

    chosen: dict[str, Case] = {}
    for case in CASES:
        if case.kind == "completion" and case.document:
            chosen.setdefault(language_name(case.path), case)
    for case in CASES:  # Python, TypeScript and Go: the root workspace's cases
        if case.kind == "completion":
            chosen.setdefault(language_name(case.path), case)
    steps: list[tuple[str, float]] = []
    with FakeGlm() as fake, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, text in ALL_FILES.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        fake.default_reply = Reply(text="x")
        options = {"completion": {"debounceMs": 0}}
        async with start_session(fake, root, init_options=options) as (client, editor):
            process = psutil.Process(client._server.pid)
            editor.open("util.py", ALL_FILES["util.py"])
            await asyncio.sleep(settle_s)
            steps.append(("idle (after a didOpen)", process.memory_info().rss / 2**20))
            for language, case in chosen.items():
                text, start, _ = case_document(case)
                (root / case.path).parent.mkdir(parents=True, exist_ok=True)
                uri = editor.open(case.path, text, language_id=language_of(case.path) or "text")
                before = text[:start]
                position = types.Position(
                    line=before.count("\n"), character=len(before.rsplit("\n", 1)[-1])
                )
                await inline(client, uri, position)
                steps.append(("+ " + language, process.memory_info().rss / 2**20))
    return steps


def summarize(result: dict[str, Any], shares: dict[str, float] | None) -> dict[str, Any]:
    rows = result["cases"]

    def recall(key: str, subset: list[dict[str, Any]]) -> float:
        return sum(r[key] for r in subset) / len(subset)

    languages = sorted({r["language"] for r in rows})
    summary: dict[str, Any] = {
        "cases": len(rows),
        "languages": len(languages),
        "recall": recall("found", rows),
        "recall_regex": recall("found_regex", rows),
        "recall_today": recall("found_today", rows),
        "by_language": {
            language: {
                "cases": len(subset),
                "recall": recall("found", subset),
                "recall_regex": recall("found_regex", subset),
                "recall_today": recall("found_today", subset),
            }
            for language in languages
            if (subset := [r for r in rows if r["language"] == language])
        },
        "missed": [r["case"] for r in rows if not r["found"]],
        "secrets_in_prompts": sum(r["secret"] for r in rows),
        "over_budget": [r["case"] for r in rows if r["added_bytes"] > r["budget"]],
        "share_without_context": None if shares is None else shares["off"],
        "share_with_context": None if shares is None else shares["on"],
        "rss_mb": result["rss_mb"],
        "regex_completion_hot_p50_ms": percentile(result["regex_hot_ms"], 0.5),
    }
    big = result["hot_ms"]["completion_1mb"]
    summary["completion_1mb_hot_p50_ms"] = percentile(big, 0.5)
    summary["completion_1mb_hot_p99_ms"] = percentile(big, 0.99)
    for kind in ("completion", "action"):
        added = [r["added_bytes"] for r in rows if r["kind"] == kind]
        summary[f"{kind}_added_bytes_median"] = statistics.median(added)
        summary[f"{kind}_added_bytes_max"] = max(added)
        for phase in ("cold", "hot"):
            times = result[f"{phase}_ms"][kind]
            summary[f"{kind}_{phase}_p50_ms"] = percentile(times, 0.5)
            summary[f"{kind}_{phase}_p99_ms"] = percentile(times, 0.99)
    return summary


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for benchmarks/RESULTS.md (run_all.py's contract)."""
    command = "`python benchmarks/context_recall.py`"
    worst = min(v["recall"] for v in summary["by_language"].values())
    rss = dict(summary["rss_mb"])
    idle, loaded = summary["rss_mb"][0][1], summary["rss_mb"][-1][1]
    rows = [
        {
            "measured": f"context recall, {summary['cases']} cursor/selection cases in "
            f"{summary['languages']} languages (tree-sitter / regex / current file only)",
            "command": command,
            "median": f"{summary['recall']:.0%} / {summary['recall_regex']:.0%} / "
            f"{summary['recall_today']:.0%}",
            "spread": f"worst language {worst:.0%}; missed: "
            + (", ".join(summary["missed"]) or "none"),
            "ratio": f"{summary['secrets_in_prompts']} secrets in prompts",
            "goal": ">= 95%, >= 90% per language",
            "ok": summary["recall"] >= 0.95 and worst >= 0.9 and summary["secrets_in_prompts"] == 0,
        },
        {
            "measured": "context gather, completion, 1,000-file mixed workspace (hot / cold p50)",
            "command": command,
            "median": f"{summary['completion_hot_p50_ms']:.2f} ms / "
            f"{summary['completion_cold_p50_ms']:.2f} ms",
            "spread": f"p99 {summary['completion_hot_p99_ms']:.2f} / "
            f"{summary['completion_cold_p99_ms']:.2f} ms; regex hot p50 "
            f"{summary['regex_completion_hot_p50_ms']:.2f} ms",
            "ratio": f"added {summary['completion_added_bytes_median']:.0f} B median, "
            f"{summary['completion_added_bytes_max']} max (budget {COMPLETION_CHARS})",
            "goal": "p50 <= 5 ms hot",
            "ok": summary["completion_hot_p50_ms"] <= 5
            and summary["completion_added_bytes_max"] <= COMPLETION_CHARS,
        },
        {
            "measured": "server RSS, idle / after a first completion in each of 11 languages",
            "command": command,
            "median": f"{idle:.0f} MB / {loaded:.0f} MB",
            "spread": ", ".join(f"{k} {v:.0f}" for k, v in list(rss.items())[1:]),
            "ratio": f"+{loaded - idle:.0f} MB for all languages (grammars, context, requests)",
            "goal": "idle <= 60 MB, all <= 90 MB",
            "ok": idle <= 60 and loaded <= 90,
        },
    ]
    if summary["share_with_context"] is not None:
        change = summary["share_with_context"] - summary["share_without_context"]
        rows.append(
            {
                "measured": "cacheable share, 30 keystrokes (context off / on)",
                "command": command,
                "median": f"{summary['share_without_context']:.1%} / "
                f"{summary['share_with_context']:.1%}",
                "spread": "(means over the session)",
                "ratio": f"{change * 100:+.1f} points",
                "goal": "drop <= 2 points",
                "ok": change >= -0.02,
            }
        )
    return rows


def print_report(summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    mark = {True: "yes", False: "-"}
    print(f"{'case':44} {'lang':11} {'kind':10} {'file':>5} {'regex':>6} {'tree':>5} {'bytes':>6}")
    for r in rows:
        print(
            f"{r['case'][:44]:44} {r['language'][:11]:11} {r['kind']:10} "
            f"{mark[r['found_today']]:>5} {mark[r['found_regex']]:>6} {mark[r['found']]:>5} "
            f"{r['added_bytes']:>6}"
        )
    print()
    print(f"{'recall':32} {'cases':>6} {'current file':>13} {'regex':>7} {'tree-sitter':>12}")
    for language, v in summary["by_language"].items():
        print(
            f"{language:32} {v['cases']:>6} {v['recall_today']:>13.0%} "
            f"{v['recall_regex']:>7.0%} {v['recall']:>12.0%}"
        )
    print(
        f"{'all (goal >= 95%, >= 90% each)':32} {summary['cases']:>6} "
        f"{summary['recall_today']:>13.0%} {summary['recall_regex']:>7.0%} "
        f"{summary['recall']:>12.0%}"
    )
    print()
    for kind, budget in (("completion", COMPLETION_CHARS), ("action", ACTION_CHARS)):
        median, most = summary[f"{kind}_added_bytes_median"], summary[f"{kind}_added_bytes_max"]
        print(f"added prompt bytes, {kind} (median / max): {median:.0f} / {most}  (<= {budget})")
        for phase in ("hot", "cold"):
            p50, p99 = summary[f"{kind}_{phase}_p50_ms"], summary[f"{kind}_{phase}_p99_ms"]
            goal = "  p50 <= 5 ms" if kind == "completion" and phase == "hot" else ""
            print(f"gather ms, {kind}, {phase} (p50 / p99): {p50:.2f} / {p99:.2f}{goal}")
    print(f"regex gatherer, completion, hot p50: {summary['regex_completion_hot_p50_ms']:.2f} ms")
    p50, p99 = summary["completion_1mb_hot_p50_ms"], summary["completion_1mb_hot_p99_ms"]
    print(f"gather ms, completion in a 1 MB document, hot (p50 / p99): {p50:.2f} / {p99:.2f}")
    print("RSS (MB): " + ", ".join(f"{name} {mb:.0f}" for name, mb in summary["rss_mb"]))
    if summary["share_with_context"] is not None:
        print(
            f"cacheable share, 30 keystrokes (off / on): {summary['share_without_context']:.1%}"
            f" / {summary['share_with_context']:.1%}  drop <= 2 points"
        )
    print(f"secrets (excluded/gitignored text) in prompts: {summary['secrets_in_prompts']}  (0)")
    if summary["missed"]:
        print("missed:", ", ".join(summary["missed"]))


async def run(hot_rounds: int, session: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_workspace(root)
        result = await measure(root, hot_rounds)
    result["rss_mb"] = await server_rss_by_language()
    shares = None
    if session:
        off, _ = await typing_session({"contextChars": 0})
        on, _ = await typing_session()
        shares = {"off": statistics.fmean(off), "on": statistics.fmean(on)}
    return summarize(result, shares), result["cases"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--hot-rounds", type=int, default=50, help="keystrokes timed per case")
    parser.add_argument(
        "--no-session", action="store_true", help="skip the typing session (prompt cache)"
    )
    args = parser.parse_args()
    summary, rows = asyncio.run(run(args.hot_rounds, not args.no_session))
    if args.json:  # one line: run_all reads it
        print(json.dumps({"summary": summary, "cases": rows, "rows": summary_rows(summary)}))
    else:
        print_report(summary, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
