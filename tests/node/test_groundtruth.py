"""Ground truth: lazy decoherence, swaps with Pauli frames, hand-over between hosts."""

import math

import numpy as np
import pytest

from qnemu.physics import analytic, bell_state, werner
from qnemu.truth.store import (
    GroundTruthStore,
    PairRecord,
    swap_records,
    true_fidelity,
    use_qubit,
)


def _record(pair, a, b, rho, t=0.0, t1=math.inf, t2=math.inf):
    return PairRecord(
        pair_id=pair,
        qubits=[(a, pair), (b, pair)],
        rho=rho,
        updated_at_s=[t, t],
        t1_s=[t1, t1],
        t2_s=[t2, t2],
        link_pairs=[pair],
        created_at_s=t,
    )


def test_advance_applies_each_qubits_memory_noise_lazily():
    record = _record("p", "a", "b", bell_state("phi+"), t1=math.inf, t2=0.1)
    record.advance_all(0.05)
    expected = analytic.dephased_fidelity(1.0, 0.05, 0.1, both_halves=True)
    assert true_fidelity(record) == pytest.approx(expected, abs=1e-9)
    record.advance_all(0.05)  # no time passed: unchanged
    assert true_fidelity(record) == pytest.approx(expected, abs=1e-9)


def test_frozen_qubit_stops_decohering():
    record = _record("p", "a", "b", bell_state("phi+"), t2=0.1)
    record.frozen[0] = True
    record.advance_all(0.05)
    expected = analytic.dephased_fidelity(1.0, 0.05, 0.1)
    assert true_fidelity(record) == pytest.approx(expected, abs=1e-9)


def test_swap_of_werner_pairs_then_correction_matches_the_closed_form():
    rng = np.random.default_rng(3)
    for _ in range(20):
        left = _record("l", "a", "b", werner(0.9))
        right = _record("r", "c", "b", werner(0.8))  # stored as (c, b): orientation handled
        outcome, merged = swap_records(left, ("b", "l"), right, ("b", "r"), 0.0, rng, 0.0, 0.0)
        assert merged.qubits == [("a", "l"), ("c", "r")]
        use_qubit(merged, ("c", "r"), 0.0, [outcome])
        assert true_fidelity(merged) == pytest.approx(
            analytic.werner_swap_fidelity(0.9, 0.8), abs=1e-9
        )


def test_chain_of_swaps_in_any_order_returns_phi_plus_after_all_corrections():
    rng = np.random.default_rng(4)
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        nodes = ["n0", "n1", "n2", "n3", "n4"]
        records = {
            f"L{i}": _record(f"L{i}", nodes[i], nodes[i + 1], bell_state("phi+")) for i in range(4)
        }
        holder = {(nodes[i], f"L{i}"): f"L{i}" for i in range(4)}
        holder.update({(nodes[i + 1], f"L{i}"): f"L{i}" for i in range(4)})
        outcomes = []
        for repeater in order:
            node = nodes[repeater + 1]
            q_left, q_right = (node, f"L{repeater}"), (node, f"L{repeater + 1}")
            left, right = records[holder[q_left]], records[holder[q_right]]
            outcome, merged = swap_records(left, q_left, right, q_right, 0.0, rng, 0.0, 0.0)
            outcomes.append(outcome)
            records[merged.pair_id] = merged
            for q in merged.qubits:
                holder[q] = merged.pair_id
        final = records[holder[("n0", "L0")]]
        use_qubit(final, ("n4", "L3"), 0.0, outcomes)
        assert true_fidelity(final) == pytest.approx(1.0, abs=1e-9)


def test_wire_round_trip_keeps_the_state_exactly():
    record = _record("p", "a", "b", werner(0.77), t=0.5, t1=2.0, t2=1.0)
    record.uses["src"] = [0.7, 0.2]
    copy = PairRecord.from_wire(record.to_wire())
    assert copy.qubits == record.qubits and copy.uses == record.uses
    assert np.array_equal(copy.rho, record.rho)
    infinite = PairRecord.from_wire(_record("q", "a", "b", werner(0.9)).to_wire())
    assert infinite.t1_s == [math.inf, math.inf]


class _Hosts:
    """Several stores wired together directly (what the sockets do in a real run)."""

    def __init__(self, n):
        self.queue = []
        self.stores = [GroundTruthStore(i, self._sender(i)) for i in range(n)]

    def _sender(self, i):
        return lambda host, frame: self.queue.append((host, frame))

    def pump(self):
        while self.queue:
            host, frame = self.queue.pop(0)
            self.stores[host].handle(frame)


def test_operation_pulls_remote_records_and_forwards_along_the_trail():
    hosts = _Hosts(3)
    s0, s1, s2 = hosts.stores
    s0.add(_record("L0", "a", "b", werner(0.9)))
    s1.add(_record("L1", "b", "c", werner(0.8)))
    # host 2 (node b's host here) only knows where the records live
    s2.expect(("b", "L0"), 0)
    s2.expect(("b", "L1"), 1)
    done = []
    s2.operate([("b", "L0"), ("b", "L1")], lambda r0, r1: done.append((r0.pair_id, r1.pair_id)))
    assert done == []
    hosts.pump()
    assert done == [("L0", "L1")]
    assert len(s0) == 0 and len(s1) == 0 and len(s2) == 2
    # host 0 asks for its old record: the request follows the trail to host 2
    s0.operate([("a", "L0")], lambda r: done.append(r.pair_id))
    hosts.pump()
    assert done[-1] == "L0" and len(s0) == 1 and len(s2) == 1
    assert s2.handovers == 1 and s0.handovers == 1


def _wired(n, dead):
    """``n`` stores that deliver frames to each other at once (host i owns node "h<i>"),
    except to the hosts in ``dead`` (a killed process: frames to it are lost)."""
    stores: list[GroundTruthStore] = []

    def send(host, frame):
        if host not in dead:
            stores[host].handle(frame)

    for i in range(n):
        stores.append(GroundTruthStore(i, send))
    return stores


def test_a_host_about_to_die_hands_its_records_to_the_live_qubits_hosts():
    """A record owned by host 0 whose qubits sit at hosts 1 and 2 (a pair swapped through
    host 0's node) outlives host 0: host 1 takes it, host 2 learns where it went."""
    dead = set()
    x, y, z = _wired(3, dead)
    record = _record("p", "h1", "h2", bell_state("phi+"))
    x.add(record)
    y.expect(("h1", "p"), 0)
    z.expect(("h2", "p"), 0)
    moved, dropped = x.evacuate(lambda node: int(node[1]), gone={"h0"})
    dead.add(0)
    assert (moved, dropped) == (1, 0) and len(x) == 0
    assert y.record_of(("h1", "p")) is not None
    seen = []
    z.operate([("h2", "p")], lambda r: seen.append(r.pair_id))  # acquired from host 1
    assert seen == ["p"] and z.record_of(("h2", "p")) is not None


def test_a_dying_host_points_stale_trails_past_itself_and_drops_what_only_it_held():
    dead = set()
    x, y, z = _wired(3, dead)
    z.add(_record("q", "h1", "h2", bell_state("phi+")))
    y.expect(("h1", "q"), 0)  # host 1 believes host 0 has it (host 0 let it go to host 2)
    x.expect(("h1", "q"), 2)
    x.add(_record("mine", "h0", "h0", bell_state("phi+")))
    moved, dropped = x.evacuate(lambda node: int(node[1]), gone={"h0"})
    dead.add(0)
    assert (moved, dropped) == (0, 1)
    seen = []
    y.operate([("h1", "q")], lambda r: seen.append(r.pair_id))
    assert seen == ["q"]
