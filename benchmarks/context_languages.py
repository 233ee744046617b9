# ruff: noqa: E501  (code samples, one per line)
"""The recall benchmark's workspace and cases beyond Python, TypeScript and Go: Rust, Java,
C, C++, C#, Ruby, PHP, JavaScript and TSX, each project in its own folder (as in a
monorepo). A case's document is an open buffer with the cursor (or the selection's start
and end) at ``@@``."""

from __future__ import annotations

FILES: dict[str, str] = {
    # Rust: a crate in rs/, modules by `mod`, `use crate::`, `super::`, impl methods.
    "rs/Cargo.toml": '[package]\nname = "jobs"\nversion = "0.1.0"\n',
    "rs/src/lib.rs": "pub mod geometry;\npub mod queue;\npub mod util;\n",
    "rs/src/geometry.rs": """\
/// A rectangle.
#[derive(Debug, Clone)]
pub struct Rect {
    pub w: f64,
    pub h: f64,
}

/// Area of a rectangle.
pub fn rect_area(r: &Rect) -> f64 {
    r.w * r.h
}

/// The largest allowed side.
pub const MAX_SIDE: f64 = 1000.0;
""",
    "rs/src/queue.rs": """\
use crate::geometry::Rect;

/// Jobs waiting to run, oldest first.
pub struct JobQueue {
    jobs: Vec<String>,
}

impl JobQueue {
    /// An empty queue.
    pub fn new() -> Self {
        JobQueue { jobs: Vec::new() }
    }

    /// Adds a job at the end.
    pub fn enqueue(&mut self, job: String) {
        self.jobs.push(job);
    }

    /// Takes the oldest job.
    pub fn dequeue(&mut self) -> Option<String> {
        self.jobs.pop()
    }
}

/// What a job needs.
pub enum Priority {
    Low,
    High,
}
""",
    "rs/src/util/mod.rs": "pub mod text;\n",
    "rs/src/util/text.rs": """\
/// Pads a label to a width.
pub fn pad(label: &str, width: usize) -> String {
    format!("{:width$}", label, width = width)
}
""",
    # Java: packages under src/main/java.
    "java/src/main/java/com/shop/money/Money.java": """\
package com.shop.money;

/** Money in cents. */
public final class Money {
    private final long cents;

    /** Money from a number of cents. */
    public static Money ofCents(long cents) {
        return new Money(cents);
    }

    private Money(long cents) {
        this.cents = cents;
    }

    /** The sum of two amounts. */
    public Money plus(Money other) {
        return new Money(cents + other.cents);
    }
}
""",
    "java/src/main/java/com/shop/Inventory.java": """\
package com.shop;

/** Stock per SKU. */
public class Inventory {
    /** Holds count items of sku; false when there are not enough. */
    public boolean reserve(String sku, int count) {
        return true;
    }

    public int available(String sku) {
        return 0;
    }
}
""",
    "java/src/main/java/com/shop/util/Strings.java": """\
package com.shop.util;

public final class Strings {
    /** The text with its first letter upper-cased. */
    public static String capitalize(String text) {
        return text;
    }
}
""",
    # C: headers in include/.
    "c/include/vec.h": """\
#ifndef VEC_H
#define VEC_H

/* A 2D vector. */
typedef struct {
    float x, y;
} Vec2;

/* Adds two vectors. */
Vec2 vec2_add(Vec2 a, Vec2 b);

/* The dot product. */
float vec2_dot(Vec2 a, Vec2 b);

#define VEC2_ZERO ((Vec2){0.0f, 0.0f})

#endif
""",
    "c/src/vec.c": '#include "vec.h"\n\nVec2 vec2_add(Vec2 a, Vec2 b) {\n    return (Vec2){a.x + b.x, a.y + b.y};\n}\n',
    "c/include/list.h": """\
#pragma once

/* A singly linked list of ints. */
struct node {
    int value;
    struct node *next;
};

/* Pushes value in front of head; returns the new head. */
struct node *list_push(struct node *head, int value);
""",
    # C++: a class in a header, methods defined in the .cpp.
    "cpp/src/timer.h": """\
#pragma once

/// Measures elapsed time.
class Timer {
public:
    Timer();
    /// Starts (or restarts) the timer.
    void start();
    /// Seconds since start().
    double elapsed() const;
private:
    double begun_;
};

/// Formats seconds as mm:ss.
std::string format_seconds(double seconds);
""",
    "cpp/src/stats.hpp": """\
#pragma once
#include <vector>

namespace stats {
/// The arithmetic mean.
template <typename T>
double mean(const std::vector<T>& values) {
    return 0.0;
}
}
""",
    # C#: namespaces in folders.
    "cs/Shop/Billing/TaxCalculator.cs": """\
namespace Shop.Billing;

/// <summary>Computes taxes.</summary>
public class TaxCalculator
{
    /// <summary>Tax on an amount.</summary>
    public static decimal Compute(decimal amount, decimal rate)
    {
        return amount * rate;
    }

    /// <summary>Rounds to cents.</summary>
    public decimal Round(decimal value) => value;
}
""",
    "cs/Shop/Billing/Invoice.cs": """\
namespace Shop.Billing
{
    /// <summary>A bill.</summary>
    public record Invoice(string Number, decimal Total);

    public enum Status { Draft, Sent, Paid }
}
""",
    # Ruby: lib/ and require_relative.
    "rb/lib/slugger.rb": """\
# Turns titles into URL slugs.
class Slugger
  # The slug of a title.
  def self.slugify(title, sep = "-")
    title.downcase.gsub(" ", sep)
  end

  def initialize(sep)
    @sep = sep
  end

  # Slug with this slugger's separator.
  def call(title)
    title
  end
end
""",
    "rb/lib/util/money.rb": """\
module Money
  # Formats cents as a price.
  def self.format(cents, currency: "EUR")
    "#{cents / 100.0} #{currency}"
  end
end
""",
    # PHP: composer PSR-4.
    "php/composer.json": '{"autoload": {"psr-4": {"App\\\\": "src/"}}}\n',
    "php/src/Util/Mailer.php": """\
<?php
namespace App\\Util;

/** Sends mail. */
class Mailer
{
    /** Sends one message. */
    public function send(string $to, string $body): bool
    {
        return true;
    }

    /** A mailer for tests. */
    public static function fake(): Mailer
    {
        return new Mailer();
    }
}
""",
    "php/src/Util/helpers.php": """\
<?php

/** Euros with two decimals. */
function euros(float $amount): string
{
    return number_format($amount, 2);
}
""",
    # JavaScript (CommonJS and ESM) and TSX.
    "web/lib/legacy.js": """\
/** Reads a whole file. */
function readAll(path, encoding = "utf8") {
  return "";
}

/** Splits text into lines. */
const lines = (text) => text.split("\\n");

module.exports = { readAll, lines };
""",
    "web/lib/cart.mjs": """\
/** A shopping cart. */
export class Cart {
  constructor() {
    this.items = [];
  }
  /** Adds an item. */
  add(item) {
    this.items.push(item);
  }
}

export default function total(cart) {
  return cart.items.length;
}
""",
    "web/tsconfig.json": '{\n  // aliases\n  "compilerOptions": {"baseUrl": ".", "paths": {"@ui/*": ["components/*"]},},\n}\n',
    "web/components/Button.tsx": """\
/** Props of a button. */
export interface ButtonProps {
  label: string;
  onClick?: () => void;
}

/** A button. */
export function Button({ label, onClick }: ButtonProps) {
  return <button onClick={onClick}>{label}</button>;
}
""",
    "web/components/index.ts": 'export * from "./Button";\n',
}


def case(
    name: str, path: str, document: str, needed: str, kind: str = "completion"
) -> dict[str, str]:
    return {"name": name, "path": path, "document": document, "needed": needed, "kind": kind}


CASES = [
    # Rust
    case(
        "rs use crate:: rect_area(",
        "rs/src/main.rs",
        "mod geometry;\nmod queue;\nuse crate::geometry::rect_area;\n\nfn main() {\n    let a = rect_area(@@\n}\n",
        "pub fn rect_area(r: &Rect) -> f64",
    ),
    case(
        "rs struct Rect {",
        "rs/src/main.rs",
        "mod geometry;\nuse geometry::Rect;\n\nfn main() {\n    let r = Rect {@@\n}\n",
        "pub struct Rect {\n    pub w: f64,",
    ),
    case(
        "rs receiver q.enqueue(",
        "rs/src/main.rs",
        "mod queue;\nuse queue::JobQueue;\n\nfn main() {\n    let mut q = JobQueue::new();\n    q.enqueue(@@\n}\n",
        "pub fn enqueue(&mut self, job: String)",
    ),
    case(
        "rs static JobQueue::new(",
        "rs/src/main.rs",
        "mod queue;\nuse crate::queue::JobQueue;\n\nfn main() {\n    let q = JobQueue::new(@@\n}\n",
        "pub fn new() -> Self",
    ),
    case(
        "rs module path geometry::",
        "rs/src/main.rs",
        "mod geometry;\n\nfn main() {\n    let m = geometry::MAX_SIDE@@\n}\n",
        "pub const MAX_SIDE: f64 = 1000.0;",
    ),
    case(
        "rs super:: from a submodule",
        "rs/src/util/report.rs",
        "use super::text::pad;\n\npub fn line() -> String {\n    pad(@@\n}\n",
        "pub fn pad(label: &str, width: usize) -> String",
    ),
    case(
        "rs param type r: &Rect",
        "rs/src/main.rs",
        "mod geometry;\nuse geometry::{Rect, rect_area};\n\nfn double(r: &Rect) -> f64 {\n    2.0 * rect_area(r) + r.w@@\n}\n",
        "pub struct Rect {",
    ),
    case(
        "rs crate name in use",
        "rs/src/bin/tool.rs",
        "use jobs::queue::Priority;\n\nfn main() {\n    let p = Priority::High@@\n}\n",
        "pub enum Priority {",
    ),
    case(
        "rs selection uses JobQueue",
        "rs/src/main.rs",
        "mod queue;\nuse queue::JobQueue;\n\nfn main() {\n@@    let mut q = JobQueue::new();\n    q.dequeue();\n@@}\n",
        "pub fn dequeue(&mut self) -> Option<String>",
        "action",
    ),
    # Java
    case(
        "java static Money.ofCents(",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.Money;\n\nclass App {\n  void f() {\n    Money m = Money.ofCents(@@\n  }\n}\n",
        "public static Money ofCents(long cents)",
    ),
    case(
        "java receiver inv.reserve(",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nclass App {\n  void f(Inventory inv) {\n    inv.reserve(@@\n  }\n}\n",
        "public boolean reserve(String sku, int count)",
    ),
    case(
        "java var = new Inventory()",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nclass App {\n  void f() {\n    var inv = new Inventory();\n    inv.available(@@\n  }\n}\n",
        "public int available(String sku)",
    ),
    case(
        "java wildcard import Strings",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.util.*;\n\nclass App {\n  String f(String s) {\n    return Strings.capitalize(@@\n  }\n}\n",
        "public static String capitalize(String text)",
    ),
    case(
        "java class Money",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.Money;\n\nclass App {\n  Money total(@@\n}\n",
        "public final class Money {",
    ),
    case(
        "java receiver m.plus(",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport com.shop.money.Money;\n\nclass App {\n  Money f(Money m) {\n    return m.plus(@@\n  }\n}\n",
        "public Money plus(Money other)",
    ),
    case(
        "java static import",
        "java/src/main/java/com/shop/App.java",
        "package com.shop;\n\nimport static com.shop.util.Strings.capitalize;\n\nclass App {\n  String f(String s) {\n    return capitalize(@@\n  }\n}\n",
        "public static String capitalize(String text)",
    ),
    case(
        "java selection uses Inventory",
        "java/src/main/java/com/shop/App.java",
        'package com.shop;\n\nclass App {\n  boolean f(Inventory inv) {\n@@    return inv.reserve("a", 1);\n@@  }\n}\n',
        "public boolean reserve(String sku, int count)",
        "action",
    ),
    # C
    case(
        "c include vec2_add(",
        "c/src/main.c",
        '#include "vec.h"\n\nint main(void) {\n    Vec2 v = vec2_add(@@\n}\n',
        "Vec2 vec2_add(Vec2 a, Vec2 b);",
    ),
    case(
        "c typedef Vec2",
        "c/src/main.c",
        '#include "vec.h"\n\nint main(void) {\n    Vec2 v = {@@\n}\n',
        "typedef struct {\n    float x, y;\n} Vec2;",
    ),
    case(
        "c macro VEC2_ZERO",
        "c/src/main.c",
        '#include "vec.h"\n\nint main(void) {\n    Vec2 v = VEC2_ZERO@@\n}\n',
        "#define VEC2_ZERO ((Vec2){0.0f, 0.0f})",
    ),
    case(
        "c vec2_dot(",
        "c/src/main.c",
        '#include "vec.h"\n\nfloat f(Vec2 a) {\n    return vec2_dot(@@\n}\n',
        "float vec2_dot(Vec2 a, Vec2 b);",
    ),
    case(
        "c struct node",
        "c/src/main.c",
        '#include "list.h"\n\nint main(void) {\n    struct node *head = list_push(@@\n}\n',
        "struct node *list_push(struct node *head, int value);",
    ),
    case(
        "c struct fields",
        "c/src/main.c",
        '#include "list.h"\n\nint sum(struct node *n) {\n    return n->value + sum(n->next@@\n}\n',
        "struct node {\n    int value;",
    ),
    case(
        "c selection uses vec2_add",
        "c/src/main.c",
        '#include "vec.h"\n\nint main(void) {\n@@    Vec2 v = vec2_add(VEC2_ZERO, VEC2_ZERO);\n@@    return 0;\n}\n',
        "Vec2 vec2_add(Vec2 a, Vec2 b);",
        "action",
    ),
    # C++
    case(
        "cpp receiver t.start(",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    Timer t;\n    t.start(@@\n}\n',
        "    void start();",
    ),
    case(
        "cpp class Timer",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    Timer t@@\n}\n',
        "class Timer {",
    ),
    case(
        "cpp t.elapsed()",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\ndouble f(const Timer& t) {\n    return t.elapsed(@@\n}\n',
        "    double elapsed() const;",
    ),
    case(
        "cpp free function",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\nvoid f(double s) {\n    auto text = format_seconds(@@\n}\n',
        "std::string format_seconds(double seconds);",
    ),
    case(
        "cpp template in a namespace",
        "cpp/src/main.cpp",
        '#include "stats.hpp"\n\ndouble f(std::vector<int> v) {\n    return stats::mean(@@\n}\n',
        "double mean(const std::vector<T>& values)",
    ),
    case(
        "cpp auto t = Timer()",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\nint main() {\n    auto t = Timer();\n    t.start(@@\n}\n',
        "    void start();",
    ),
    case(
        "cpp selection uses Timer",
        "cpp/src/main.cpp",
        '#include "timer.h"\n\nint main() {\n@@    Timer t;\n    t.start();\n@@    return 0;\n}\n',
        "class Timer {",
        "action",
    ),
    # C#
    case(
        "cs static TaxCalculator.Compute(",
        "cs/App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main() {\n    var t = TaxCalculator.Compute(@@\n  }\n}\n",
        "public static decimal Compute(decimal amount, decimal rate)",
    ),
    case(
        "cs receiver c.Round(",
        "cs/App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main() {\n    var c = new TaxCalculator();\n    c.Round(@@\n  }\n}\n",
        "public decimal Round(decimal value)",
    ),
    case(
        "cs alias using",
        "cs/App/Program.cs",
        "using Tax = Shop.Billing.TaxCalculator;\n\nclass Program {\n  static void Main() {\n    Tax.Compute(@@\n  }\n}\n",
        "public class TaxCalculator",
    ),
    case(
        "cs record Invoice",
        "cs/App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static void Main() {\n    var i = new Invoice(@@\n  }\n}\n",
        "public record Invoice(string Number, decimal Total);",
    ),
    case(
        "cs enum Status",
        "cs/App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static Status S() {\n    return Status.@@\n  }\n}\n",
        "public enum Status { Draft, Sent, Paid }",
    ),
    case(
        "cs typed parameter",
        "cs/App/Program.cs",
        "using Shop.Billing;\n\nclass Program {\n  static decimal F(TaxCalculator calc) {\n    return calc.Round(@@\n  }\n}\n",
        "public decimal Round(decimal value)",
    ),
    case(
        "cs same namespace folder",
        "cs/Shop/Billing/Report.cs",
        "namespace Shop.Billing;\n\nclass Report {\n  decimal F() {\n    return TaxCalculator.Compute(@@\n  }\n}\n",
        "public static decimal Compute(decimal amount, decimal rate)",
    ),
    case(
        "cs selection uses Invoice",
        "cs/App/Program.cs",
        'using Shop.Billing;\n\nclass Program {\n  static void Main() {\n@@    var i = new Invoice("1", 2m);\n@@  }\n}\n',
        "public record Invoice(string Number, decimal Total);",
        "action",
    ),
    # Ruby
    case(
        "rb Slugger.slugify(",
        "rb/app.rb",
        'require_relative "lib/slugger"\n\nputs Slugger.slugify(@@\n',
        'def self.slugify(title, sep = "-")',
    ),
    case(
        "rb class Slugger",
        "rb/bin/run.rb",
        'require "slugger"\n\nSlugger@@\n',
        "# Turns titles into URL slugs.\nclass Slugger",
    ),
    case(
        "rb receiver s.call(",
        "rb/app.rb",
        'require_relative "lib/slugger"\n\ns = Slugger.new("-")\ns.call(@@\n',
        "  def call(title)",
    ),
    case(
        "rb module method Money.format(",
        "rb/app.rb",
        'require_relative "lib/util/money"\n\nputs Money.format(@@\n',
        'def self.format(cents, currency: "EUR")',
    ),
    case(
        "rb inside a method",
        "rb/app.rb",
        'require_relative "lib/slugger"\n\ndef slug_all(titles)\n  titles.map { |t| Slugger.slugify(@@ }\nend\n',
        'def self.slugify(title, sep = "-")',
    ),
    case(
        "rb instance variable",
        "rb/app.rb",
        'require_relative "lib/slugger"\n\nclass Page\n  def initialize\n    @slugger = Slugger.new("-")\n  end\n\n  def slug(t)\n    Slugger.slugify(@@\n  end\nend\n',
        'def self.slugify(title, sep = "-")',
    ),
    case(
        "rb selection uses Slugger",
        "rb/app.rb",
        'require_relative "lib/slugger"\n\n@@s = Slugger.new("_")\nputs s.call("A b")\n@@',
        "  def call(title)",
        "action",
    ),
    # PHP
    case(
        "php new Mailer(",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f() {\n    $m = new Mailer(@@\n}\n",
        "/** Sends mail. */\nclass Mailer",
    ),
    case(
        "php receiver $m->send(",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f(Mailer $m) {\n    $m->send(@@\n}\n",
        "public function send(string $to, string $body): bool",
    ),
    case(
        "php static Mailer::fake(",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f() {\n    $m = Mailer::fake(@@\n}\n",
        "public static function fake(): Mailer",
    ),
    case(
        "php alias use",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer as Post;\n\nfunction f() {\n    return new Post(@@\n}\n",
        "class Mailer",
    ),
    case(
        "php require_once helpers",
        "php/src/Controller/Home.php",
        "<?php\nrequire_once __DIR__ . '/../Util/helpers.php';\n\nfunction f($x) {\n    return euros(@@\n}\n",
        "function euros(float $amount): string",
    ),
    case(
        "php new then ->send",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f() {\n    $m = new Mailer();\n    $m->send(@@\n}\n",
        "public function send(string $to, string $body): bool",
    ),
    case(
        "php same namespace folder",
        "php/src/Util/Notifier.php",
        "<?php\nnamespace App\\Util;\n\nclass Notifier {\n    public function f() {\n        return Mailer::fake(@@\n    }\n}\n",
        "public static function fake(): Mailer",
    ),
    case(
        "php selection uses Mailer",
        "php/src/Controller/Home.php",
        "<?php\nnamespace App\\Controller;\n\nuse App\\Util\\Mailer;\n\nfunction f() {\n@@    $m = new Mailer();\n    $m->send('a', 'b');\n@@}\n",
        "public function send(string $to, string $body): bool",
        "action",
    ),
    # JavaScript
    case(
        "js require namespace readAll(",
        "web/app.js",
        "const legacy = require('./lib/legacy');\n\nfunction main() {\n  legacy.readAll(@@\n}\n",
        'function readAll(path, encoding = "utf8")',
    ),
    case(
        "js require destructured lines(",
        "web/app.js",
        "const { lines } = require('./lib/legacy');\n\nfunction main(t) {\n  return lines(@@\n}\n",
        'const lines = (text) => text.split("\\n");',
    ),
    case(
        "js esm class Cart",
        "web/app.mjs",
        "import { Cart } from './lib/cart.mjs';\n\nconst c = new Cart(@@\n",
        "export class Cart {",
    ),
    case(
        "js receiver c.add(",
        "web/app.mjs",
        "import { Cart } from './lib/cart.mjs';\n\nconst c = new Cart();\nc.add(@@\n",
        "  add(item)",
    ),
    case(
        "js default import total(",
        "web/app.mjs",
        "import total from './lib/cart.mjs';\n\nconsole.log(total(@@\n",
        "export default function total(cart)",
    ),
    case(
        "js selection uses readAll",
        "web/app.js",
        "const legacy = require('./lib/legacy');\n\nfunction main() {\n@@  return legacy.readAll('a');\n@@}\n",
        'function readAll(path, encoding = "utf8")',
        "action",
    ),
    # TSX
    case(
        "tsx tsconfig paths Button",
        "web/pages/Home.tsx",
        'import { Button } from "@ui/Button";\n\nexport function Home() {\n  return <Button@@\n}\n',
        "export function Button({ label, onClick }: ButtonProps)",
    ),
    case(
        "tsx barrel ButtonProps",
        "web/pages/Home.tsx",
        'import { ButtonProps } from "../components";\n\nconst p: ButtonProps = {@@\n',
        "export interface ButtonProps {",
    ),
    case(
        "tsx props interface via signature",
        "web/pages/Home.tsx",
        'import { Button } from "@ui/index";\n\nexport function Home() {\n  return Button({@@\n}\n',
        "export interface ButtonProps {",
    ),
]
