"""botocore's S3 response parser, with hot shapes parsed from a plan: same dicts, less CPU.

A bulk copy parses a listing page of 1,000 objects every 1,000 copies, and one
CopyObject answer per copy. botocore's rest-xml parser handles each generically: it
groups an element's children by tag, then walks every member of the shape, working out
each member's XML name and handler as it goes; for an answer's headers it walks every
member of the output shape and looks each header up case-insensitively. On this
project's 2-core benchmark machine that cost about 0.2 ms per listed object and about
0.3 ms per CopyObject answer: a fifth of a bulk copy's client CPU.

:class:`PlannedParser` is botocore's ``RestXMLParser``, unchanged but for:

* structures named in :data:`PLANNED_SHAPES`: the member lookup (XML name -> member
  name, how to read it) is made once per shape from the same service model, with
  botocore's own naming rule, and each element's children are read in one pass. Scalars
  are read as botocore reads them (string: the text, ``""`` when empty; integer and long:
  ``int``; boolean: ``text == "true"``; timestamp: the parser's timestamp parser);
  flattened lists are collected in document order; anything else goes through
  botocore's ``_parse_shape``. An element the plan cannot read exactly as botocore would
  (a scalar member repeated, a shape with XML attributes, an exception shape) is handed
  to botocore whole;
* header members of an output shape: looked up in one lower-cased copy of the headers,
  from a per-shape list of (header name, member); strings are the header's value, other
  types go through botocore's ``_parse_shape``. A shape with a header map or a status-code
  member is botocore's walk;
* :meth:`PlannedParser.read_dom`: the body parsed once for a caller that must look at
  the document first (S3's error inside a 200 answer) and then parse it: the next
  ``parse`` of the same body in the same thread reuses that parse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.parsers import ResponseParserFactory, RestXMLParser

#: Structures parsed from a plan: S3's listed object (ListObjects and ListObjectsV2
#: ``Contents``), which a bulk copy parses thousands of times per page, and the result of
#: CopyObject, which it parses once per object.
PLANNED_SHAPES = frozenset({"Object", "CopyObjectResult"})
_SCALARS = frozenset({"string", "integer", "long", "boolean", "timestamp"})
T = TypeVar("T")


@dataclass(frozen=True)
class _Member:
    name: str
    shape: Any
    #: "string", "integer", "long", "boolean", "timestamp", "flattened" or "shape".
    kind: str


class PlannedParser(RestXMLParser):
    """botocore's rest-xml parser; hot structures and answer headers read from plans."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, dict[str, _Member] | None] = {}
        self._header_plans: dict[int, list[tuple[str, _Member]] | None] = {}
        #: Every planned shape, held so that no other shape can come to have its id.
        self._shapes: dict[int, Any] = {}
        self._parsed = threading.local()

    def _planned(self, plans: dict[int, T], shape: Any, make: Callable[[Any], T]) -> T:
        """``make(shape)``, made once per shape and kept in ``plans``."""
        key = id(shape)
        if key not in plans:
            self._shapes[key] = shape
            plans[key] = make(shape)
        return plans[key]

    def read_dom(self, body: bytes) -> Any:
        """``body`` parsed as botocore parses it (raises its ``ResponseParserError``).

        The next :meth:`parse` of this same body object in this thread uses this parse.
        """
        botocore: Any = self
        root = botocore._parse_xml_string_to_dom(body)
        self._parsed.body, self._parsed.root = body, root
        return root

    def _initial_body_parse(self, xml_string: Any) -> Any:
        parsed = self._parsed
        body, root = getattr(parsed, "body", None), getattr(parsed, "root", None)
        if body is not None:
            parsed.body = parsed.root = None  # used once: never holds a body longer
            if body is xml_string:
                return root
        botocore: Any = super()
        return botocore._initial_body_parse(xml_string)

    # botocore's private helpers (_parse_shape, _member_key_name, ...) are not in its
    # type stubs: they are reached through ``botocore: Any = self``.

    def _parse_non_payload_attrs(
        self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any
    ) -> None:
        botocore: Any = self
        plan = self._planned(self._header_plans, shape, self._header_plan)
        if plan is None:
            base: Any = super()
            base._parse_non_payload_attrs(response, shape, member_shapes, final_parsed)
            return
        headers = response["headers"]  # a repeated header: its values joined, as botocore sees it
        lowered = {str(name).lower(): headers[name] for name in headers}
        for header, member in plan:
            if header in lowered:
                value = lowered[header]
                if member.kind != "string":
                    value = botocore._parse_shape(member.shape, value)
                final_parsed[member.name] = value

    @staticmethod
    def _header_plan(shape: Any) -> list[tuple[str, _Member]] | None:
        """(lower-case header, member) of ``shape``'s header members; None: botocore's walk."""
        plan: list[tuple[str, _Member]] = []
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            if location is None:
                continue
            if location != "header":
                return None  # a header map or the status code: botocore's rules
            plain = member.type_name == "string" and not member.serialization.get("jsonvalue")
            header = str(member.serialization.get("name", name)).lower()
            plan.append((header, _Member(name, member, "string" if plain else "shape")))
        return plan

    def _handle_structure(self, shape: Any, node: Any) -> Any:
        botocore: Any = super()
        if shape.name in PLANNED_SHAPES and not isinstance(node, list):
            plan = self._planned(self._plans, shape, self._plan)
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


class PlannedParserFactory(ResponseParserFactory):
    """botocore's factory, making :class:`PlannedParser` for rest-xml (S3)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-xml":
            defaults: dict[str, Any] = getattr(self, "_defaults", {})
            return PlannedParser(**defaults)
        return super().create_parser(protocol_name)
