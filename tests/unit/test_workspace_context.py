"""The context module on plain inputs: which definitions the code at a cursor or selection
gets from other files, and what it never gets."""

from __future__ import annotations

import posixpath

import pytest

from glm_lsp.context.definitions import (
    HEADER,
    Document,
    definitions_in,
    fit,
    fixtures_in,
    gather,
    render_fixtures,
)


class Files:
    """A workspace in memory: relative path -> text (what a confined reader allows)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.reads: list[str] = []

    def read(self, relative: str) -> str | None:
        self.reads.append(relative)
        return self.files.get(relative)

    def list_dir(self, relative: str) -> list[str]:
        return [posixpath.basename(p) for p in self.files if posixpath.dirname(p) == relative]


def at(text: str, marker: str) -> int:
    return text.index(marker) + len(marker)


UTIL_PY = '''\
"""Helpers."""


def scale(v, factor=2.5):
    """Multiply v by factor."""
    result = v * factor
    return result


def unused(x):
    return x
'''


def test_python_imported_name_gets_its_signature_and_docstring() -> None:
    main = "from util import scale\n\n\ndef run(v):\n    result = scale(\n"
    files = Files({"util.py": UTIL_PY})
    context = gather(
        Document("main.py", "python", main),
        at(main, "scale("),
        at(main, "scale("),
        files,
        max_chars=3000,
    )
    assert "util.py:" in context.text
    assert "def scale(v, factor=2.5):" in context.text
    assert '"""Multiply v by factor."""' in context.text
    assert "def unused" not in context.text  # not used near the cursor


def test_python_body_only_when_the_budget_allows() -> None:
    main = "from util import scale\nscale(1)\n"
    document = Document("main.py", "python", main)
    files = Files({"util.py": UTIL_PY})
    roomy = gather(document, len(main), len(main), files, max_chars=3000)
    assert "result = v * factor" in roomy.text
    signature_only = len(
        gather(document, len(main), len(main), files, max_chars=3000, bodies=False).text
    )
    tight = gather(document, len(main), len(main), files, max_chars=signature_only)
    assert "def scale(v, factor=2.5):" in tight.text
    assert "result = v * factor" not in tight.text


@pytest.mark.parametrize("budget", [0, 40, len(HEADER) + 30, 120, 200, 333, 3000])
def test_the_budget_is_respected_to_the_character(budget: int) -> None:
    util = "".join(
        f"def f{n}(a, b):\n    '''Doc {n}.'''\n    return a + b + {n}\n\n" for n in range(40)
    )
    names = ", ".join(f"f{n}" for n in range(40))
    main = f"from util import {names}\n" + "".join(f"f{n}(1, 2)\n" for n in range(40))
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"util.py": util}),
        max_chars=budget,
    )
    assert len(context.text) <= budget
    if budget >= 200:
        assert context.definitions  # something fits: it is used


def test_every_budget_up_to_1200_characters_is_respected() -> None:
    # Each budget, so that no off-by-one (the closing newline, a fence) hides between samples.
    util = "".join(f"def f{n}(a, b):\n    '''Doc {n}.'''\n    return a + b\n\n" for n in range(8))
    definitions = list(definitions_in(util, "python", "util.py").values())
    assert len(definitions) == 8
    over = [b for b in range(1200) if len(fit(definitions, b, "python").text) > b]
    assert over == []
    assert fit(definitions, 1199, "python").definitions  # the loop did fit something


def test_python_shadowed_and_unknown_names_are_not_invented() -> None:
    main = (
        "from util import scale\n\n\ndef scale_twice(scale, v):\n"
        "    return scale(unknown_thing(v))\n"
    )
    context = gather(
        Document("main.py", "python", main),
        len(main) - 2,
        len(main) - 2,
        Files({"util.py": UTIL_PY}),
        max_chars=3000,
    )
    assert context.text == ""  # `scale` is the parameter here; `unknown_thing` exists nowhere


def test_python_name_the_module_does_not_define_is_not_invented() -> None:
    main = "from util import missing\nmissing(\n"
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"util.py": UTIL_PY}),
        max_chars=3000,
    )
    assert context.text == ""


def test_python_module_attribute_relative_import_and_dataclass_fields() -> None:
    models = (
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Point:\n"
        '    """A point."""\n\n    x: float\n    y: float = 0.0\n\n'
        "    def norm(self) -> float:\n        return (self.x ** 2 + self.y ** 2) ** 0.5\n"
    )
    main = (
        "from . import geometry\nfrom .models import Point\n\np = Point(1, 2)\ngeometry.area(p)\n"
    )
    files = Files({"pkg/models.py": models, "pkg/geometry.py": "def area(p):\n    return 0\n"})
    context = gather(
        Document("pkg/main.py", "python", main),
        len(main),
        len(main),
        files,
        max_chars=3000,
        bodies=False,
    )
    assert "pkg/models.py:" in context.text and "pkg/geometry.py:" in context.text
    assert "@dataclass\nclass Point:" in context.text
    assert "    x: float\n    y: float = 0.0" in context.text
    assert "    def norm(self) -> float:" in context.text
    assert "return (self.x" not in context.text  # method bodies are not signatures
    assert "def area(p):" in context.text


def test_names_defined_in_open_buffers_are_found_without_an_import() -> None:
    main = "def run():\n    return make_user('a')\n"
    files = Files({"users.py": "def make_user(name):\n    return {'name': name}\n"})
    context = gather(
        Document("main.py", "python", main),
        len(main) - 2,
        len(main) - 2,
        files,
        max_chars=3000,
        open_paths=["users.py"],
    )
    assert "def make_user(name):" in context.text


def test_a_file_the_reader_refuses_is_never_included() -> None:
    """The reader is the confinement (agent.exclude, .gitignore, outside paths): a refused
    file contributes nothing, even when imported or open."""
    main = "from secrets_module import token\nfrom settings import DEBUG\ntoken(DEBUG)\n"
    files = Files({"settings.py": "DEBUG = True\n"})  # secrets_module.py exists but is refused
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        files,
        max_chars=3000,
        open_paths=[".env", "secrets.pem"],
    )
    assert "DEBUG = True" in context.text
    assert "token" not in context.text.replace("token(DEBUG)", "")


UTIL_TS = """\
/** Multiply v by factor. */
export function scale(v: number, factor = 2.5): number {
  return v * factor;
}

export interface Options {
  factor: number;
  clamp?: boolean;
}

export default class Scaler {
  private factor: number;
  constructor(factor: number) {
    this.factor = factor;
  }
  apply(v: number): number {
    return v * this.factor;
  }
}
"""


def test_typescript_named_default_and_type_imports() -> None:
    main = (
        "import Scaler, { scale, type Options } from './util';\n"
        "import { nothing } from 'some-package';\n\n"
        "const o: Options = { factor: 2 };\nconst s = new Scaler(2);\nconst r = scale(\n"
    )
    files = Files({"src/util.ts": UTIL_TS})
    context = gather(
        Document("src/main.ts", "typescript", main),
        len(main),
        len(main),
        files,
        max_chars=3000,
        bodies=False,
    )
    assert (
        "/** Multiply v by factor. */\nexport function scale(v: number, factor = 2.5): number"
        in context.text
    )
    assert "export interface Options {\n  factor: number;" in context.text
    assert "export default class Scaler {" in context.text
    assert "  apply(v: number): number { … }" in context.text
    assert "this.factor = factor" not in context.text
    assert not any("some-package" in r for r in files.reads)  # packages are not read


def test_typescript_shadowed_name_is_not_invented() -> None:
    main = (
        "import { scale } from './util';\n"
        "function scale2() {\n  const scale = 3;\n  return scale * 2;\n}\n"
    )
    context = gather(
        Document("main.ts", "typescript", main),
        len(main) - 5,
        len(main) - 5,
        Files({"util.ts": UTIL_TS}),
        max_chars=3000,
    )
    assert context.text == ""


GO_MOD = "module example.com/shop\n\ngo 1.22\n"
GO_UTIL = """\
package util

// Scale multiplies v by factor.
func Scale(v float64, factor float64) float64 {
	return v * factor
}

// Cart holds the items.
type Cart struct {
	Items []string
	Total float64
}

// Add puts an item in the cart.
func (c *Cart) Add(item string) {
	c.Items = append(c.Items, item)
}
"""


def test_go_package_import_within_the_module_and_same_package_names() -> None:
    main = (
        'package main\n\nimport (\n\t"fmt"\n\t"example.com/shop/util"\n)\n\n'
        "func main() {\n\tc := util.Cart{}\n\tfmt.Println(helper(), util.Scale(\n"
    )
    files = Files(
        {
            "go.mod": GO_MOD,
            "util/util.go": GO_UTIL,
            "util/util_test.go": "package util\n\nfunc TestScale() {}\n",
            "cmd/main.go": main,
            "cmd/helper.go": (
                'package main\n\n// helper says hi.\nfunc helper() string {\n\treturn "hi"\n}\n'
            ),
        }
    )
    context = gather(
        Document("cmd/main.go", "go", main),
        len(main),
        len(main),
        files,
        max_chars=3000,
        bodies=False,
    )
    assert (
        "// Scale multiplies v by factor.\nfunc Scale(v float64, factor float64) float64"
        in context.text
    )
    assert "type Cart struct {\n\tItems []string\n\tTotal float64\n}" in context.text
    assert "func helper() string" in context.text
    assert "TestScale" not in context.text


def test_go_shadowed_and_unknown_names_are_not_invented() -> None:
    main = (
        'package main\n\nimport "example.com/shop/util"\n\n'
        "func main() {\n\thelper := 1\n\tutil.Nope(helper)\n"
    )
    files = Files(
        {
            "go.mod": GO_MOD,
            "util/util.go": GO_UTIL,
            "helper.go": "package main\n\nfunc helper() {}\n",
        }
    )
    context = gather(Document("main.go", "go", main), len(main), len(main), files, max_chars=3000)
    assert context.text == ""


def test_selection_uses_the_names_inside_it() -> None:
    main = (
        "from util import scale, unused\n\n"
        "def a():\n    return scale(2)\n\ndef b():\n    return unused(1)\n"
    )
    start = main.index("def a")
    end = main.index("def b")
    context = gather(
        Document("main.py", "python", main), start, end, Files({"util.py": UTIL_PY}), max_chars=3000
    )
    assert "def scale" in context.text and "def unused" not in context.text


def test_sticky_order_keeps_earlier_definitions_first() -> None:
    main = "from util import scale, unused\nunused(1)\nscale(2)\n"
    document = Document("main.py", "python", main)
    files = Files({"util.py": UTIL_PY})
    fresh = gather(document, len(main), len(main), files, max_chars=3000)
    assert [d.name for d in fresh.definitions] == ["scale", "unused"]  # nearest first
    kept = gather(
        document, len(main), len(main), files, max_chars=3000, previous=[("util.py", "unused")]
    )
    assert [d.name for d in kept.definitions] == ["unused", "scale"]


def test_fixtures_of_a_conftest() -> None:
    conftest = (
        "import pytest\n\n\n@pytest.fixture\ndef db(tmp_path):\n    '''A fresh database.'''\n"
        "    return tmp_path / 'db'\n\n\n"
        "@pytest.fixture(scope='session')\ndef client():\n    return 1\n\n\n"
        "def helper():\n    pass\n"
    )
    fixtures = fixtures_in(conftest, "tests/conftest.py")
    assert [f.name for f in fixtures] == ["db", "client"]
    text = render_fixtures(fixtures, 2000)
    assert "@pytest.fixture\ndef db(tmp_path):\n    '''A fresh database.'''" in text
    assert "tmp_path / 'db'" not in text
    assert len(render_fixtures(fixtures, 150)) <= 150


def test_definitions_in_ignores_nested_and_unknown_languages() -> None:
    text = "def outer():\n    def inner():\n        pass\n    return inner\n"
    assert list(definitions_in(text, "python", "a.py")) == ["outer"]
    assert list(definitions_in("fn main() {}", "rust", "a.rs")) == ["main"]  # tree-sitter
    assert definitions_in("main = 1\n", "haskell", "a.hs") == {}


def test_all_imports_fill_after_the_names_used_but_never_shadowed_ones() -> None:
    util = UTIL_PY + "\n\ndef other(y):\n    return y\n"
    main = "from util import other, scale, unused\n\n\ndef f(unused):\n    return scale(\n"
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"util.py": util}),
        max_chars=3000,
        all_imports=True,
    )
    assert [d.name for d in context.definitions] == ["scale", "other"]  # used first


def test_python_star_import_and_what_a_signature_returns() -> None:
    models = (
        "class Order:\n    '''An order.'''\n\n    total: float\n\n\n"
        "def make_order(total: float) -> Order:\n    return Order()\n"
    )
    main = "from models import *\n\nx = make_order(\n"
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"models.py": models}),
        max_chars=3000,
        bodies=False,
    )
    assert [d.name for d in context.definitions] == ["make_order", "Order"]


def test_typescript_barrel_reexports_are_followed() -> None:
    files = Files(
        {
            "src/index.ts": 'export * from "./util";\nexport { User as Person } from "./models";\n',
            "src/util.ts": UTIL_TS,
            "src/models.ts": "export class User {\n  name = '';\n}\n",
        }
    )
    main = 'import { scale, Person } from "./src";\nconst p = new Person();\nscale(\n'
    context = gather(
        Document("main.ts", "typescript", main), len(main), len(main), files, max_chars=3000
    )
    assert "export function scale(v: number, factor = 2.5): number" in context.text
    assert "export class User {" in context.text


def test_go_type_brings_its_methods() -> None:
    main = 'package main\n\nimport "example.com/shop/util"\n\nfunc main() {\n\tc := util.Cart{}\n'
    files = Files({"go.mod": GO_MOD, "util/util.go": GO_UTIL})
    context = gather(
        Document("main.go", "go", main), len(main), len(main), files, max_chars=3000, bodies=False
    )
    assert "func (c *Cart) Add(item string)" in context.text


def test_a_local_of_another_function_does_not_shadow_an_import() -> None:
    main = (
        "from util import scale\n\n\ndef other():\n    scale = 3\n    return scale\n"
        + "\n" * 60
        + "def run(v):\n    return scale(\n"
    )
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"util.py": UTIL_PY}),
        max_chars=3000,
    )
    assert "def scale(v, factor=2.5):" in context.text


def test_a_large_document_is_analysed_at_its_head_and_around_the_cursor() -> None:
    filler = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(20_000))
    main = "from util import scale\n\n\n" + filler + "def run(v):\n    return scale(\n"
    assert len(main) > 500_000
    context = gather(
        Document("main.py", "python", main),
        len(main),
        len(main),
        Files({"util.py": UTIL_PY}),
        max_chars=3000,
    )
    assert "def scale(v, factor=2.5):" in context.text


@pytest.mark.parametrize(
    ("path", "language", "main"),
    [
        ("main.py", "python", "from os import path\nimport numpy as np\n\npath.join(np.zeros(\n"),
        ("main.ts", "typescript", 'import { path } from "node:path";\npath.join(\n'),
        ("main.go", "go", 'package main\n\nimport "path"\n\nfunc main() {\n\tpath.Join(\n'),
    ],
)
def test_names_from_packages_are_not_looked_up_in_open_buffers(
    path: str, language: str, main: str
) -> None:
    """`path` is the package's: a workspace file that happens to define `path` (or `np`) is
    not what the code means."""
    files = Files(
        {
            "go.mod": GO_MOD,
            "other.py": "path = '/tmp'\nnp = None\n",
            "other.ts": "export const path = '/tmp';\n",
            "other.go": 'package main\n\nvar path = "/tmp"\n',
        }
    )
    context = gather(
        Document(path, language, main),
        len(main),
        len(main),
        files,
        max_chars=3000,
        open_paths=["other.py", "other.ts", "other.go"],
    )
    assert context.text == ""
