# ruff: noqa: E501  (the cases are code samples, kept one per line)
"""Every language the context reads with tree-sitter, on plain inputs: a definition from
another file with its signature and doc comment, an import resolved the language's way, a
method called on a variable whose type the code states, and a local that shadows an import
(nothing is invented for it). The cursor is where ``@@`` is."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import pytest

from glm_lsp.context.definitions import Document, gather, language_of


class Files:
    """A workspace in memory (what a confined reader allows)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, relative: str) -> str | None:
        return self.files.get(relative)

    def list_dir(self, relative: str) -> list[str]:
        return [posixpath.basename(p) for p in self.files if posixpath.dirname(p) == relative]


@dataclass(frozen=True)
class Case:
    language: str
    aspect: str  # definitions, imports, receivers, shadowing
    path: str
    code: str  # with @@ at the cursor
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)


RUST = {
    "Cargo.toml": '[package]\nname = "shapes"\n',
    "src/geometry.rs": (
        "/// A rectangle.\npub struct Rect {\n    pub w: f64,\n    pub h: f64,\n}\n\n"
        "/// Area of a rectangle.\npub fn rect_area(r: &Rect) -> f64 {\n    r.w * r.h\n}\n"
    ),
    "src/queue.rs": (
        "pub struct JobQueue {\n    jobs: Vec<String>,\n}\n\nimpl JobQueue {\n"
        "    pub fn new() -> Self {\n        JobQueue { jobs: Vec::new() }\n    }\n\n"
        "    /// Adds a job at the end.\n    pub fn enqueue(&mut self, job: String) {\n"
        "        self.jobs.push(job);\n    }\n}\n"
    ),
    "src/util/mod.rs": "pub mod text;\n",
    "src/util/text.rs": (
        "use super::super::geometry::Rect;\n\n/// Describes a rectangle.\n"
        'pub fn describe(r: &Rect) -> String {\n    format!("{}", r.w)\n}\n'
    ),
}
GO = {
    "go.mod": "module example.com/shop\n\ngo 1.22\n",
    "cart/cart.go": (
        "package cart\n\n// Cart holds items.\ntype Cart struct {\n\tItems []string\n}\n\n"
        "// NewCart makes an empty cart.\nfunc NewCart() *Cart {\n\treturn &Cart{}\n}\n\n"
        "// Add puts an item in.\nfunc (c *Cart) Add(item string) {\n"
        "\tc.Items = append(c.Items, item)\n}\n"
    ),
}
JAVA = {
    "src/main/java/com/shop/money/Money.java": (
        "package com.shop.money;\n\n/** Money in cents. */\npublic final class Money {\n"
        "    private final long cents;\n\n    /** Money from a number of cents. */\n"
        "    public static Money ofCents(long cents) {\n        return new Money(cents);\n"
        "    }\n\n    private Money(long cents) {\n        this.cents = cents;\n    }\n}\n"
    ),
    "src/main/java/com/shop/Inventory.java": (
        "package com.shop;\n\npublic class Inventory {\n"
        "    /** Holds `count` items of `sku`. */\n"
        "    public boolean reserve(String sku, int count) {\n        return true;\n    }\n}\n"
    ),
}
C_FILES = {
    "include/vec.h": (
        "#ifndef VEC_H\n#define VEC_H\n\n/* A 2D vector. */\ntypedef struct {\n"
        "    float x, y;\n} Vec2;\n\n/* Adds two vectors. */\nVec2 vec2_add(Vec2 a, Vec2 b);\n"
        "\n#endif\n"
    ),
}
CPP = {
    "src/timer.h": (
        "#pragma once\n\n/// Measures elapsed time.\nclass Timer {\npublic:\n    Timer();\n"
        "    /// Starts (or restarts) the timer.\n    void start();\n"
        "    double elapsed() const;\nprivate:\n    double begun_;\n};\n"
    ),
}
CSHARP = {
    "Billing/TaxCalculator.cs": (
        "namespace Shop.Billing;\n\n/// <summary>Computes taxes.</summary>\n"
        "public class TaxCalculator\n{\n    /// <summary>Tax on an amount.</summary>\n"
        "    public static decimal Compute(decimal amount, decimal rate)\n    {\n"
        "        return amount * rate;\n    }\n\n    public decimal Round(decimal value) => value;\n}\n"
    ),
}
RUBY = {
    "lib/slugger.rb": (
        "# Turns titles into URL slugs.\nclass Slugger\n  # The slug of a title.\n"
        '  def self.slugify(title, sep = "-")\n    title.downcase.gsub(" ", sep)\n  end\n\n'
        "  def initialize(sep)\n    @sep = sep\n  end\n\n  # Slug with this slugger's separator.\n"
        "  def call(title)\n    title\n  end\nend\n"
    ),
}
PHP = {
    "composer.json": '{"autoload": {"psr-4": {"App\\\\": "src/"}}}',
    "src/Util/Mailer.php": (
        "<?php\nnamespace App\\Util;\n\n/** Sends mail. */\nclass Mailer\n{\n"
        "    /** Sends one message. */\n    public function send(string $to, string $body): bool\n"
        "    {\n        return true;\n    }\n}\n"
    ),
}
PYTHON = {
    "shop/__init__.py": "from .inventory import Inventory as Inventory\nfrom .pricing import *\n",
    "shop/inventory.py": (
        "class Inventory:\n    '''Stock per SKU.'''\n\n"
        "    def reserve(self, sku: str, count: int) -> bool:\n"
        "        '''Hold count items of sku.'''\n        return True\n"
    ),
    "shop/pricing.py": "def net_price(gross, rate=0.2):\n    '''Gross without tax.'''\n    return gross\n",
}
TS = {
    "tsconfig.json": '{\n  // paths\n  "compilerOptions": {"baseUrl": ".", "paths": {"@lib/*": ["src/lib/*"]},},\n}\n',
    "src/lib/format.ts": (
        "/** Money with two decimals. */\nexport function money(v: number): string {\n"
        "  return v.toFixed(2);\n}\n"
    ),
    "src/lib/index.ts": 'export { money as formatMoney } from "./format";\n',
    "src/models/user.ts": (
        "export class User {\n  constructor(public name: string) {}\n"
        "  /** A greeting. */\n  greet(): string {\n    return 'hi ' + this.name;\n  }\n}\n"
    ),
}
JS = {
    "lib/legacy.js": (
        "/** Reads a whole file. */\nfunction readAll(path, encoding = 'utf8') {\n  return '';\n}\n"
        "module.exports = { readAll };\n"
    ),
}

CASES = [
    # Python
    Case(
        "python",
        "definitions",
        "app.py",
        "from shop.pricing import net_price\nnet_price(@@",
        ("def net_price(gross, rate=0.2):", "'''Gross without tax.'''"),
        files=PYTHON,
    ),
    Case(
        "python",
        "imports",
        "app.py",
        "from shop import Inventory, net_price\nnet_price(@@",
        ("def net_price(gross, rate=0.2):",),
        files=PYTHON,
    ),  # __init__ star re-export
    Case(
        "python",
        "receivers",
        "app.py",
        "from shop import Inventory\n\ndef hold(inv: Inventory):\n    inv.reserve(@@",
        ("    def reserve(self, sku: str, count: int) -> bool:",),
        files=PYTHON,
    ),
    Case(
        "python",
        "shadowing",
        "app.py",
        "from shop.pricing import net_price\n\ndef f(net_price):\n    return net_price(@@",
        absent=("def net_price",),
        files=PYTHON,
    ),
    # JavaScript
    Case(
        "javascript",
        "definitions",
        "app.js",
        "const legacy = require('./lib/legacy');\nlegacy.readAll(@@",
        ("/** Reads a whole file. */\nfunction readAll(path, encoding = 'utf8')",),
        files=JS,
    ),
    Case(
        "javascript",
        "imports",
        "app.js",
        "const { readAll } = require('./lib/legacy');\nreadAll(@@",
        ("function readAll(path, encoding = 'utf8')",),
        files=JS,
    ),
    Case(
        "javascript",
        "receivers",
        "app.mjs",
        "import { User } from './src/models/user';\nconst u = new User('a');\nu.greet(@@",
        ("greet(): string",),
        files=TS,
    ),
    Case(
        "javascript",
        "shadowing",
        "app.js",
        "const { readAll } = require('./lib/legacy');\nfunction f(readAll) {\n  readAll(@@",
        absent=("function readAll",),
        files=JS,
    ),
    # TypeScript
    Case(
        "typescript",
        "definitions",
        "src/app.ts",
        "import { money } from './lib/format';\nmoney(@@",
        ("/** Money with two decimals. */\nexport function money(v: number): string",),
        files=TS,
    ),
    Case(
        "typescript",
        "imports",
        "src/app.ts",
        "import { formatMoney } from '@lib/index';\nformatMoney(@@",  # tsconfig paths, barrel alias
        ("export function money(v: number): string",),
        files=TS,
    ),
    Case(
        "typescript",
        "receivers",
        "src/app.tsx",
        "import { User } from './models/user';\nfunction show(u: User) {\n  return u.greet(@@",
        ("  greet(): string",),
        files=TS,
    ),
    Case(
        "typescript",
        "shadowing",
        "src/app.ts",
        "import { money } from './lib/format';\nfunction f() {\n  const money = 3;\n  money + @@",
        absent=("export function money",),
        files=TS,
    ),
    # Go
    Case(
        "go",
        "definitions",
        "main.go",
        'package main\n\nimport "example.com/shop/cart"\n\nfunc main() {\n\tc := cart.NewCart(@@',
        ("// NewCart makes an empty cart.\nfunc NewCart() *Cart",),
        files=GO,
    ),
    Case(
        "go",
        "imports",
        "main.go",
        'package main\n\nimport shop "example.com/shop/cart"\n\nfunc main() {\n\tvar c shop.Cart@@',
        ("type Cart struct {\n\tItems []string\n}",),
        files=GO,
    ),
    Case(
        "go",
        "receivers",
        "main.go",
        'package main\n\nimport "example.com/shop/cart"\n\nfunc fill(c *cart.Cart) {\n\tc.Add(@@',
        ("func (c *Cart) Add(item string)",),
        files=GO,
    ),
    Case(
        "go",
        "shadowing",
        "main.go",
        'package main\n\nimport "example.com/shop/cart"\n\nfunc main() {\n\tcart := 3\n\tcart.NewCart(@@',
        absent=("func NewCart",),
        files=GO,
    ),
    # Rust
    Case(
        "rust",
        "definitions",
        "src/main.rs",
        "mod geometry;\nuse crate::geometry::rect_area;\n\nfn main() {\n    let a = rect_area(@@",
        ("/// Area of a rectangle.\npub fn rect_area(r: &Rect) -> f64",),
        files=RUST,
    ),
    Case(
        "rust",
        "imports",
        "src/util/other.rs",
        "use super::text::describe;\n\npub fn f() {\n    describe(@@",
        ("pub fn describe(r: &Rect) -> String",),
        files=RUST,
    ),
    Case(
        "rust",
        "receivers",
        "src/main.rs",
        "mod queue;\nuse queue::JobQueue;\n\nfn main() {\n    let mut q = JobQueue::new();\n    q.enqueue(@@",
        ("    /// Adds a job at the end.\n    pub fn enqueue(&mut self, job: String)",),
        files=RUST,
    ),
    Case(
        "rust",
        "shadowing",
        "src/main.rs",
        "use crate::geometry::rect_area;\n\nfn f(rect_area: u32) {\n    rect_area(@@",
        absent=("pub fn rect_area",),
        files=RUST,
    ),
    # Java
    Case(
        "java",
        "definitions",
        "src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.Money;\n\nclass App {\n  void f() {\n    Money m = Money.ofCents(@@",
        ("/** Money from a number of cents. */\n    public static Money ofCents(long cents)",),
        files=JAVA,
    ),
    Case(
        "java",
        "imports",
        "src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.*;\n\nclass App {\n  Money total(@@",
        ("public final class Money {",),
        files=JAVA,
    ),
    Case(
        "java",
        "receivers",
        "src/main/java/com/shop/App.java",
        "package com.shop;\n\nclass App {\n  void f(Inventory inv) {\n    inv.reserve(@@",  # same package
        ("public boolean reserve(String sku, int count)",),
        files=JAVA,
    ),
    Case(
        "java",
        "shadowing",
        "src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.Money;\n\nclass App {\n  void f(int Money) {\n    int x = Money + @@",
        absent=("class Money",),
        files=JAVA,
    ),
    # C
    Case(
        "c",
        "definitions",
        "src/main.c",
        '#include "vec.h"\n\nint main(void) {\n    Vec2 v = vec2_add(@@',
        ("/* Adds two vectors. */\nVec2 vec2_add(Vec2 a, Vec2 b);",),
        files=C_FILES,
    ),
    Case(
        "c",
        "imports",
        "src/main.c",
        '#include "vec.h"\n\nint main(void) {\n    Vec2 v;@@',
        ("typedef struct {\n    float x, y;\n} Vec2;",),
        files=C_FILES,
    ),
    Case(
        "c",
        "receivers",
        "src/main.c",
        '#include "vec.h"\n\nfloat f(Vec2 v) {\n    return v.x + vec2_add(@@',
        ("Vec2 vec2_add(Vec2 a, Vec2 b);",),
        files=C_FILES,
    ),
    Case(
        "c",
        "shadowing",
        "src/main.c",
        '#include "vec.h"\n\nint f(int vec2_add) {\n    return vec2_add(@@',
        absent=("Vec2 vec2_add",),
        files=C_FILES,
    ),
    # C++
    Case(
        "cpp",
        "definitions",
        "src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    Timer t@@',
        ("/// Measures elapsed time.\nclass Timer {", "    void start();"),
        files=CPP,
    ),
    Case(
        "cpp",
        "imports",
        "src/app/run.cpp",
        '#include "../timer.h"\n\nvoid run() {\n    Timer t;@@',
        ("class Timer {",),
        files=CPP,
    ),
    Case(
        "cpp",
        "receivers",
        "src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    Timer t;\n    t.start(@@',
        ("    /// Starts (or restarts) the timer.\n    void start();",),
        files=CPP,
    ),
    Case(
        "cpp",
        "shadowing",
        "src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    int Timer = 1;\n    return Timer + @@',
        absent=("class Timer",),
        files=CPP,
    ),
    # C#
    Case(
        "csharp",
        "definitions",
        "App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main() {\n    var t = TaxCalculator.Compute(@@",
        (
            "/// <summary>Tax on an amount.</summary>\n    public static decimal Compute(decimal amount, decimal rate)",
        ),
        files=CSHARP,
    ),
    Case(
        "csharp",
        "imports",
        "App/Program.cs",
        "using Tax = Shop.Billing.TaxCalculator;\n\nclass Program {\n  static void Main() {\n    Tax.Compute(@@",
        ("public class TaxCalculator",),
        files=CSHARP,
    ),
    Case(
        "csharp",
        "receivers",
        "App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main() {\n    var c = new TaxCalculator();\n    c.Round(@@",
        ("    public decimal Round(decimal value)",),
        files=CSHARP,
    ),
    Case(
        "csharp",
        "shadowing",
        "App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main(int TaxCalculator) {\n    var x = TaxCalculator + @@",
        absent=("class TaxCalculator",),
        files=CSHARP,
    ),
    # Ruby
    Case(
        "ruby",
        "definitions",
        "app.rb",
        'require_relative "lib/slugger"\n\nputs Slugger.slugify(@@',
        ('  # The slug of a title.\n  def self.slugify(title, sep = "-")',),
        files=RUBY,
    ),
    Case(
        "ruby",
        "imports",
        "bin/run.rb",
        'require "slugger"\n\nSlugger@@',  # require of the workspace's lib/
        ("# Turns titles into URL slugs.\nclass Slugger",),
        files=RUBY,
    ),
    Case(
        "ruby",
        "receivers",
        "app.rb",
        'require_relative "lib/slugger"\n\ns = Slugger.new("-")\ns.call(@@',
        ("  def call(title)",),
        files=RUBY,
    ),
    Case(
        "ruby",
        "shadowing",
        "app.rb",
        'require_relative "lib/slugger"\n\ndef f(slugify)\n  slugify(@@',
        absent=("def self.slugify",),
        files=RUBY,
    ),
    # PHP
    Case(
        "php",
        "definitions",
        "src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f() {\n    $m = new Mailer(@@",
        ("/** Sends mail. */\nclass Mailer",),
        files=PHP,
    ),
    Case(
        "php",
        "imports",
        "src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer as Post;\n\nfunction f() {\n    return new Post(@@",
        ("class Mailer",),
        files=PHP,
    ),
    Case(
        "php",
        "receivers",
        "src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f(Mailer $m) {\n    $m->send(@@",
        ("    public function send(string $to, string $body): bool",),
        files=PHP,
    ),
    Case(
        "php",
        "shadowing",
        "src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nclass Mailer {}\n\nfunction f() {\n    return new Mailer(@@",
        absent=("Sends mail",),
        files=PHP,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.language}-{c.aspect}" for c in CASES])
def test_context_per_language(case: Case) -> None:
    text = case.code.replace("@@", "")
    cursor = case.code.index("@@")
    files = Files({**case.files, case.path: text})
    context = gather(
        Document(case.path, language_of(case.path) or "text", text),
        cursor,
        cursor,
        files,
        max_chars=4000,
        bodies=False,
    )
    for expected in case.present:
        assert expected in context.text, context.text
    for unexpected in case.absent:
        assert unexpected not in context.text, context.text


def test_every_language_has_all_four_aspects() -> None:
    languages = {c.language for c in CASES}
    assert len(languages) == 11
    for language in languages:
        aspects = {c.aspect for c in CASES if c.language == language}
        assert aspects == {"definitions", "imports", "receivers", "shadowing"}, language
