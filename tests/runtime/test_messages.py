"""Classical messages: every type round-trips through msgpack frames; the delay model."""

import dataclasses

import networkx as nx
import numpy as np
import pytest

from qnemu.physics.fiber import propagation_delay_s
from qnemu.wire.classical import ClassicalNetwork
from qnemu.wire.frames import FrameReader, frame
from qnemu.wire.messages import MESSAGE_TYPES, decode, encode


def _example(cls):
    values = {}
    for f in dataclasses.fields(cls):
        values[f.name] = {
            "str": "x-" + f.name,
            "float": 1.25,
            "int": 3,
            "bool": True,
            "list[str]": ["a", "b"],
            "list[list]": [["p", 1.5], ["q", 2.5]],
            "dict[str, Any]": {"name": "t", "rate_hz": 10.0, "path": ["a", "b"]},
        }[f.type]
    return cls(**values)


@pytest.mark.parametrize("cls", list(MESSAGE_TYPES.values()), ids=lambda c: c.__name__)
def test_every_message_type_round_trips_through_a_frame(cls):
    message = _example(cls)
    reader = FrameReader()
    data = frame(encode(message))
    decoded = [decode(item) for item in reader.feed(data[:3])] + [
        decode(item) for item in reader.feed(data[3:])
    ]
    assert decoded == [message]


def test_oversized_frame_is_refused():
    reader = FrameReader(max_frame_bytes=16)
    with pytest.raises(ValueError, match="frame length"):
        list(reader.feed(frame(["x" * 100])))


def test_unknown_message_kind_is_refused():
    with pytest.raises(ValueError, match="unknown code 99"):
        decode([99, "a", "b", 0.0, 0.0])


def _chain():
    graph = nx.Graph()
    graph.add_edge("a", "b", length_km=10.0)
    graph.add_edge("b", "c", length_km=30.0)
    return graph


def test_delay_is_propagation_plus_processing_per_hop():
    network = ClassicalNetwork(_chain(), processing_s=1e-5)
    expected = propagation_delay_s(40.0) + 2e-5
    assert network.delay_s("a", "c") == pytest.approx(expected, rel=1e-12)
    assert network.delay_s("a", "a") == 0.0
    assert network.shortest_hop_delay_s() == pytest.approx(propagation_delay_s(10.0) + 1e-5)


def test_loss_probability_matches_within_four_standard_errors():
    network = ClassicalNetwork(_chain(), loss=0.2)
    rng = np.random.default_rng(1)
    n = 20_000
    lost = sum(network.sample_delay_s(rng, "a", "c") is None for _ in range(n))
    se = np.sqrt(0.2 * 0.8 / n)
    assert abs(lost / n - 0.2) < 4 * se


def test_jitter_never_beats_propagation():
    network = ClassicalNetwork(_chain(), processing_s=1e-5, jitter_s=1e-3)
    rng = np.random.default_rng(2)
    floor = network.delay_s("a", "b") - 1e-5
    delays = [network.sample_delay_s(rng, "a", "b") for _ in range(2000)]
    assert min(delays) >= floor
    assert np.std(delays) > 1e-4


def test_every_message_class_has_a_wire_code():
    """A message kind missing from the codec only fails once it crosses actors (Ray runs)."""
    from qnemu.wire.messages import Message

    kinds = set(MESSAGE_TYPES.values())
    missing = [c.__name__ for c in Message.__subclasses__() if c not in kinds]
    assert not missing
