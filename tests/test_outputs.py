import os
import pickle

import pytest

from doppelganger_tf.outputs import (Normalization, Output, OutputType, load_original_specs,
                                     outputs_from_json, outputs_to_json, total_dim)

CONT = OutputType.CONTINUOUS
DISC = OutputType.DISCRETE


def test_json_round_trip():
    outputs = [
        Output(CONT, 1, Normalization.ZERO_ONE, name="traffic"),
        Output(CONT, 3, Normalization.MINUSONE_ONE, name="cpu"),
        Output(DISC, 3, name="isp", categories=("att", "comcast", "verizon")),
        Output(DISC, 2, categories=(0, 7)),
        Output(DISC, 2, is_gen_flag=True),
    ]
    assert outputs_from_json(outputs_to_json(outputs)) == outputs
    assert [Output.from_dict(o.to_dict()) for o in outputs] == outputs
    assert total_dim(outputs) == 11


def test_enum_names_are_parsed_case_insensitively():
    assert Output("continuous", 1, "ZERO_ONE") == Output(CONT, 1, Normalization.ZERO_ONE)
    assert Output("DISCRETE", 2).type is DISC


@pytest.mark.parametrize("kwargs, match", [
    (dict(type="categorical", dim=2), "output type"),
    (dict(type="continuous", dim=1, normalization="zero_to_one"), "normalization"),
    (dict(type="continuous", dim=1), "needs a normalization"),
    (dict(type="discrete", dim=0), "positive integer"),
    (dict(type="discrete", dim=2, categories=("a",)), "categories"),
])
def test_bad_specs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Output(**kwargs)


def test_from_dict_rejects_bad_names_and_fields():
    with pytest.raises(ValueError, match="normalization"):
        Output.from_dict({"type": "continuous", "dim": 1, "normalization": "unit"})
    with pytest.raises(ValueError, match="output type"):
        Output.from_dict({"type": "ordinal", "dim": 1})
    with pytest.raises(ValueError, match="unknown Output fields"):
        Output.from_dict({"type": "discrete", "dim": 1, "colour": "red"})


def test_load_real_mba_specs(shared_data):
    attributes = load_original_specs(shared_data / "fcc_mba" / "data_attribute_output.pkl")
    assert [(o.type, o.dim) for o in attributes] == [(DISC, 15), (DISC, 5), (DISC, 53)]
    features = load_original_specs(shared_data / "fcc_mba" / "data_feature_output.pkl")
    assert features == [Output(CONT, 1, Normalization.ZERO_ONE)] * 2


def test_load_real_gcut_specs(shared_data):
    attributes = load_original_specs(shared_data / "gcut_specs" / "data_attribute_output.pkl")
    assert attributes == [Output(DISC, 4)]
    features = load_original_specs(shared_data / "gcut_specs" / "data_feature_output.pkl")
    assert features == [Output(CONT, 1, Normalization.ZERO_ONE)] * 9


def test_corrupt_pickles_raise_value_error(tmp_path, shared_data):
    real = (shared_data / "fcc_mba" / "data_feature_output.pkl").read_bytes()
    with pytest.raises(ValueError, match="cannot read"):
        load_original_specs(real[: len(real) // 2])
    garbage = tmp_path / "data_feature_output.pkl"
    garbage.write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="data_feature_output.pkl"):
        load_original_specs(garbage)
    # a pickle that would call an arbitrary function is refused, not executed
    with pytest.raises(ValueError, match="not part of the original"):
        load_original_specs(pickle.dumps(os.getcwd, protocol=2))
    with pytest.raises(ValueError, match="not an output.Output"):
        load_original_specs(pickle.dumps([1, 2], protocol=2))
