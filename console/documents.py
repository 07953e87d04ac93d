"""Documents a client sends (Edit YAML's text, the API's JSON bodies), bounded at the door, before
anything walks them: their size, how deeply they nest, and, for YAML, no anchors or aliases. A
400-byte YAML document of nested aliases expands to hundreds of megabytes once something
serialises it, and a deeply nested one exhausts Python's recursion."""

import json

import yaml

# A route with many rules and 256 KiB of annotations fits well inside this.
MAX_BYTES = 1024 * 1024
# Nesting, counted in mappings and lists: an Ingress goes about 10 deep, a batch of routes 8.
MAX_DEPTH = 32


class DocumentError(ValueError):
    """A document refused before it was read, with the reason in a user's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_size(length: int) -> None:
    if length > MAX_BYTES:
        raise DocumentError(
            f"This document is too large: at most {MAX_BYTES // 1024} KiB (it has {length // 1024} KiB)."
        )


def too_deep() -> DocumentError:
    return DocumentError(f"This document nests too deeply: at most {MAX_DEPTH} levels of mappings and lists.")


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases and nesting past MAX_DEPTH as it composes
    (before any value is built)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1
            raise DocumentError(
                f"Line {line}: YAML anchors and aliases (& and *) are not accepted; write each value out."
            )
        nests = isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent)
        self.depth += nests
        try:
            if self.depth > MAX_DEPTH:
                raise too_deep()
            return super().compose_node(parent, index)
        finally:
            self.depth -= nests


def load_yaml(text: str) -> list:
    """The documents of a YAML text (empty ones left out); raises DocumentError for a text too large,
    too deep or with anchors, and yaml.YAMLError for one that is not YAML."""
    check_size(len(text.encode()))
    return [doc for doc in yaml.load_all(text, Loader=_BoundedLoader) if doc is not None]


def load_json(data: bytes | str):
    """A JSON document (no NaN or Infinity); raises DocumentError for one too large or too deep and
    ValueError for one that is not JSON."""
    check_size(len(data))
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep() from None
    check_depth(value)
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value.")


def check_depth(value) -> None:
    """Refuses data whose mappings and lists nest past MAX_DEPTH, walking it without recursion."""
    level, depth = [value], 0
    while level := [node for node in level if isinstance(node, dict | list)]:
        depth += 1
        if depth > MAX_DEPTH:
            raise too_deep()
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)]
