"""The type stubs match the extension module, and every public name has a docstring."""

import ast
import re
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


def test_each_asyncio_class_in_the_stubs_mirrors_its_blocking_twin():
    # The runtime classes come from one declaration (bindings-py/src/twins.rs); the stub writes
    # both, so it is held to the same rule: every `AsyncX` member is `X`'s, with the same
    # parameters and defaults, a coroutine where `X` waits, returning the asyncio twin's types.
    tree = ast.parse(STUB.read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    twins = {name: name[len("Async"):] for name in classes if name.startswith("Async")}
    assert set(twins.values()) <= set(classes)

    def to_asyncio(annotation):
        text = ast.unparse(annotation)
        for asyncio_name, blocking_name in twins.items():
            text = re.sub(rf"\b{blocking_name}\b", asyncio_name, text)
        return text

    def members(cls):
        return {item.name: item for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}

    for asyncio_name, blocking_name in twins.items():
        blocking, asyncio = members(classes[blocking_name]), members(classes[asyncio_name])
        assert set(asyncio) == set(blocking), asyncio_name
        for name, sync_def in blocking.items():
            async_def, where = asyncio[name], f"{asyncio_name}.{name}"
            assert ast.dump(async_def.args) == ast.dump(sync_def.args), where
            assert ast.unparse(async_def.returns) == to_asyncio(sync_def.returns), where
            waits = not sync_def.decorator_list and name != "__new__"
            assert isinstance(async_def, ast.AsyncFunctionDef) == waits, where
            assert [ast.unparse(d) for d in async_def.decorator_list] == [ast.unparse(d) for d in sync_def.decorator_list], where
