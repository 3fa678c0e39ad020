"""The type stubs match the extension module, and every public name has a docstring."""

import ast
from pathlib import Path

import grantline
from grantline import _native

STUB = Path(grantline.__file__).with_name("_native.pyi")


def stub_classes():
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign):
                    members.add(item.target.id)
            classes[node.name] = members - {"__init__", "__new__"}
    return classes


def test_the_stubs_describe_exactly_what_the_module_has():
    stubs = stub_classes()
    runtime = {n for n in dir(_native) if isinstance(getattr(_native, n), type)}
    assert set(stubs) == runtime
    for name, members in stubs.items():
        public = {m for m in dir(getattr(_native, name)) if not m.startswith("_")}
        assert members == public, name


def test_every_public_name_has_a_docstring():
    for name in grantline.__all__:
        obj = getattr(grantline, name)
        if not isinstance(obj, type):
            continue
        assert obj.__doc__, name
        for attr in dir(obj):
            if attr.startswith("_") or obj.__module__ == "grantline.errors":
                continue
            assert getattr(obj, attr).__doc__, f"{name}.{attr}"
