"""Signed, versioned detector state: what is restored and what is refused (detectors.state)."""

from __future__ import annotations

import json
import pickle

import pytest

from detectors import state
from detectors.ensemble import default_detector
from detectors.ewma import EwmaZScore
from detectors.multiscale import MultiScaleLevel
from detectors.state import RejectReason, StateRejected, read_header, restore_state, save_state

KEY = b"0123456789abcdef-test-key"


def trained(n: int = 200) -> MultiScaleLevel:
    detector = MultiScaleLevel(warmup=10)
    for i in range(n):
        detector.learn_one(5.0 + (i % 11) * 0.1)
    return detector


def test_round_trip_restores_the_same_model() -> None:
    original = trained()
    restored = restore_state(save_state(original, KEY), MultiScaleLevel(warmup=10), KEY)
    assert restored is not original
    for value in (5.3, 9.0, 5.0):
        assert restored.score_one(value) == original.score_one(value)


def test_header_names_kind_parameters_and_versions() -> None:
    header = read_header(save_state(trained(), KEY), KEY)
    assert header.kind == "multiscale_level"
    assert header.parameters["warmup"] == 10
    assert header.format_version == state.FORMAT_VERSION
    assert header.river_version


@pytest.mark.parametrize("position", [0, 5, 40, -1])
def test_any_flipped_byte_is_refused_before_unpickling(
    position: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = bytearray(save_state(trained(), KEY))
    blob[position] ^= 0x01
    monkeypatch.setattr(pickle, "loads", lambda *_: pytest.fail("unpickled unverified bytes"))
    with pytest.raises(StateRejected) as error:
        restore_state(bytes(blob), MultiScaleLevel(warmup=10), KEY)
    assert error.value.reason in (RejectReason.SIGNATURE, RejectReason.MALFORMED)


def test_another_key_is_refused() -> None:
    with pytest.raises(StateRejected) as error:
        restore_state(save_state(trained(), KEY), MultiScaleLevel(warmup=10), b"another-key-of-16+bytes")
    assert error.value.reason is RejectReason.SIGNATURE


def test_unsigned_pickle_is_refused() -> None:
    with pytest.raises(StateRejected) as error:
        restore_state(pickle.dumps(trained()), MultiScaleLevel(warmup=10), KEY)
    assert error.value.reason is RejectReason.MALFORMED


def test_other_parameters_or_kind_mean_rewarm() -> None:
    blob = save_state(trained(), KEY)
    with pytest.raises(StateRejected) as error:
        restore_state(blob, MultiScaleLevel(warmup=20), KEY)
    assert error.value.reason is RejectReason.PARAMETERS
    with pytest.raises(StateRejected) as error:
        restore_state(blob, EwmaZScore(), KEY)
    assert error.value.reason is RejectReason.KIND


def test_other_river_or_format_version_means_rewarm(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = save_state(trained(), KEY)
    monkeypatch.setattr(state, "_river_version", lambda: "0.0.1")
    with pytest.raises(StateRejected) as error:
        restore_state(blob, MultiScaleLevel(warmup=10), KEY)
    assert error.value.reason is RejectReason.RIVER_VERSION
    monkeypatch.undo()
    monkeypatch.setattr(state, "FORMAT_VERSION", state.FORMAT_VERSION + 1)
    with pytest.raises(StateRejected) as error:
        restore_state(blob, MultiScaleLevel(warmup=10), KEY)
    assert error.value.reason is RejectReason.FORMAT


def test_signed_garbage_header_is_malformed_not_a_crash() -> None:
    signed = (3).to_bytes(4, "big") + b"{x}" + b"payload"
    blob = state.MAGIC + state._mac(KEY, signed) + signed
    with pytest.raises(StateRejected) as error:
        read_header(blob, KEY)
    assert error.value.reason is RejectReason.MALFORMED


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        save_state(default_detector(), b"short")


def test_header_is_canonical_json() -> None:
    header = read_header(save_state(EwmaZScore(), KEY), KEY)
    assert json.loads(header.encode()) == {
        "kind": "ewma_z",
        "parameters": header.parameters,
        "river_version": header.river_version,
        "format_version": state.FORMAT_VERSION,
    }


def test_saved_headers_come_from_a_cache_per_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    state._header_bytes.cache_clear()
    ten, twenty = MultiScaleLevel(warmup=10), MultiScaleLevel(warmup=20)
    for model in (ten, twenty, ten, twenty, ten):
        header = read_header(save_state(model, KEY), KEY)
        assert header.encode() == state.StateHeader.of(model).encode()
    assert state._header_bytes.cache_info().misses == 2, "one header built per configuration"
    assert state._header_bytes.cache_info().hits == 3
    monkeypatch.setattr(state, "FORMAT_VERSION", state.FORMAT_VERSION + 1)
    assert read_header(save_state(ten, KEY), KEY).format_version == state.FORMAT_VERSION
