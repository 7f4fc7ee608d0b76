"""botocore's S3 response parser, with listed objects parsed from a plan: same dicts, less CPU.

A bulk copy parses a listing page of 1,000 objects every 1,000 copies. botocore's
rest-xml parser handles each listed object generically: it groups the element's
children by tag, then walks every member of the ``Object`` shape, working out each
member's XML name and handler as it goes. That cost about 0.2 ms per object on this
project's 2-core benchmark machine: an eighth of a bulk copy's client CPU.

:class:`ListingParser` is botocore's ``RestXMLParser``, unchanged but for structures
named in :data:`PLANNED_SHAPES`: for those, the member lookup (XML name -> member name,
how to read it) is made once per shape from the same service model, with botocore's own
naming rule, and each element's children are read in one pass. Scalars are read as
botocore reads them (string: the text, ``""`` when empty; integer and long: ``int``;
boolean: ``text == "true"``; timestamp: the parser's timestamp parser); flattened lists
are collected in document order; anything else goes through botocore's ``_parse_shape``.
An element the plan cannot read exactly as botocore would (a scalar member repeated, a
shape with XML attributes, an exception shape) is handed to botocore whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.parsers import ResponseParserFactory, RestXMLParser

#: Structures parsed from a plan: S3's listed object (ListObjects and ListObjectsV2
#: ``Contents``), the one shape a bulk copy parses thousands of times per page.
PLANNED_SHAPES = frozenset({"Object"})
_SCALARS = frozenset({"string", "integer", "long", "boolean", "timestamp"})


@dataclass(frozen=True)
class _Member:
    name: str
    shape: Any
    #: "string", "integer", "long", "boolean", "timestamp", "flattened" or "shape".
    kind: str


class ListingParser(RestXMLParser):
    """botocore's rest-xml parser; listed objects are read from a per-shape plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, dict[str, _Member] | None] = {}

    # botocore's private helpers (_parse_shape, _member_key_name, ...) are not in its
    # type stubs: they are reached through ``botocore: Any = self``.

    def _handle_structure(self, shape: Any, node: Any) -> Any:
        botocore: Any = super()
        if shape.name in PLANNED_SHAPES and not isinstance(node, list):
            if id(shape) not in self._plans:
                self._plans[id(shape)] = self._plan(shape)
            plan = self._plans[id(shape)]
            if plan is not None:
                parsed = self._read(plan, node)
                if parsed is not None:
                    return parsed
        return botocore._handle_structure(shape, node)

    def _plan(self, shape: Any) -> dict[str, _Member] | None:
        """XML name -> member, or None when botocore's generic walk is needed."""
        botocore: Any = self
        if shape.metadata.get("exception", False) or shape.is_tagged_union:
            return None
        plan: dict[str, _Member] = {}
        for name, member in shape.members.items():
            serialization = member.serialization
            if serialization.get("location") in self.KNOWN_LOCATIONS or serialization.get(
                "eventheader"
            ):
                continue  # botocore skips these in a body too
            if serialization.get("xmlAttribute"):
                return None
            if member.type_name in _SCALARS and member.type_name != "string":
                kind = member.type_name
            elif member.type_name == "string" and not serialization.get("jsonvalue"):
                kind = "string"
            elif member.type_name == "list" and serialization.get("flattened"):
                kind = "flattened"
            else:
                kind = "shape"
            xml_name = botocore._member_key_name(member, name)
            if xml_name in plan:
                return None  # two members on one element: botocore's rules decide
            plan[xml_name] = _Member(name, member, kind)
        return plan

    def _read(self, plan: dict[str, _Member], node: Any) -> dict[str, Any] | None:
        """The element's members, or None to let botocore parse it."""
        botocore: Any = self
        parsed: dict[str, Any] = {}
        for child in node:
            tag = child.tag
            if "}" in tag:
                tag = botocore._node_tag(child)
            member = plan.get(tag)
            if member is None:
                continue  # botocore ignores elements the model does not name
            kind = member.kind
            if kind == "flattened":
                parsed.setdefault(member.name, []).append(
                    botocore._parse_shape(member.shape.member, child)
                )
                continue
            if member.name in parsed:
                return None  # a repeated scalar: botocore has its own (odd) rule
            if kind == "shape":
                parsed[member.name] = botocore._parse_shape(member.shape, child)
                continue
            text = child.text
            if text is None:
                text = ""
            if kind == "string":
                parsed[member.name] = text
            elif kind == "timestamp":
                parsed[member.name] = botocore._timestamp_parser(text)
            elif kind == "boolean":
                parsed[member.name] = text == "true"
            else:
                parsed[member.name] = int(text)
        return parsed


class ListingParserFactory(ResponseParserFactory):
    """botocore's factory, making :class:`ListingParser` for rest-xml (S3)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-xml":
            defaults: dict[str, Any] = getattr(self, "_defaults", {})
            return ListingParser(**defaults)
        return super().create_parser(protocol_name)
