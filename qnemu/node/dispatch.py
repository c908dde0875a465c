"""Message dispatch for node logic: handlers tagged by the message type they take.

Like the controllers' ``@handles`` (:mod:`qnemu.control.api`): each part of a node (the
node itself, its link layer, its end-node side) tags the methods that handle a classical
message with ``@receives(MessageType)``; the node binds them into one table keyed on the
message's type. A type with two handlers is an error when the table is built, not a
silent choice at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from qnemu.wire.messages import Message

_RECEIVES = "_qnemu_receives"

F = TypeVar("F", bound=Callable[..., None])

#: A bound handler: it takes the one message type it was registered for.
Handler = Callable[[Any], None]


def receives(*message_types: type[Message]) -> Callable[[F], F]:
    """Mark a method as the handler of the given classical message types."""
    if not message_types:
        raise TypeError("receives(): name at least one message type")

    def mark(method: F) -> F:
        setattr(method, _RECEIVES, message_types)
        return method

    return mark


def handler_table(*parts: object) -> dict[type[Message], Handler]:
    """The tagged handlers of ``parts``, bound, by message type.

    Raises TypeError if two handlers claim one type (whether in one part or in two).
    """
    table: dict[type[Message], Handler] = {}
    owners: dict[type[Message], str] = {}
    for part in parts:
        for name in _tagged(type(part)):
            method = getattr(part, name)
            for message_type in getattr(method, _RECEIVES):
                where = f"{type(part).__name__}.{name}"
                if message_type in table:
                    raise TypeError(
                        f"{message_type.__name__} is handled twice: by "
                        f"{owners[message_type]} and by {where}"
                    )
                table[message_type] = method
                owners[message_type] = where
    return table


def _tagged(cls: type) -> list[str]:
    """Names of the methods of ``cls`` (and its bases) tagged with ``@receives``."""
    names: dict[str, None] = {}  # ordered: the table's order does not depend on hashing
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if hasattr(value, _RECEIVES):
                names[name] = None
    return list(names)
