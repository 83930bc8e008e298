"""The one backend registry: names, helpful errors, every target importable, the CLI reads it."""

from __future__ import annotations

import importlib

import pytest

from anim400k import registry
from anim400k.errors import BackendUnavailable, InputError
from anim400k.registry import Backend, Registry

ALL = [registry.ASR, registry.DIARIZERS, registry.SEPARATORS, registry.SYNTHESIZERS, registry.TRANSLATORS,
       registry.CONDENSERS, registry.VADS, registry.EXPORT_FORMATS]


@pytest.mark.parametrize("reg", ALL, ids=lambda r: r.what)
def test_every_registered_target_exists(reg: Registry) -> None:
    for name in reg.names():
        backend = reg[name]
        module, _, attr = backend.target.partition(":")
        assert hasattr(importlib.import_module(module), attr), backend.target


def test_unknown_name_lists_the_choices() -> None:
    choices = r"\(choose from: anime, campplus, embedded, pyannote\)"
    with pytest.raises(InputError, match=r"unknown diarizer 'nope' " + choices):
        registry.DIARIZERS.create("nope")
    with pytest.raises(InputError, match="or package.module:function"):
        registry.CONDENSERS.load("shorten")


def test_missing_dependency_names_the_extra() -> None:
    reg = Registry("widget", [Backend("w", "json:dumps", "widgets", ("no_such_module_anywhere",))])
    assert reg.available() == {}
    with pytest.raises(BackendUnavailable, match=r"pip install 'anim400k\[widgets\]'.*no_such_module_anywhere"):
        reg.create("w")
    broken = Registry("widget", [Backend("w", "no_such_module_anywhere:f", "widgets")])
    with pytest.raises(BackendUnavailable, match=r"anim400k\[widgets\]"):
        broken.load("w")


def test_register_and_custom_hooks() -> None:
    reg = Registry("hook", [], custom=True)
    reg.register("dumps", "json:dumps", summary="JSON")
    assert reg.names() == ["dumps"] and reg.available() == {"dumps": "JSON"}
    assert reg.create("dumps", obj=[1]) == "[1]"
    assert reg.load("textwrap:shorten").__name__ == "shorten"
    with pytest.raises(InputError, match="cannot import the hook"):
        reg.load("textwrap:nope")
    assert reg.choices() == "dumps"


def test_cli_choices_come_from_the_registry(capsys) -> None:
    from anim400k.cli import main

    main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert registry.DIARIZERS.choices() in text.replace("│ ", "").replace(" │", "") or all(
        name in text for name in registry.DIARIZERS.names())
