"""YAML as users write it: a key given twice in one mapping is refused, not silently dropped."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is untyped
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:  # "<<: *defaults": later keys may override merged ones
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in lines:
                raise ConstructorError(
                    None,
                    None,
                    f"found the key {key!r} twice in one mapping (first on line {lines[key]}); "
                    "keep one",
                    key_node.start_mark,
                )
            lines[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def load(text: str, source: str) -> Any:
    """``yaml.safe_load`` of ``text`` (read from ``source``, which errors name), refusing a
    mapping that repeats a key (``yaml.YAMLError``)."""
    loader = _UniqueKeyLoader(text)
    loader.name = source
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
