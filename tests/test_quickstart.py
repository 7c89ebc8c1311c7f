"""docs/quickstart.md runs as written (on a small embedded dataset, with fewer epochs):
from a CSV to a generated CSV of the same columns and dtypes, and a fidelity report."""
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from doppelganger_tf.synthetic import make_wwt_like_dataframe

PAGE = Path(__file__).resolve().parents[1] / "docs" / "quickstart.md"
# the page's budget (the suggestion's: 5,000 epochs of one step here) -> a test's: 2 epochs,
# the tracker every epoch
SHORTER = {"epochs=suggestion.epochs": "epochs=2", "every=50": "every=1"}


def quickstart_code() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 1, "docs/quickstart.md should hold one python block"
    code = blocks[0]
    for long, short in SHORTER.items():
        assert long in code, f"docs/quickstart.md no longer says {long!r}: update SHORTER"
        code = code.replace(long, short)
    return code


def test_the_quickstart_runs_from_a_csv_to_a_generated_csv_and_a_report(tmp_path, monkeypatch,
                                                                         capsys):
    df = make_wwt_like_dataframe(60, 28, seed=0)  # SYNTHETIC page views
    df["page"] = "page_" + df["page"].astype(str)
    df["day"] = pd.Timestamp("2015-07-01") + pd.to_timedelta(df["day"], unit="D")
    df.loc[5, "views"] = np.nan  # a gap, which missing="interpolate" fills
    monkeypatch.chdir(tmp_path)
    df.to_csv("pages.csv", index=False)

    exec(compile(quickstart_code(), str(PAGE), "exec"), {"__name__": "quickstart"})

    printed = capsys.readouterr().out
    assert "views" in printed and "discrete" in printed  # describe() and the report's head
    assert "transform log1p (auto: " in printed  # heavy-tailed views: the default takes their log
    # the automatic path: the suggestion (printed by describe) is what trained, keep-best says
    # which epoch it kept
    assert "Suggested settings:" in printed and "sample_len=7: " in printed
    assert "FidelityTracker: kept the weights of" in printed
    config = json.loads((tmp_path / "model" / "model.json").read_text())["config"]
    assert (config["sample_len"], config["batch_size"], config["auto_normalize"],
            config["use_aux_critic"], config["generator_average_decay"]) == (7, 60, True, True,
                                                                             0.98)
    real = pd.read_csv("pages.csv", parse_dates=["day"])
    generated = pd.read_csv("generated.csv", parse_dates=["day"])
    assert list(generated.columns) == list(real.columns)
    assert generated.dtypes.to_dict() == real.dtypes.to_dict()
    assert generated["page"].nunique() == 60 and not set(generated["page"]) & set(real["page"])
    assert set(generated["day"]) <= set(real["day"])  # the same calendar
    assert (generated["views"] >= 0).all()
    assert (tmp_path / "report" / "report.json").exists()
    assert (tmp_path / "model" / "model.json").exists()
