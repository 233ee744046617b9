"""Early stop: the syntax tree (a suggestion is complete when the construct it opened has
closed) against the indentation heuristic alone, on the same streamed replies.

Each case is a document with the cursor at ``|``, a reply as the model streams it, and the
text a person would accept. Both rules see the reply grow one character at a time; the text
kept when a rule first says "complete" is compared with the expected one: exact, too early
(a prefix of it: the suggestion is cut) or too late (more than it: the user waits, and the
extra text is cleaned or shown).

    python benchmarks/early_stop_syntax.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glm_lsp.completion import early_stop  # noqa: E402
from glm_lsp.completion.cursor import Cursor, Shape, cursor_at  # noqa: E402
from glm_lsp.context.definitions import language_of  # noqa: E402
from glm_lsp.syntax.languages import GRAMMARS, load  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    document: str  # with | at the cursor
    reply: str
    expected: str


CASES = [
    Case(
        "ts call spanning lines",
        "a.ts",
        "const total = sum(|\n",
        "a,\n  b,\n  c);\nconsole.log(total);\n",
        "a,\n  b,\n  c);",
    ),
    Case(
        "python call spanning lines",
        "a.py",
        "x = compute(|\n",
        "\n    1,\n    2,\n)\nprint(x)\n",
        "\n    1,\n    2,\n)",
    ),
    Case(
        "rust builder spanning lines",
        "a.rs",
        "fn main() {\n    let q = JobQueue::with(|\n}\n",
        "\n        8,\n    );\n    q.run();\n",
        "\n        8,\n    );",
    ),
    Case(
        "go struct literal",
        "a.go",
        "func f() T {\n\treturn T{|\n}\n",
        "\n\t\tA: 1,\n\t\tB: 2,\n\t}\n}\n",
        "\n\t\tA: 1,\n\t\tB: 2,\n\t}",
    ),
    Case(
        "c body not indented",
        "a.c",
        "int add(int a, int b) {|\n",
        "\nreturn a + b;\n}\nint main(void) {\n",
        "\nreturn a + b;\n}",
    ),
    Case(
        "js closing brace at body level",
        "a.js",
        "if (ready) {|\n",
        "\n    start();\n    }\n    stop();\n",
        "\n    start();\n    }",
    ),
    Case(
        "java method body",
        "A.java",
        "class A {\n  int f(int x) {|\n}\n",
        "\n    return x + 1;\n  }\n\n  int g() {\n    return 2;\n  }\n",
        "\n    return x + 1;\n  }",
    ),
    Case(
        "c# brace in a string",
        "A.cs",
        "void Log() {|\n",
        '\n    Console.WriteLine("}");\n}\nvoid Next() {}\n',
        '\n    Console.WriteLine("}");\n}',
    ),
    Case(
        "php array spanning lines",
        "a.php",
        "<?php\n$config = [|\n",
        "\n    'port' => 8080,\n    'host' => 'x',\n];\nrun($config);\n",
        "\n    'port' => 8080,\n    'host' => 'x',\n];",
    ),
    Case(
        "cpp else continues",
        "a.cpp",
        "void f() {\n  if (x) {|\n}\n",
        "\n    a();\n  } else {\n    b();\n  }\n  c();\n",
        "\n    a();\n  } else {\n    b();\n  }",
    ),
    Case(
        "ts arrow body",
        "a.ts",
        "const f = (x: number) => {|\n",
        "\n  return x * 2;\n};\nconst g = 1;\n",
        "\n  return x * 2;\n};",
    ),
    Case(
        "python block (indentation)",
        "a.py",
        "def add(a, b):|\n",
        "\n    c = a + b\n    return c\n\ndef mul(a, b):\n",
        "\n    c = a + b\n    return c",
    ),
    Case(
        "ruby block (end)",
        "a.rb",
        "def greet(name)|\n",
        "\n  puts name\nend\n\ngreet('a')\n",
        "\n  puts name\nend",
    ),
    Case("mid-line finish", "a.js", "const x = |\n", "compute(1, 2);\nfoo();\n", "compute(1, 2);"),
    Case(
        "ts auto-closed paren",
        "a.ts",
        "const x = foo(|);\n",
        "a, b\nconsole.log(x);\n",
        "a, b",
    ),
    Case(
        "python lines on a blank line",
        "a.py",
        "def f(a):\n    |\n",
        "x = g(\n        a,\n    )\n    return x\n\nprint(1)\n",
        "x = g(\n        a,\n    )\n    return x",
    ),
    Case(
        "ts class method",
        "a.ts",
        "class A {\n  run(): void {|\n}\n",
        "\n    this.go();\n  }\n\n  stop(): void {}\n",
        "\n    this.go();\n  }",
    ),
    Case(
        "js template literal with ${",
        "a.js",
        "function label(n) {|\n",
        "\n  return `${n} item${n === 1 ? '' : 's'} }`;\n}\nlabel(1);\n",
        "\n  return `${n} item${n === 1 ? '' : 's'} }`;\n}",
    ),
    Case(
        "go if block",
        "a.go",
        "func f() {\n\tif ok {|\n}\n",
        "\n\t\treturn\n\t}\n\tg()\n",
        "\n\t\treturn\n\t}",
    ),
]


def kept(rule: str, case: Case) -> str | None:
    offset = case.document.index("|")
    text = case.document.replace("|", "", 1)
    cursor = cursor_at(case.path, language_of(case.path) or "text", text, offset)
    for size in range(len(case.reply) + 1):
        partial = case.reply[:size]
        end = (
            early_stop.completion_end(partial, cursor)
            if rule == "syntax"
            else indentation_end(partial, cursor)
        )
        if end is not None:
            return partial[:end]
    return None


def indentation_end(reply: str, cursor: Cursor) -> int | None:
    """Today's rule alone: the indentation heuristic (no syntax tree)."""
    if cursor.shape is Shape.LINE:
        return early_stop._line_end(reply, cursor)
    return early_stop._block_end(reply, cursor)


def verdict(found: str | None, expected: str) -> str:
    if found is None:
        return "never (waits for the stream's end)"
    if found.rstrip() == expected.rstrip():
        return "exact"
    return "too early" if expected.startswith(found.rstrip()) else "too late"


def run() -> list[dict[str, str]]:
    for grammar in GRAMMARS:  # as the context gatherer does before the first completion
        load(grammar)
    rows = []
    for case in CASES:
        rows.append(
            {
                "case": case.name,
                "indentation": verdict(kept("indentation", case), case.expected),
                "syntax": verdict(kept("syntax", case), case.expected),
            }
        )
    return rows


def tally(rows: list[dict[str, str]], rule: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        word = row[rule].split(" (")[0]
        counts[word] = counts.get(word, 0) + 1
    return counts


def summary_rows(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    """Rows for benchmarks/RESULTS.md (run_all.py's contract)."""
    syntax, indentation = tally(rows, "syntax"), tally(rows, "indentation")

    def spread(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "exact")

    return [
        {
            "measured": f"early stop, {len(rows)} streamed replies in 9 languages: exact stops "
            "(syntax tree / indentation alone)",
            "command": "`python benchmarks/early_stop_syntax.py`",
            "median": f"{syntax.get('exact', 0)} / {indentation.get('exact', 0)}",
            "spread": f"tree: {spread(syntax) or 'none off'}; indentation: "
            f"{spread(indentation) or 'none off'}",
            "ratio": "",
            "goal": "no case worse than indentation",
            "ok": all(r["syntax"] == "exact" or r["syntax"] == r["indentation"] for r in rows),
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run()
    if args.json:  # one line: run_all reads it
        print(json.dumps({"cases": rows, "rows": summary_rows(rows)}))
        return 0
    print(f"{'case':36} {'indentation only':>36} {'syntax tree':>36}")
    for row in rows:
        print(f"{row['case']:36} {row['indentation']:>36} {row['syntax']:>36}")
    for rule in ("indentation", "syntax"):
        print(f"{rule}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally(rows, rule).items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
